"""The air quality index of HJ 633 (pure), by edition.

``IAQI_P = (IAQI_Hi − IAQI_Lo) / (BP_Hi − BP_Lo) × (C_P − BP_Lo) + IAQI_Lo``,
``AQI = max(IAQI_P)``, both rounded up to integers (进位取整); the
concentrations are first rounded per GB/T 8170 (round half to even, 四舍六入五成双)
to the edition's decimals (rules.md §6.1, §6.6). The arithmetic is exact
(``Fraction``) so a value on a breakpoint gives that breakpoint's IAQI, never
one more from a floating-point crumb.

Indicators are ``<pollutant>_<window>`` (``PM2_5_24h``, ``O3_8h``); which of
them a report uses, the tables, the rules above a table's top and for a missing
indicator all come from the edition (``editions.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from envwatch.errors import PeerError
from envwatch.quality.editions import Edition, Level, air_editions


class QualityInputError(PeerError):
    """A concentration, indicator or input file the quality calculations refuse."""


LABELS = {"PM2_5": "PM2.5", "PM10": "PM10", "SO2": "SO2", "NO2": "NO2", "CO": "CO", "O3": "O3"}


def indicator_label(indicator: str) -> str:
    """How reports name an indicator: ``PM2_5_24h`` → ``PM2.5``, ``O3_8h`` → ``O3-8h``."""
    pollutant = pollutant_of(indicator)
    window = indicator.rsplit("_", 1)[1]
    label = LABELS.get(pollutant, pollutant)
    return f"{label}-{window}" if pollutant == "O3" or window == "1h" else label


def pollutant_of(indicator: str) -> str:
    """``PM2_5_24h`` → ``PM2_5``."""
    return indicator.rsplit("_", 1)[0]


def rounded(edition: Edition, pollutant: str, value: float | Decimal) -> Decimal:
    """``value`` rounded per GB/T 8170 (half to even) to the edition's decimals."""
    if isinstance(value, float) and not math.isfinite(value):
        raise QualityInputError(
            "bad_concentration", f"{value} is not a concentration", f"{value} 不是浓度值"
        )
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    if exact < 0:
        raise QualityInputError(
            "bad_concentration",
            f"{pollutant} concentration {value} is negative",
            f"{pollutant} 浓度 {value} 为负值",
        )
    decimals = edition.input_decimals.get(pollutant, 0)
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class IndicatorIaqi:
    """One indicator's IAQI. ``iaqi`` is None when the edition does not use
    the value (above a short table whose rule refers to another indicator, or
    no table for the indicator); ``beyond_scale`` when it was capped at the
    table's top."""

    indicator: str
    concentration: Decimal
    iaqi: int | None
    beyond_scale: bool = False
    replaced_by: str | None = None
    """The indicator the edition reports this pollutant by instead (2012:
    SO2 1-h above 800 by its 24-h IAQI, O3 8-h above 800 by its 1-h IAQI)."""


def indicator_iaqi(edition: Edition, indicator: str, value: float | Decimal) -> IndicatorIaqi:
    """The IAQI of ``indicator`` at concentration ``value`` [µg/m³; CO mg/m³]."""
    concentration = rounded(edition, pollutant_of(indicator), value)
    table = edition.table_of(indicator)
    if table is None:
        return IndicatorIaqi(indicator, concentration, None)
    row = edition.breakpoints[table]
    if concentration > Decimal(repr(row[-1])):
        rule = edition.beyond.get(indicator)
        if rule is not None and rule.iaqi is not None:
            return IndicatorIaqi(indicator, concentration, rule.iaqi)
        if rule is not None:
            return IndicatorIaqi(indicator, concentration, None, replaced_by=rule.use)
        return IndicatorIaqi(indicator, concentration, edition.iaqi[len(row) - 1], True)
    c = Fraction(concentration)
    for index in range(len(row) - 1):
        low, high = Fraction(repr(row[index])), Fraction(repr(row[index + 1]))
        if c <= high:
            iaqi_low, iaqi_high = edition.iaqi[index], edition.iaqi[index + 1]
            exact = Fraction(iaqi_high - iaqi_low) / (high - low) * (c - low) + iaqi_low
            return IndicatorIaqi(indicator, concentration, math.ceil(exact))
    return IndicatorIaqi(indicator, concentration, 0)  # a one-point table: only 0


