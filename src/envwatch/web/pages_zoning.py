"""The zoning page (三线一单): the control units drawn over the county map as
SVG on the server (the county map's own projection, ``mapsvg``; no tiles, no
network), the enterprises in the user's scope as dots (those their unit's
list forbids or restricts marked), a pre-check form for a planned project,
and the list of mismatches per county. A planned project is pre-checked at a point
or over its site's polygon (drawn on the map). And the emergency page: the daily
compliance report of the emergency-list lines under a warning, per county
(complied, not complied with evidence, no data, exempt), in the user's scope,
and its second view: the listed enterprises' hourly emissions in the warning
hours against their baseline."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, select

from envwatch.alerts.scope import Viewer, scope_by
from envwatch.rectification.fire_desk import fire_scope
from envwatch.registry.emergency_lists import (
    FIRST_DAY,
    LAST_DAY,
    daily_compliance,
    daily_emissions,
)
from envwatch.store.schema import County, EmergencyPeriod, Enterprise, FirePoint
from envwatch.web.api_zoning import MAX_POLYGON_TEXT
from envwatch.web.i18n import language, translator
from envwatch.web.mapsvg import Projection, county_map, county_projection, rings_of
from envwatch.web.pages_registers import register_layer
from envwatch.web.people import current_user
from envwatch.web.rendering import database, render
from envwatch.zoning.access import parse_emissions
from envwatch.zoning.store import (
    check_json,
    load_zoning,
    mismatch_json,
    mismatches,
    nearby_json,
)
from envwatch.zoning.units import parse_project_polygon

router = APIRouter()
INDUSTRY = re.compile(r"^[A-Ta-t]?\d{2,4}$")
FIRE_LAYER_DAYS = timedelta(days=30)
"""The dashboard map shows the fire points seen this recently (a view's window)."""
UNIT_CLASSES = {"优先保护": "priority", "重点管控": "key", "一般管控": "general"}


def unit_layer(zoning: Any, projection: Projection) -> list[dict[str, Any]]:
    """The control units as SVG paths over the county map (general units
    first, so the smaller units draw over them)."""
    return [
        {"code": unit.code, "name": unit.name, "type": unit.unit_type,
         "class": UNIT_CLASSES.get(unit.unit_type, "general"),
         "path": projection.path(rings_of(zoning.geometries[unit.code])),
         "clauses": zoning.clauses.get(unit.code, ())}
        for unit in sorted(zoning.units.values(),
                           key=lambda u: (u.unit_type != "一般管控", u.code))
    ]  # fmt: skip


def dashboard_layers(connection: Connection, user: Viewer, now: datetime) -> dict[str, Any]:
    """The dashboard map's layers over the county heat map: the control units,
    the enterprises and the bottom-line register entries in ``user``'s scope
    (``pages_registers.register_layer``), the warnings in force at ``now``
    (China Standard Time, naive) by the counties they cover, and the satellite
    fire points of straw burning in the user's scope seen lately."""
    projection = county_projection()
    units = unit_layer(load_zoning(connection), projection)
    enterprises = [
        {"id": row.id, "name": row.name, "xy": projection.xy(row.longitude, row.latitude)}
        for row in connection.execute(
            select(Enterprise.id, Enterprise.name, Enterprise.longitude, Enterprise.latitude)
            .where(scope_by(user, Enterprise.county_code, Enterprise.id),
                   Enterprise.longitude.is_not(None), Enterprise.latitude.is_not(None))
            .order_by(Enterprise.id)
        )
    ]  # fmt: skip
    hosts: dict[str, str | None] = dict(
        connection.execute(select(County.code, County.host_code)).all()
    )
    warnings = connection.execute(
        select(EmergencyPeriod.level, EmergencyPeriod.county_code, EmergencyPeriod.ends_at,
               EmergencyPeriod.reference)
        .where(EmergencyPeriod.starts_at <= now, EmergencyPeriod.ends_at > now)
        .order_by(EmergencyPeriod.starts_at)
    ).all()  # fmt: skip
    warned: dict[str, str] = {}  # county → level (the later period's when two cover it)
    for warning in warnings:
        for county, host in hosts.items():
            if warning.county_code is None or warning.county_code in (county, host):
                warned[county] = warning.level
    fires = [
        {"id": row.id, "fire_id": row.fire_id, "observed_at": row.observed_at,
         "xy": projection.xy(row.longitude, row.latitude)}
        for row in connection.execute(
            select(FirePoint.id, FirePoint.fire_id, FirePoint.observed_at, FirePoint.longitude,
                   FirePoint.latitude)
            .where(fire_scope(user), FirePoint.county_code.is_not(None),
                   FirePoint.observed_at >= now - FIRE_LAYER_DAYS)
            .order_by(FirePoint.id)
        )
    ]  # fmt: skip
    return {"units": units, "enterprises": enterprises, "warned": warned,
            "warnings": [w._asdict() for w in warnings], "fires": fires,
            "registers": register_layer(connection, user)}  # fmt: skip


def _number(text: str | None, low: float, high: float) -> float | None:
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if low <= value <= high else None


@router.get("/zoning", response_class=HTMLResponse, response_model=None)
async def zoning_page(
    request: Request,
    *,
    lon: str | None = None,
    lat: str | None = None,
    industry: str | None = None,
    polygon: str | None = None,
    emissions: str | None = None,
) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    words = translator(language(request))
    asked = any(value for value in (lon, lat, industry, polygon))
    x, y = _number(lon, -180, 180), _number(lat, -90, 90)
    code = (industry or "").strip()
    site = (polygon or "").strip()[:MAX_POLYGON_TEXT]
    problem = ""
    area = shape = None
    if asked and site:
        try:
            shape, area = parse_project_polygon(site)
        except ValueError as error:
            problem = f"{words['zn_bad_polygon']}: {error}"
    elif asked and (x is None or y is None):
        problem = words["zn_bad_point"]
    if asked and not problem and not INDUSTRY.match(code):
        problem = words["zn_bad_industry"]
    planned = (emissions or "").strip()[:500]
    emitted = None
    if asked and not problem and planned:
        try:
            emitted = set(parse_emissions(planned))
        except ValueError as error:
            problem = f"{words['zn_bad_emissions']}: {error}"

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            zoning = load_zoning(connection)
            found = {m.enterprise_id: mismatch_json(m) for m in mismatches(connection, user)}
            enterprises = connection.execute(
                select(Enterprise.id, Enterprise.name, Enterprise.longitude, Enterprise.latitude)
                .where(scope_by(user, Enterprise.county_code, Enterprise.id),
                       Enterprise.longitude.is_not(None), Enterprise.latitude.is_not(None))
                .order_by(Enterprise.id)
            ).all()  # fmt: skip
            names = dict(connection.execute(select(County.code, County.name_zh)).all())
            answer = None
            if asked and not problem and area is not None:
                answer = check_json(*zoning.check_area(area, code, emitted))
                answer["nearby"] = nearby_json(zoning.nearby_area(area))
            elif asked and not problem and x is not None and y is not None:
                answer = check_json(*zoning.check(x, y, code, emitted))
                answer["nearby"] = nearby_json(zoning.nearby(x, y))
        return {"zoning": zoning, "mismatches": found, "enterprises": enterprises,
                "names": names, "answer": answer}  # fmt: skip

    data = await asyncio.to_thread(read)
    projection = county_projection()
    units = unit_layer(data["zoning"], projection)
    dots = [
        {"id": e.id, "name": e.name, "mismatch": data["mismatches"].get(e.id),
         "xy": projection.xy(e.longitude, e.latitude)}
        for e in data["enterprises"]
    ]  # fmt: skip
    point = (
        projection.xy(x, y)
        if data["answer"] is not None and shape is None and x is not None and y is not None
        else None
    )
    site_path = projection.path(rings_of(shape)) if data["answer"] is not None and shape else None
    areas, height = county_map()
    return render(
        request, "zoning.html", user, areas=areas, height=height, units=units, dots=dots,
        mismatch_list=list(data["mismatches"].values()), county_names=data["names"],
        answer=data["answer"], problem=problem, point=point, site_path=site_path,
        verdict_names={"allowed": words["zn_verdict_allowed"],
                       "restricted": words["zn_verdict_restricted"],
                       "forbidden": words["zn_verdict_forbidden"]},
        form={"lon": lon or "", "lat": lat or "", "industry": code, "polygon": site,
              "emissions": planned},
    )  # fmt: skip


STATUSES = ("complied", "not_complied", "no_data", "exempt", "not_measurable")


@router.get("/emergency", response_class=HTMLResponse, response_model=None)
async def emergency_page(request: Request, day: str | None = None) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    words = translator(language(request))
    try:
        chosen: date | None = date.fromisoformat(day) if day else None
    except ValueError:
        chosen = None
    if chosen is not None and not FIRST_DAY <= chosen <= LAST_DAY:
        chosen = None

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            periods = connection.execute(
                select(EmergencyPeriod.level, EmergencyPeriod.starts_at, EmergencyPeriod.ends_at,
                       EmergencyPeriod.county_code, EmergencyPeriod.reference)
                .order_by(EmergencyPeriod.starts_at.desc()).limit(50)
            ).all()  # fmt: skip
            shown = chosen
            if shown is None and periods:
                newest = periods[0]
                shown = (newest.ends_at - timedelta(microseconds=1)).date()
            report = daily_compliance(connection, shown, user) if shown else []
            emissions = daily_emissions(connection, shown, user) if shown else []
            names = dict(connection.execute(select(County.code, County.name_zh)).all())
        return {"periods": periods, "day": shown, "report": report, "names": names,
                "emissions": [row.as_json() for row in emissions]}  # fmt: skip

    data = await asyncio.to_thread(read)
    counties: dict[str, Counter[str]] = {}
    for row in data["report"]:
        counties.setdefault(row.county_code, Counter())[row.verdict.status] += 1
    status_names = {"complied": words["em_complied"], "not_complied": words["em_not_complied"],
                    "no_data": words["em_no_data"], "exempt": words["em_exempt"],
                    "not_measurable": words["em_not_measurable"]}  # fmt: skip
    return render(
        request, "emergency.html", user, periods=data["periods"], day=data["day"],
        rows=[row.as_json() for row in data["report"]], counties=counties,
        statuses=STATUSES, status_names=status_names, county_names=data["names"],
        emissions=data["emissions"],
    )  # fmt: skip
