"""Reading environmental quality back (I/O): station and area days from the
stored quality days, period statistics, the county ranking, sections' classes
against their targets."""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from envwatch.quality.air_statistics import (
    DAY_KEYS,
    DayStatistics,
    PeriodStatistics,
    area_day,
    day_aqi,
    period_statistics,
)
from envwatch.quality.editions import air_editions
from envwatch.quality.ranking import RankedArea, rank_areas
from envwatch.quality.water import (
    SectionClass,
    annual_values,
    exceedance_multiple,
    meets,
    month_values,
    section_class,
    water_quality_index,
    water_standard,
)
from envwatch.store.schema import AirStation, QualityDay, WaterSection

CITY = "city"
"""The area of the whole city: its national-control stations (all, if it has none)."""


def month_span(month: date, today: date | None = None) -> tuple[date, date]:
    """The month's first day and its last, or ``today`` while it runs."""
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    if today is not None and first <= today < last:
        last = today
    return first, last


def year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def as_day_statistics(row: Any) -> DayStatistics:
    """A stored air quality day as the calculations take it (the AQI judged
    again from the stored statistics by the day's edition)."""
    edition = air_editions().by_id(row.edition)
    values = {
        key: None if row.figures.get(key) is None else Decimal(repr(row.figures[key]))
        for key in DAY_KEYS
    }
    return DayStatistics(
        row.day, row.edition, values, dict(row.counts), dict(row.valid), day_aqi(edition, values)
    )


def station_days(
    connection: Connection, first: date, last: date, stations: Iterable[str] | None = None
) -> dict[str, list[DayStatistics]]:
    """Each station's stored days in ``first``..``last``, in order."""
    query = select(QualityDay).where(
        QualityDay.kind == "air", QualityDay.day >= first, QualityDay.day <= last
    )
    if stations is not None:
        query = query.where(QualityDay.site.in_(list(stations)))
    out: dict[str, list[DayStatistics]] = defaultdict(list)
    for row in connection.execute(query.order_by(QualityDay.site, QualityDay.day)):
        out[row.site].append(as_day_statistics(row))
    return dict(out)


@dataclass(frozen=True, slots=True)
class StationInfo:
    code: str
    name: str
    level: str
    county_code: str
    longitude: float | None
    latitude: float | None
    mn: str | None


def stations(connection: Connection) -> list[StationInfo]:
    rows = connection.execute(
        select(
            AirStation.code,
            AirStation.name,
            AirStation.level,
            AirStation.county_code,
            AirStation.longitude,
            AirStation.latitude,
            AirStation.mn,
        ).order_by(AirStation.code)
    )
    return [StationInfo(**row._mapping) for row in rows]


def areas_of(infos: Iterable[StationInfo]) -> dict[str, list[str]]:
    """The stations of each county and of the city (its national stations)."""
    listed = list(infos)
    areas: dict[str, list[str]] = defaultdict(list)
    for info in listed:
        areas[info.county_code].append(info.code)
    national = [i.code for i in listed if i.level == "national"]
    areas[CITY] = national or [i.code for i in listed]
    return dict(areas)


def area_days(
    connection: Connection, first: date, last: date, areas: Mapping[str, list[str]] | None = None
) -> dict[str, list[DayStatistics]]:
    """Each area's days: per day, the mean of its stations' valid statistics."""
    areas = areas if areas is not None else areas_of(stations(connection))
    by_station = station_days(connection, first, last)
    out: dict[str, list[DayStatistics]] = {}
    for area, codes in areas.items():
        by_day: dict[date, list[DayStatistics]] = defaultdict(list)
        for code in codes:
            for day in by_station.get(code, []):
                by_day[day.day].append(day)
        out[area] = [area_day(day, by_day[day]) for day in sorted(by_day)]
    return out


def area_periods(
    connection: Connection, first: date, last: date, areas: Mapping[str, list[str]] | None = None
) -> dict[str, PeriodStatistics]:
    return {
        area: period_statistics(days, first, last)
        for area, days in area_days(connection, first, last, areas).items()
    }


def ranking(connection: Connection, first: date, last: date) -> list[RankedArea]:
    """The counties (and zones) ranked by composite index over ``first``..``last``,
    with the change against the same days a year earlier; the city is left out."""
    areas = {k: v for k, v in areas_of(stations(connection)).items() if k != CITY}
    now = area_periods(connection, first, last, areas)
    before = area_periods(connection, year_earlier(first), year_earlier(last), areas)
    return rank_areas(now, before)


# ---- water ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SectionInfo:
    code: str
    name: str
    river: str
    level: str
    target_class: str
    county_code: str
    lake: bool
    longitude: float | None
    latitude: float | None
    mn: str | None