@dataclass(frozen=True, slots=True)
class AqiReport:
    """An AQI report (daily or real-time) of one station or area."""

    edition: str
    aqi: int | None
    """None: not published ("NA", 2026: an indicator missing and the rest ≤ 100)."""
    level: Level | None
    primary: tuple[str, ...]
    """The indicators with the highest IAQI when AQI > 50 (all of them on a tie)."""
    exceeding: tuple[str, ...]
    """Indicators with IAQI > 100 (超标污染物)."""
    indicators: Mapping[str, IndicatorIaqi]
    missing: tuple[str, ...]
    beyond_scale: bool


def report(
    edition: Edition, values: Mapping[str, float | Decimal | None], indicators: tuple[str, ...]
) -> AqiReport:
    """The AQI of the ``indicators`` a report uses, from ``values`` by indicator
    (a missing key or None is a missing indicator)."""
    judged: dict[str, IndicatorIaqi] = {}
    missing: list[str] = []
    for indicator in indicators:
        value = values.get(indicator)
        if value is None:
            missing.append(indicator)
        else:
            judged[indicator] = indicator_iaqi(edition, indicator, value)
    # 2012: a value the edition does not use hands over to another indicator;
    # when that one is not in the report (SO2 24-h in the real-time report) it
    # is judged here from the values given.
    for item in list(judged.values()):
        if item.replaced_by and item.replaced_by not in judged:
            other = values.get(item.replaced_by)
            if other is not None:
                judged[item.replaced_by] = indicator_iaqi(edition, item.replaced_by, other)
    scored = {key: item.iaqi for key, item in judged.items() if item.iaqi is not None}
    top = max(scored.values(), default=None)
    aqi: int | None = top
    if missing and edition.missing_indicator == "na_unless_above_100":
        aqi = top if top is not None and top > 100 else None
    primary = (
        tuple(key for key, value in scored.items() if value == aqi)
        if aqi is not None and aqi > 50
        else ()
    )
    exceeding = tuple(key for key, value in scored.items() if value > 100)
    return AqiReport(
        edition=edition.id,
        aqi=aqi,
        level=None if aqi is None else air_editions().level_of(aqi),
        primary=primary,
        exceeding=exceeding,
        indicators=judged,
        missing=tuple(missing),
        beyond_scale=any(item.beyond_scale for item in judged.values()),
    )


def daily_report(edition: Edition, values: Mapping[str, float | Decimal | None]) -> AqiReport:
    """The daily AQI from a day's statistics (24-h means, O3 MDA8 and, in
    2012, the O3 1-h daily maximum)."""
    return report(edition, values, edition.daily_indicators)


def hourly_report(edition: Edition, values: Mapping[str, float | Decimal | None]) -> AqiReport:
    """The real-time (hourly) AQI from an hour's values and, in 2012, the
    moving means the real-time report also uses."""
    return report(edition, values, edition.hourly_indicators)


Hour = tuple[datetime, Mapping[str, float]]
"""An hour's start and its valid 1-h values by pollutant (``PM2_5``, ``O3``, …)."""


def realtime_indicators(
    hours: Iterable[Hour], end: datetime, *, moving_min_hours: int, o3_8h_min_hours: int
) -> dict[str, float | None]:
    """The real-time report's indicators for the hour starting ``end``: the six
    1-h values, and the moving means the 2012 edition also reports (O3 over 8
    hours, PM10, PM2.5 and SO2 over 24; each needs its count of hours)."""
    window = [(t, v) for t, v in hours if end - timedelta(hours=23) <= t <= end]
    latest = next((v for t, v in window if t == end), {})

    def moving(name: str, span: int, least: int) -> float | None:
        start = end - timedelta(hours=span - 1)
        present = [v[name] for t, v in window if start <= t and name in v]
        return sum(present) / len(present) if len(present) >= least else None

    indicators: dict[str, float | None] = {
        f"{name}_1h": latest.get(name) for name in ("SO2", "NO2", "CO", "O3", "PM10", "PM2_5")
    }
    indicators["O3_8h"] = moving("O3", 8, o3_8h_min_hours)
    for name in ("PM10", "PM2_5", "SO2"):
        indicators[f"{name}_24h"] = moving(name, 24, moving_min_hours)
    return indicators
