"""Air-quality statistics (pure): a station-day from its hours, an area-day
from its stations, and the statistics of a month, quarter or year per HJ 663
with the composite index (综合指数), by edition.

Hours are start-labelled as HJ 212 data times are (hour 8 is 08:00–09:00), so
the O3 8-h windows of a day start at hours 0 to 16 ("8时至24时" in the
standard's hour-ending words). Every statistic carries whether it is valid
(GB 3095 Table 4); an invalid one is None with its count, never silently
computed from too few values.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from envwatch.quality.aqi import AqiReport, daily_report, rounded
from envwatch.quality.editions import Edition, Editions, air_editions

MEAN_POLLUTANTS = ("PM2_5", "PM10", "SO2", "NO2", "CO")
"""Pollutants whose daily statistic is the 24-h mean."""

DAY_KEYS = ("PM2_5", "PM10", "SO2", "NO2", "CO", "O3_8h", "O3_1h")
"""A day's statistics: 24-h means, the O3 daily maximum 8-h mean (MDA8) and
the O3 daily maximum 1-h value."""

INDICATOR_OF_DAY_KEY = {
    "PM2_5": "PM2_5_24h",
    "PM10": "PM10_24h",
    "SO2": "SO2_24h",
    "NO2": "NO2_24h",
    "CO": "CO_24h",
    "O3_8h": "O3_8h",
    "O3_1h": "O3_1h",
}


@dataclass(frozen=True, slots=True)
class DayStatistics:
    """One station's (or area's) day: its statistics, how many values each
    came from, whether each is valid, and the daily AQI."""

    day: date
    edition: str
    values: Mapping[str, Decimal | None]
    """Valid statistics by ``DAY_KEYS`` key; None where invalid or missing."""
    counts: Mapping[str, int]
    """Hours behind each 24-h statistic; for O3_8h the valid 8-h windows."""
    valid: Mapping[str, bool]
    aqi: AqiReport


def mean(values: Iterable[float | Decimal]) -> Decimal | None:
    items = [Decimal(repr(v)) if isinstance(v, float) else v for v in values]
    return sum(items, Decimal(0)) / len(items) if items else None


def o3_8h_windows(hours: Sequence[float | None], min_hours: int) -> list[Decimal | None]:
    """The day's 17 O3 8-h means (windows starting at hours 0–16), each None
    when it has fewer than ``min_hours`` values."""
    windows: list[Decimal | None] = []
    for start in range(17):
        present = [v for v in hours[start : start + 8] if v is not None]
        windows.append(mean(present) if len(present) >= min_hours else None)
    return windows


def day_statistics(
    day: date, hours: Mapping[str, Sequence[float | None]], edition: Edition | None = None
) -> DayStatistics:
    """A station-day from its 24 hourly values per pollutant (index = hour of
    day, None = missing) [µg/m³; CO mg/m³]."""
    edition = edition or air_editions().edition_for(day)
    rules = edition.validity
    values: dict[str, Decimal | None] = {}
    counts: dict[str, int] = {}
    valid: dict[str, bool] = {}
    for pollutant in MEAN_POLLUTANTS:
        present = [v for v in _day_hours(hours, pollutant) if v is not None]
        counts[pollutant] = len(present)
        valid[pollutant] = len(present) >= rules.daily_min_hours
        average = mean(present)
        values[pollutant] = (
            rounded(edition, pollutant, average)
            if valid[pollutant] and average is not None
            else None
        )
    o3 = _day_hours(hours, "O3")
    windows = o3_8h_windows(o3, rules.window_8h_min_hours)
    good = [w for w in windows if w is not None]
    counts["O3_8h"] = len(good)
    mda8 = rounded(edition, "O3", max(good)) if good else None
    # HJ 663: fewer valid windows still give a valid MDA8 when it exceeds the limit.
    valid["O3_8h"] = mda8 is not None and (
        len(good) >= rules.mda8_min_windows or mda8 > Decimal(repr(edition.limits["O3_8h"]))
    )
    values["O3_8h"] = mda8 if valid["O3_8h"] else None
    o3_present = [v for v in o3 if v is not None]
    counts["O3_1h"] = len(o3_present)
    valid["O3_1h"] = len(o3_present) >= rules.daily_min_hours
    values["O3_1h"] = (
        rounded(edition, "O3", max(o3_present)) if valid["O3_1h"] and o3_present else None
    )
    return DayStatistics(day, edition.id, values, counts, valid, day_aqi(edition, values))


def _day_hours(hours: Mapping[str, Sequence[float | None]], pollutant: str) -> list[float | None]:
    row = list(hours.get(pollutant, ()))[:24]
    return row + [None] * (24 - len(row))


def day_aqi(edition: Edition, values: Mapping[str, Decimal | None]) -> AqiReport:
    """The daily AQI from a day's statistics by ``DAY_KEYS`` key."""
    return daily_report(
        edition, {INDICATOR_OF_DAY_KEY[key]: value for key, value in values.items()}
    )


