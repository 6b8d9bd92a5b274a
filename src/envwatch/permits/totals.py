"""Totals of a year against the permit (pure), rules.md §5.2: the actual
emission split by method, its share of the annual permitted total, a linear
projection to year end and the status the thresholds of ``permits.toml``
give: alarm at ≥ 100 %, warning at ≥ 80 % or a projection above 100 %."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from envwatch.permits.accounting import Method
from envwatch.permits.parameters import Totals

KG_PER_TONNE = 1000.0


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"  # 排放总量预警
    ALARM = "alarm"  # 排放总量报警
    NO_PERMIT = "no_permit"  # no annual permitted total to compare with


@dataclass(frozen=True, slots=True)
class PollutantTotal:
    code: str
    permitted_t: float | None
    actual_t: float
    measured_t: float
    substituted_t: float
    direct_t: float
    manual_t: float
    share: float | None
    projection_t: float | None
    status: Status


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1), datetime(year + 1, 1, 1)


def projection(actual_t: float, year: int, accounted_until: datetime | None) -> float | None:
    """The actual total extended linearly to year end from the time accounted
    so far (the end of the newest accounted hour); None before any hour."""
    start, end = year_bounds(year)
    if accounted_until is None or accounted_until <= start:
        return None
    elapsed = (min(accounted_until, end) - start).total_seconds()
    return actual_t * (end - start).total_seconds() / elapsed


def status_of(
    share: float | None, permitted_t: float | None, projected_t: float | None, thresholds: Totals
) -> Status:
    if share is None or permitted_t is None:
        return Status.NO_PERMIT
    if share >= thresholds.alarm_share:
        return Status.ALARM
    if share >= thresholds.warning_share or (
        projected_t is not None and projected_t > thresholds.projection_share * permitted_t
    ):
        return Status.WARNING
    return Status.OK


def pollutant_total(  # noqa: PLR0917 - the facts of one pollutant's year
    code: str,
    kg_by_method: Mapping[str, float],
    permitted_t: float | None,
    year: int,
    accounted_until: datetime | None,
    thresholds: Totals,
) -> PollutantTotal:
    """One pollutant's year: ``kg_by_method`` the accounted kilograms by method."""

    def tonnes(method: Method) -> float:
        return kg_by_method.get(str(method), 0.0) / KG_PER_TONNE

    parts = {method: tonnes(method) for method in
             (Method.MEASURED, Method.SUBSTITUTED, Method.DIRECT, Method.MANUAL)}  # fmt: skip
    actual = sum(parts.values())
    share = None if not permitted_t else actual / permitted_t
    projected = projection(actual, year, accounted_until)
    return PollutantTotal(
        code, permitted_t, actual, parts[Method.MEASURED], parts[Method.SUBSTITUTED],
        parts[Method.DIRECT], parts[Method.MANUAL], share, projected,
        status_of(share, permitted_t or None, projected, thresholds),
    )  # fmt: skip
