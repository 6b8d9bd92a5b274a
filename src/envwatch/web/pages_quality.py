"""The environmental-quality pages (环境质量): the county map coloured by the
newest day's AQI with the stations on it, each station's AQI and pollutants
(charts from the quality API, ``static/quality.js``), the month's ranking
with composite index and year-on-year change, progress towards the year's
targets beside the province, and the sections coloured by class; a station
page and a section page. Rendered on the server; read without JavaScript
except for the charts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, func, select

from envwatch.quality.air_statistics import DAY_KEYS
from envwatch.quality.editions import air_editions
from envwatch.quality.queries import (
    CITY,
    area_days,
    areas_of,
    month_span,
    ranking,
    section_months,
    section_period,
    stations,
)
from envwatch.quality.targets import target_progress
from envwatch.quality.water import water_standard
from envwatch.store.schema import AirStation, QualityDay, WaterSection
from envwatch.web.api_quality import (
    county_names,
    day_view,
    period_span,
    rank_view,
    section_view,
    today,
)
from envwatch.web.i18n import N_, language, translator
from envwatch.web.mapsvg import county_map, map_point
from envwatch.web.people import current_user
from envwatch.web.rendering import database, not_found, render

router = APIRouter()
SITE_CODE = re.compile(r"^[0-9A-Za-z_\-]{1,32}$")
PERIOD_WORDS = (N_("q_period_month"), N_("q_period_quarter"), N_("q_period_year"))
"""The ranking's periods on the page (``_("q_period_" ~ period)``)."""
CONTROL_LEVELS = {
    "national": N_("q_control_national"),
    "provincial": N_("q_control_provincial"),
    "county": N_("q_control_county"),
    "city": N_("q_control_city"),
}
"""Control levels of stations and sections (国控, 省控, 县控, 市控) and their msgids."""


def controls(request: Request) -> dict[str, str]:
    words = translator(language(request))
    return {level: words[key] for level, key in CONTROL_LEVELS.items()}


def newest_day(connection: Any) -> date | None:
    """The newest day with air data (yesterday while today is still incomplete)."""
    newest = connection.execute(
        select(func.max(QualityDay.day)).where(QualityDay.kind == "air", QualityDay.day < today())
    ).scalar()
    if newest is None:
        newest = connection.execute(
            select(func.max(QualityDay.day)).where(QualityDay.kind == "air")
        ).scalar()
    return newest if isinstance(newest, date) else None


RANKING_PERIODS = ("month", "quarter", "year")


def ranking_span(day: date, period: str) -> tuple[date, date, str]:
    """The ranking's days: the month, quarter or year of ``day``, to date."""
    if period == "quarter":
        return period_span(None, f"{day.year}-Q{(day.month - 1) // 3 + 1}", None)
    if period == "year":
        return period_span(None, None, day.year)
    return period_span(day.strftime("%Y-%m"), None, None)


def quality_overview(connection: Any, period: str = "month") -> dict[str, Any]:
    names = county_names(connection)
    infos = stations(connection)
    day = newest_day(connection) or today()
    month_first, month_last = month_span(day.replace(day=1), today())
    rank_first, rank_last, rank_label = ranking_span(day, period)
    areas = area_days(connection, day, day, areas_of(infos))
    area_aqi = {area: days[0].aqi for area, days in areas.items() if days and days[0].day == day}
    station_rows = {
        row.site: row
        for row in connection.execute(
            select(QualityDay).where(QualityDay.kind == "air", QualityDay.day == day)
        )
    }
    editions = air_editions()
    station_views = []
    for info in infos:
        row = station_rows.get(info.code)
        view = day_view(row) if row is not None else None
        x, y = map_point(info.longitude, info.latitude) if info.longitude and info.latitude \
            else (None, None)  # fmt: skip
        station_views.append({"info": info, "day": view, "x": x, "y": y,
                              "county_name": names.get(info.county_code, "")})  # fmt: skip
    standard = water_standard()
    sections = [section_view(j) for _, j in sorted(section_period(
        connection, month_first, month_last).items())]  # fmt: skip
    for view in sections:
        if view["longitude"] and view["latitude"]:
            view["x"], view["y"] = map_point(view["longitude"], view["latitude"])
    areas_svg, height = county_map()
    return {
        "day": day, "month": month_first, "names": names, "areas": areas_svg, "height": height,
        "area_aqi": {code: report.aqi for code, report in area_aqi.items()},
        "area_level": {code: (None if report.level is None else report.level)
                       for code, report in area_aqi.items()},
        "city": area_aqi.get(CITY), "stations": station_views,
        "ranking": [rank_view(i, names) for i in ranking(connection, rank_first, rank_last)],
        "ranking_label": rank_label, "ranking_period": period, "ranking_periods": RANKING_PERIODS,
        "targets": target_progress(connection, day.year, today()),
        "sections": sections, "levels": editions.levels,
        "edition": editions.edition_for(day), "editions": editions.editions,
        "water_colours": standard.colours, "water_words": standard.words,
    }  # fmt: skip


@router.get("/quality", response_class=HTMLResponse, response_model=None)
async def quality_page(request: Request, period: str = "month") -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    chosen = period if period in RANKING_PERIODS else "month"

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            return quality_overview(connection, chosen)

    values = await asyncio.to_thread(read)
    return render(request, "quality.html", user, controls=controls(request), **values)


Reader = Callable[[Connection], dict[str, Any] | None]


async def _site_page(request: Request, code: str, template: str, read: Reader) -> Response:
    """A station's or a section's page: what ``read`` finds for the code, or
    the not-found page (a code of the wrong shape included)."""
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if not SITE_CODE.match(code):
        return not_found(request, user)

    def run() -> dict[str, Any] | None:
        with database(request).connect() as connection:
            return read(connection)

    values = await asyncio.to_thread(run)
    if values is None:
        return not_found(request, user)
    return render(request, template, user, controls=controls(request), **values)


@router.get("/quality/stations/{code}", response_class=HTMLResponse, response_model=None)
async def station_page(request: Request, code: str) -> Response:
    def read(connection: Connection) -> dict[str, Any] | None:
        station = connection.execute(select(AirStation).where(AirStation.code == code)).first()
        if station is None:
            return None
        rows = connection.execute(
            select(QualityDay).where(QualityDay.kind == "air", QualityDay.site == code,
                                     QualityDay.day >= today() - timedelta(days=59))
            .order_by(QualityDay.day.desc())
        ).all()  # fmt: skip
        names = county_names(connection)
        return {"station": station, "days": [day_view(r) for r in rows], "keys": DAY_KEYS,
                "county_name": names.get(station.county_code, "")}  # fmt: skip

    return await _site_page(request, code, "quality_station.html", read)


@router.get("/quality/sections/{code}", response_class=HTMLResponse, response_model=None)
async def section_page(request: Request, code: str) -> Response:
    def read(connection: Connection) -> dict[str, Any] | None:
        section = connection.execute(
            select(WaterSection).where(WaterSection.code == code)
        ).first()  # fmt: skip
        if section is None:
            return None
        last = today()
        first = (last.replace(day=1) - timedelta(days=335)).replace(day=1)
        months = section_months(connection, code, first, last)
        names = county_names(connection)
        standard = water_standard()
        return {"section": section, "county_name": names.get(section.county_code, ""),
                "months": [{"month": f"{y:04d}-{m:02d}", **section_view(j)}
                           for (y, m), j in reversed(months)],
                "water_colours": standard.colours, "water_words": standard.words}  # fmt: skip

    return await _site_page(request, code, "quality_section.html", read)