def area_day(
    day: date, stations: Sequence[DayStatistics], edition: Edition | None = None
) -> DayStatistics:
    """An area's (county's, city's) day: each statistic the mean of its
    stations' valid values that day, the AQI from those (HJ 663)."""
    edition = edition or air_editions().edition_for(day)
    values: dict[str, Decimal | None] = {}
    counts: dict[str, int] = {}
    valid: dict[str, bool] = {}
    for key in DAY_KEYS:
        present = [s.values[key] for s in stations if s.values.get(key) is not None]
        counts[key] = len(present)
        valid[key] = bool(present)
        average = mean(v for v in present if v is not None)
        values[key] = None if average is None else rounded(edition, _pollutant(key), average)
    return DayStatistics(day, edition.id, values, counts, valid, day_aqi(edition, values))


def _pollutant(day_key: str) -> str:
    return "O3" if day_key.startswith("O3") else day_key


def percentile(values: Sequence[Decimal | float], p: float) -> Decimal | None:
    """The p-th percentile per HJ 663: k = 1 + (n−1)·p/100, s = ⌊k⌋,
    X_p = X_(s) + (X_(s+1) − X_(s))·(k − s) over the values sorted ascending
    (numpy's ``percentile(method="linear")``)."""
    ordered = sorted(Decimal(repr(v)) if isinstance(v, float) else v for v in values)
    if not ordered:
        return None
    k = 1 + (len(ordered) - 1) * Decimal(repr(p)) / 100
    s = math.floor(k)
    low = ordered[s - 1]
    high = ordered[s] if s < len(ordered) else low
    return low + (high - low) * (k - s)


@dataclass(frozen=True, slots=True)
class Statistic:
    """A period statistic with how many daily values it came from and
    whether that is enough."""

    value: Decimal | None
    days: int
    required: int
    valid: bool


@dataclass(frozen=True, slots=True)
class EditionPart:
    edition: str
    first: date
    last: date
    days: int


@dataclass(frozen=True, slots=True)
class PeriodStatistics:
    """A period's statistics (HJ 663): PM2.5, PM10, SO2 and NO2 means of daily
    values, the CO 95th percentile of daily means, the O3 90th percentile of
    MDA8; days of each AQI class; the composite index. A period spanning an
    edition change lists its ``parts``; each day was judged by its own
    edition, and the index divides each part by its edition's divisors."""

    first: date
    last: date
    statistics: Mapping[str, Statistic]
    """By ``PM2_5 PM10 SO2 NO2 CO_p95 O3_8h_p90``."""
    aqi_days: int
    good_days: int
    """AQI ≤ 100 (优良)."""
    heavy_days: int
    """AQI > 200 (重度及以上污染)."""
    composite_index: Decimal | None
    parts: tuple[EditionPart, ...]
    missing_for_index: tuple[str, ...] = field(default=())

    @property
    def good_day_ratio(self) -> Decimal | None:
        """Share of days with an AQI that were good or excellent [%]."""
        if not self.aqi_days:
            return None
        return Decimal(self.good_days * 100) / self.aqi_days

    @property
    def valid(self) -> bool:
        return all(s.valid for s in self.statistics.values())


