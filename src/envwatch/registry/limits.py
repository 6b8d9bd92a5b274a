"""Permit limits in force (排污许可): the one query every reader of limits uses.

Each limit holds for an averaging period: an hourly mean (``1h``, air
emission standards), a daily mean (``24h``: wastewater, GB 18918; an
incinerator's 24-hour limits, GB 18485) or each value (``instant``). A
value is judged only against the limits of its own period. A limit without
a period takes its outlet kind's usual one (``DEFAULT_PERIODS``). A
two-sided limit (pH 6-9) has a lower bound too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import Connection, select

from envwatch.permits.store import limit_in_force_version
from envwatch.store.schema import Outlet, PermitLimit


class AveragingPeriod(StrEnum):
    HOUR = "1h"
    DAY = "24h"
    INSTANT = "instant"


PERIOD_NAMES_ZH: Final = {
    AveragingPeriod.HOUR: "小时均值",
    AveragingPeriod.DAY: "日均值",
    AveragingPeriod.INSTANT: "瞬时值",
}
DEFAULT_PERIODS: Final = {"air": AveragingPeriod.HOUR, "water": AveragingPeriod.DAY}
"""[I] rules.md §1.3: emission standards for boilers and power are hourly
limits, effluent standards judge the daily (24 h composite) value."""


def period_of(stored: str | None, outlet_kind: str | None) -> AveragingPeriod:
    """A limit's period: as stored, else its outlet kind's usual one."""
    if stored:
        return AveragingPeriod(stored)
    return DEFAULT_PERIODS.get(outlet_kind or "", AveragingPeriod.HOUR)


@dataclass(frozen=True, slots=True)
class LimitInForce:
    value: float
    unit: str
    basis: str
    reference_o2: float | None
    period: AveragingPeriod = AveragingPeriod.HOUR
    lower: float | None = None


def limits_in_force(
    connection: Connection, now: datetime
) -> Mapping[int, Mapping[str, tuple[LimitInForce, ...]]]:
    """By outlet and pollutant, the limits in force at ``now`` (China Standard
    Time, naive), by period (hourly first) and strictest first within one: a
    national standard, a stricter local one and the permit may all apply; the
    strictest is judged, the others shown. Of a permit, only its newest
    version's limits (``permits/store.py``)."""
    found: dict[int, dict[str, list[LimitInForce]]] = {}
    for row in connection.execute(
        select(PermitLimit, Outlet.kind.label("outlet_kind"))
        .join(Outlet, Outlet.id == PermitLimit.outlet_id)
        .where(PermitLimit.valid_from <= now, limit_in_force_version())
    ).all():
        if row.valid_to is not None and row.valid_to <= now:
            continue
        assert row.outlet_id is not None
        found.setdefault(row.outlet_id, {}).setdefault(row.pollutant, []).append(
            LimitInForce(row.limit_value, row.unit, row.basis, row.reference_o2,
                         period_of(row.averaging_period, row.outlet_kind), row.lower_value)
        )  # fmt: skip
    order = list(AveragingPeriod)
    return {
        outlet: {
            code: tuple(sorted(limits, key=lambda limit: (order.index(limit.period), limit.value)))
            for code, limits in by_code.items()
        }
        for outlet, by_code in found.items()
    }