def sections(connection: Connection) -> list[SectionInfo]:
    rows = connection.execute(
        select(
            WaterSection.code,
            WaterSection.name,
            WaterSection.river,
            WaterSection.level,
            WaterSection.target_class,
            WaterSection.county_code,
            WaterSection.lake,
            WaterSection.longitude,
            WaterSection.latitude,
            WaterSection.mn,
        ).order_by(WaterSection.code)
    )
    return [SectionInfo(**row._mapping) for row in rows]


def section_samples(
    connection: Connection, first: date, last: date
) -> dict[str, dict[tuple[int, int], dict[str, tuple[float, int]]]]:
    """Per section and month: each item's (sum, count) of the samples."""
    out: dict[str, dict[tuple[int, int], dict[str, tuple[float, int]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    rows = connection.execute(
        select(QualityDay.site, QualityDay.day, QualityDay.figures, QualityDay.counts).where(
            QualityDay.kind == "water", QualityDay.day >= first, QualityDay.day <= last
        )
    )
    for site, day, figures, counts in rows:
        month = out[site][(day.year, day.month)]
        for item, value in figures.items():
            if value is None:
                continue
            count = int(counts.get(item, 1))
            total, n = month.get(item, (0.0, 0))
            month[item] = (total + value * count, n + count)
    return out


@dataclass(frozen=True, slots=True)
class SectionJudgement:
    """A section's class over a period against its target."""

    section: SectionInfo
    values: Mapping[str, float]
    judged: SectionClass
    meets_target: bool | None
    exceeding: tuple[tuple[str, float, float], ...]
    """(item, value, multiple of the target class's limit) of items over it."""
    index: float | None


def judge_section(info: SectionInfo, values: Mapping[str, float]) -> SectionJudgement:
    standard = water_standard()
    assessed = {k: v for k, v in values.items() if k in standard.items}
    judged = section_class(standard, assessed, lake=info.lake)
    exceeding = []
    for item in judged.items:
        multiple = exceedance_multiple(
            standard, item.item, item.value, info.target_class, lake=info.lake
        )
        if multiple is not None:
            exceeding.append((item.item, item.value, multiple))
    return SectionJudgement(
        info,
        values,
        judged,
        None
        if judged.water_class is None
        else meets(standard, judged.water_class, info.target_class),
        tuple(exceeding),
        water_quality_index(standard, assessed, lake=info.lake),
    )


def section_period(connection: Connection, first: date, last: date) -> dict[str, SectionJudgement]:
    """Each section judged over ``first``..``last``: a month's value is the
    mean of its samples, a longer period's the mean of its monthly values."""
    infos = {s.code: s for s in sections(connection)}
    samples = section_samples(connection, first, last)
    out: dict[str, SectionJudgement] = {}
    for code, months in samples.items():
        info = infos.get(code)
        if info is None:
            continue
        monthly = [month_values(month) for _, month in sorted(months.items())]
        out[code] = judge_section(info, annual_values(monthly))
    return out


def section_months(
    connection: Connection, code: str, first: date, last: date
) -> list[tuple[tuple[int, int], SectionJudgement]]:
    """A section's class month by month."""
    infos = {s.code: s for s in sections(connection)}
    info = infos.get(code)
    if info is None:
        return []
    months = section_samples(connection, first, last).get(code, {})
    return [
        (month, judge_section(info, month_values(items))) for month, items in sorted(months.items())
    ]


def county_water_ranking(judged: Iterable[SectionJudgement]) -> list[dict[str, Any]]:
    """Counties ranked by the mean water-quality index of their sections
    (lower is cleaner; equal means share a rank) [I], with how many of them
    meet their target."""
    by_county: dict[str, list[SectionJudgement]] = defaultdict(list)
    for judgement in judged:
        by_county[judgement.section.county_code].append(judgement)
    rows = []
    for county, items in by_county.items():
        indexes = [j.index for j in items if j.index is not None]
        rows.append({
            "county": county,
            "index": round(sum(indexes) / len(indexes), 2) if indexes else None,
            "sections": len(items),
            "meeting_target": sum(1 for j in items if j.meets_target),
        })  # fmt: skip
    rows.sort(key=lambda r: (r["index"] is None, r["index"] or 0, r["county"]))
    for position, row in enumerate(rows, start=1):
        earlier = rows[position - 2] if position > 1 else None
        if row["index"] is None:
            row["rank"] = None
        elif earlier is not None and earlier["index"] == row["index"]:
            row["rank"] = earlier["rank"]
        else:
            row["rank"] = position
    return rows