def required_days(first: date, last: date, edition: Edition) -> int:
    """Daily values a statistic over ``first``..``last`` needs: per calendar
    month, its days in the period less the days the month may miss (27 of 31,
    25 of 28); a whole year needs at least ``year_min_days``. Partial months
    (a month to date) follow the same allowance. [I] for partial periods."""
    rules = edition.validity
    needed = 0
    cursor = first
    while cursor <= last:
        length = calendar.monthrange(cursor.year, cursor.month)[1]
        month_last = min(last, date(cursor.year, cursor.month, length))
        covered = (month_last - cursor).days + 1
        needed += max(0, covered - (length - rules.month_min(cursor.month)))
        cursor = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
    span = (last - first).days + 1
    days_in_year = 366 if calendar.isleap(first.year) else 365
    if first.month == 1 and first.day == 1 and span >= days_in_year:
        needed = max(needed, rules.year_min_days)
    return needed


PERIOD_KEYS = ("PM2_5", "PM10", "SO2", "NO2", "CO_p95", "O3_8h_p90")
INDEX_POLLUTANT = {
    "PM2_5": "PM2_5",
    "PM10": "PM10",
    "SO2": "SO2",
    "NO2": "NO2",
    "CO_p95": "CO",
    "O3_8h_p90": "O3",
}


def period_statistics(
    days: Sequence[DayStatistics], first: date, last: date, editions: Editions | None = None
) -> PeriodStatistics:
    """The statistics of ``first``..``last`` (inclusive) from the days in it."""
    editions = editions or air_editions()
    inside = [d for d in days if first <= d.day <= last]
    parts = editions.parts_by_edition(first, last)
    # Validity counts days against each part's own rules, summed.
    required = sum(required_days(a, b, edition) for edition, a, b in parts)
    latest = parts[-1][0]
    statistics: dict[str, Statistic] = {}
    for key in PERIOD_KEYS:
        pollutant = INDEX_POLLUTANT[key]
        day_key = "O3_8h" if pollutant == "O3" else pollutant
        present = [d.values[day_key] for d in inside if d.values.get(day_key) is not None]
        known = [v for v in present if v is not None]
        value: Decimal | None
        if key == "CO_p95":
            value = percentile(known, latest.composite.co_percentile)
        elif key == "O3_8h_p90":
            value = percentile(known, latest.composite.o3_percentile)
        else:
            value = mean(known)
        ok = len(known) >= required and value is not None
        statistics[key] = Statistic(
            rounded(latest, pollutant, value) if ok and value is not None else None,
            len(known),
            required,
            ok,
        )
    with_aqi = [d.aqi.aqi for d in inside if d.aqi.aqi is not None]
    index, missing = _composite_index(statistics, parts, inside)
    return PeriodStatistics(
        first=first,
        last=last,
        statistics=statistics,
        aqi_days=len(with_aqi),
        good_days=sum(1 for a in with_aqi if a <= 100),
        heavy_days=sum(1 for a in with_aqi if a > 200),
        composite_index=index,
        parts=tuple(
            EditionPart(e.id, a, b, sum(1 for d in inside if a <= d.day <= b)) for e, a, b in parts
        ),
        missing_for_index=missing,
    )


def _composite_index(
    statistics: Mapping[str, Statistic],
    parts: Sequence[tuple[Edition, date, date]],
    inside: Sequence[DayStatistics],
) -> tuple[Decimal | None, tuple[str, ...]]:
    """Σ weight × C / divisor; across an edition change each part's divisors
    count by its share of the days."""
    missing = tuple(key for key, s in statistics.items() if not s.valid)
    if missing:
        return None, missing
    total_days = max(1, len(inside))
    index = Decimal(0)
    for edition, a, b in parts:
        share = Decimal(sum(1 for d in inside if a <= d.day <= b)) / total_days
        if len(parts) == 1:
            share = Decimal(1)
        for key, statistic in statistics.items():
            pollutant = INDEX_POLLUTANT[key]
            assert statistic.value is not None
            divisor = Decimal(repr(edition.composite.divisors[pollutant]))
            weight = Decimal(repr(edition.composite.weights[pollutant]))
            index += share * weight * statistic.value / divisor
    return index, ()
