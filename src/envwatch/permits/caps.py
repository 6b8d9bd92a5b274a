"""Monthly and seasonal caps of a permit judged like the annual total (pure),
rules.md §5.2: a permit may cap a pollutant's emissions per calendar month
(月许可排放量) or over a season of every year (e.g. the heating season
11-15 to 03-15); the actual emission of the period so far is compared with
its cap with the thresholds of ``permits.toml`` ``[totals]``: alarm at
≥ 100 %, warning at ≥ 80 % or a linear projection to the period's end above
100 %."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from envwatch.permits.accounting import Method
from envwatch.permits.parameters import Totals
from envwatch.permits.totals import KG_PER_TONNE, Status, status_of

SEASON_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
"""A season's first or last day: MM-DD."""


class CapKind(StrEnum):
    MONTH = "month"  # 月许可排放量
    SEASON = "season"  # 季节（时段）许可排放量


@dataclass(frozen=True, slots=True)
class CapPeriod:
    kind: CapKind
    label: str
    """2026-03, or the season's dates 2025-11-15~2026-03-15."""
    start: datetime
    end: datetime
    """Exclusive: the day after the last."""


@dataclass(frozen=True, slots=True)
class CapTotal:
    code: str
    period: CapPeriod
    cap_t: float
    actual_t: float
    share: float
    projection_t: float | None
    status: Status


def season_day(text: str, year: int) -> date:
    """``MM-DD`` of ``year`` (02-29 of a common year is 02-28); ValueError if not MM-DD."""
    if not SEASON_DAY.match(text):
        raise ValueError(f"{text!r} is not a day MM-DD")
    month, day = int(text[:2]), int(text[3:])
    try:
        return date(year, month, day)
    except ValueError:
        if (month, day) == (2, 29):
            return date(year, 2, 28)
        raise


def checked_season_day(text: str | None) -> str | None:
    """``text`` if it is a day of the year MM-DD (a validator); ValueError if not."""
    if text is not None:
        season_day(text, 2024)  # a leap year: 02-29 is a day
    return text


def month_period(day: datetime) -> CapPeriod:
    start = datetime(day.year, day.month, 1)
    end = datetime(day.year + day.month // 12, day.month % 12 + 1, 1)
    return CapPeriod(CapKind.MONTH, f"{start:%Y-%m}", start, end)


def season_period(day: datetime, season_from: str, season_to: str) -> CapPeriod | None:
    """The season (from ``season_from`` to ``season_to`` inclusive, over the new
    year when it ends before it starts) that ``day`` falls in; None outside it."""
    for first_year in (day.year - 1, day.year):
        first = season_day(season_from, first_year)
        last = season_day(season_to, first_year)
        if last < first:
            last = season_day(season_to, first_year + 1)
        start = datetime.combine(first, datetime.min.time())
        end = datetime.combine(last, datetime.min.time()) + timedelta(days=1)
        if start <= day < end:
            return CapPeriod(CapKind.SEASON, f"{first:%Y-%m-%d}~{last:%Y-%m-%d}", start, end)
    return None


def period_projection(
    actual_t: float, start: datetime, end: datetime, accounted_until: datetime | None
) -> float | None:
    """The actual total extended linearly to ``end`` from the time accounted so
    far in [start, end); None before any hour of it."""
    if accounted_until is None or accounted_until <= start:
        return None
    elapsed = (min(accounted_until, end) - start).total_seconds()
    return actual_t * (end - start).total_seconds() / elapsed


def cap_total(  # noqa: PLR0917 - the facts of one pollutant's period
    code: str,
    period: CapPeriod,
    cap_t: float,
    kg_by_method: Mapping[str, float],
    accounted_until: datetime | None,
    thresholds: Totals,
) -> CapTotal:
    """One pollutant's period against its cap (> 0 t): ``kg_by_method`` the
    period's accounted kilograms by method (measured, substituted, direct, manual)."""
    if cap_t <= 0:
        raise ValueError("a cap is a positive number of tonnes")
    accounted = (Method.MEASURED, Method.SUBSTITUTED, Method.DIRECT, Method.MANUAL)
    actual = sum(kg_by_method.get(str(m), 0.0) for m in accounted) / KG_PER_TONNE
    projected = period_projection(actual, period.start, period.end, accounted_until)
    share = actual / cap_t
    return CapTotal(code, period, cap_t, actual, share, projected,
                    status_of(share, cap_t, projected, thresholds))  # fmt: skip
