"""Annual targets and the progress towards them (I/O at the edge, the
arithmetic pure): each area's year to date against its targets, a projection
to year end, and the city's improvement against the province's.

The projection keeps the season in: the rest of the year is taken to be like
the rest of last year, scaled by how this year compares with the same days
of last year [I] (a straight line from January would call every summer a
success and every winter a failure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from envwatch.quality.air_statistics import PeriodStatistics
from envwatch.quality.province import PROVINCE
from envwatch.quality.queries import (
    CITY,
    area_periods,
    areas_of,
    month_span,
    stations,
    year_earlier,
)
from envwatch.store.schema import County, ProvinceMonthly, QualityTarget

TARGET_INDICATORS = ("PM2_5", "good_day_ratio", "composite_index")
LOWER_IS_BETTER = {"PM2_5": True, "good_day_ratio": False, "composite_index": True}


def indicator_value(stats: PeriodStatistics | None, indicator: str) -> float | None:
    if stats is None:
        return None
    if indicator == "PM2_5":
        value: Decimal | None = stats.statistics["PM2_5"].value
    elif indicator == "good_day_ratio":
        value = stats.good_day_ratio
    else:
        value = stats.composite_index
    return None if value is None else float(value)


def project(
    to_date: float | None,
    days_to_date: int,
    last_year_to_date: float | None,
    last_year_rest: float | None,
    days_rest: int,
) -> float | None:
    """The year-end value: this year to date, the rest like last year's rest
    scaled by this year's ratio to last year on the same days."""
    if to_date is None:
        return None
    if days_rest <= 0 or last_year_rest is None or not last_year_to_date:
        return to_date
    rest = last_year_rest * (to_date / last_year_to_date)
    return (to_date * days_to_date + rest * days_rest) / (days_to_date + days_rest)


def target_progress(connection: Connection, year: int, today: date) -> dict[str, Any]:
    """Each area's targets of ``year`` with the value to date, the projection
    and whether it is on course; and the improvement against the province."""
    first = date(year, 1, 1)
    year_end = date(year, 12, 31)
    last = min(today, year_end)
    areas = areas_of(stations(connection))
    names = dict(connection.execute(select(County.code, County.name_zh)).all())
    names[CITY] = "全市"
    now = area_periods(connection, first, last, areas)
    before = area_periods(connection, year_earlier(first), year_earlier(last), areas)
    rest_before: Mapping[str, PeriodStatistics] = {}
    if last < year_end:
        rest_first = year_earlier(last) + timedelta(days=1)
        rest_before = area_periods(connection, rest_first, year_earlier(year_end), areas)
    set_targets: dict[tuple[str, str], float] = {
        (area, indicator): value
        for area, indicator, value in connection.execute(
            select(QualityTarget.area, QualityTarget.indicator, QualityTarget.value).where(
                QualityTarget.year == year
            )
        )
    }
    days_to_date = (last - first).days + 1
    days_rest = (year_end - last).days
    out = []
    for area in sorted(areas, key=lambda a: (a != CITY, a)):
        indicators = {}
        for indicator in TARGET_INDICATORS:
            value = indicator_value(now.get(area), indicator)
            previous = indicator_value(before.get(area), indicator)
            projection = project(
                value, days_to_date, previous,
                indicator_value(rest_before.get(area), indicator), days_rest,
            )  # fmt: skip
            target = set_targets.get((area, indicator))
            on_course = None
            if target is not None and projection is not None:
                on_course = (
                    projection <= target if LOWER_IS_BETTER[indicator] else projection >= target
                )
            indicators[indicator] = {
                "to_date": _rounded(value), "last_year_same_days": _rounded(previous),
                "projection": _rounded(projection), "target": target, "on_course": on_course,
            }  # fmt: skip
        out.append({"area": area, "name": names.get(area, area), "indicators": indicators})
    return {
        "year": year, "from": first.isoformat(), "to": last.isoformat(), "areas": out,
        "province": province_comparison(connection, year, areas[CITY]),
    }  # fmt: skip


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def province_comparison(
    connection: Connection, year: int, city_stations: list[str]
) -> dict[str, Any]:
    """The city's year-on-year change of the composite index against the
    province's, over the same months: those the province has published for
    this year and last and whose city index is valid in both. "Improvement
    above the province average" holds when the city's index fell by more."""
    rows = connection.execute(
        select(ProvinceMonthly.month, ProvinceMonthly.composite_index).where(
            ProvinceMonthly.area == PROVINCE,
            ProvinceMonthly.month >= date(year - 1, 1, 1),
            ProvinceMonthly.month <= date(year, 12, 1),
        )
    ).all()
    province = {(m.year, m.month): v for m, v in rows if v is not None}
    compared: list[tuple[int, float, float, float, float]] = []
    for month in sorted(m for (y, m) in province if y == year and (year - 1, m) in province):
        city = []
        for y in (year, year - 1):
            first, last = month_span(date(y, month, 1))
            stats = area_periods(connection, first, last, {CITY: city_stations}).get(CITY)
            city.append(None if stats is None else stats.composite_index)
        if city[0] is not None and city[1] is not None:
            compared.append((month, float(city[0]), float(city[1]),
                             province[(year, month)], province[(year - 1, month)]))  # fmt: skip
    if not compared:
        return {"months_compared": [], "province_change": None, "city_change": None,
                "improvement_above_province": None}  # fmt: skip
    city_change = sum(c[1] for c in compared) / sum(c[2] for c in compared) - 1
    province_change = sum(c[3] for c in compared) / sum(c[4] for c in compared) - 1
    return {
        "months_compared": [f"{year}-{c[0]:02d}" for c in compared],
        "province_change": round(province_change, 4),
        "city_change": round(city_change, 4),
        "improvement_above_province": city_change < province_change,
    }
