"""The enterprise and monitoring-point pages: time-series charts (real-time,
minute, hour, day; raw and O2-corrected; flags; permit limits) and
electricity of production against treatment circuits.

The pages are rendered whole on the server (the data table, the factors, the
alerts and findings), so they read without JavaScript; ``static/charts.js``
draws the charts with the vendored ECharts from the same measurement API the
table comes from (``web/api_measurements.py``)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from envwatch.alerts.policy import OPEN_STATES
from envwatch.alerts.queries import CITY_ROLES, scope, scope_by
from envwatch.auth.sessions import SessionUser
from envwatch.enforcement.cases import CaseError, enterprise_history
from envwatch.registry.emergency_lists import enterprise_lines
from envwatch.rules.catalogue import RULES
from envwatch.store.schema import (
    MAX_ID,
    Alert,
    County,
    Enterprise,
    FindingRecord,
    Meter,
    MonitoringPoint,
    Outlet,
)
from envwatch.times import cst_text, utc_as_cst_text
from envwatch.web.api_measurements import (
    WINDOWS,
    point_query,
    point_view,
    read_measurements,
    visible_enterprise,
    visible_point,
)
from envwatch.web.errors import ApiError
from envwatch.web.i18n import language, translator
from envwatch.web.people import current_user
from envwatch.web.rendering import database, not_found, render
from envwatch.zoning.store import enterprise_zoning

router = APIRouter()

PAGE_SIZE = 100
DATA_KINDS = tuple(WINDOWS)  # 2011, 2051, 2061, 2031
# Around an alert: the data its rule reads (hourly first), and how far before
# and after its findings the chart reaches for each kind; the raw frames
# received shortly before and after the newest frame it cites.
EVIDENCE_MARGINS = {"2061": timedelta(hours=12), "2051": timedelta(hours=6),
                    "2011": timedelta(hours=1)}  # fmt: skip
EVIDENCE_FRAMES_BEFORE = timedelta(hours=1)
EVIDENCE_FRAMES_AFTER = timedelta(minutes=10)


@router.get("/enterprises", response_class=HTMLResponse, response_model=None)
async def enterprises_page(
    request: Request,
    county: str | None = None,
    industry: str | None = None,
    q: str | None = None,
    offset: str = "0",
) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if user.role == "enterprise_user" and user.enterprise_id is not None:
        return RedirectResponse(f"/enterprises/{user.enterprise_id}", status_code=303)
    if user.role == "contractor":
        # A contractor sees no enterprise, only the devices its contractor runs.
        return await _devices_run(request, user)
    wanted = {"county": printable(county)[:12], "industry": printable(industry)[:8],
              "q": printable(q)[:100]}  # fmt: skip
    # Anything but a modest number of rows to skip is the first page.
    start = int(offset) if offset.isdigit() and len(offset) <= 9 else 0
    lang = language(request)

    def read() -> dict[str, Any]:
        conditions = [scope_by(user, Enterprise.county_code, Enterprise.id)]
        if wanted["county"]:
            conditions.append(Enterprise.county_code == wanted["county"])
        if wanted["industry"]:
            conditions.append(Enterprise.industry_code == wanted["industry"])
        if wanted["q"]:
            conditions.append(Enterprise.name.contains(wanted["q"], autoescape=True))
        with database(request).connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(Enterprise).where(*conditions)
            ).scalar_one()
            rows = connection.execute(
                select(Enterprise, County.name_zh.label("county_name_zh"),
                       County.name_en.label("county_name_en"))
                .join(County, Enterprise.county_code == County.code)
                .where(*conditions).order_by(Enterprise.id)
                .limit(PAGE_SIZE).offset(start)
            ).all()  # fmt: skip
            ids = [row.id for row in rows]
            points = dict(
                connection.execute(
                    select(MonitoringPoint.enterprise_id, func.count())
                    .where(MonitoringPoint.enterprise_id.in_(ids))
                    .group_by(MonitoringPoint.enterprise_id)
                ).all()
            )
            open_alerts = dict(
                connection.execute(
                    select(Alert.enterprise_id, func.count())
                    .where(Alert.enterprise_id.in_(ids), Alert.state.in_(OPEN_STATES),
                           scope(user))
                    .group_by(Alert.enterprise_id)
                ).all()
            )  # fmt: skip
            counties = connection.execute(
                select(County.code, County.name_zh, County.name_en).order_by(County.code)
            ).all()
            industries = connection.execute(
                select(Enterprise.industry_code).distinct()
                .where(scope_by(user, Enterprise.county_code, Enterprise.id))
                .order_by(Enterprise.industry_code)
            ).scalars().all()  # fmt: skip
        visible_counties = [c for c in counties
                            if user.role in CITY_ROLES or c.code in user.counties]  # fmt: skip
        return {
            "enterprises": [
                {"id": r.id, "name": r.name, "county": r.county_code,
                 "county_name": r.county_name_zh if lang == "zh" else r.county_name_en,
                 "industry": r.industry_code, "positive_list": r.positive_list,
                 "points": points.get(r.id, 0), "open_alerts": open_alerts.get(r.id, 0)}
                for r in rows
            ],
            "total": int(total),
            "counties": [(c.code, c.name_zh if lang == "zh" else c.name_en)
                         for c in visible_counties],
            "industries": [code for code in industries if code],
        }  # fmt: skip

    data = await asyncio.to_thread(read)
    paging = {key: value for key, value in wanted.items() if value}
    previous_offset = max(start - PAGE_SIZE, 0)
    return render(
        request, "enterprises.html", user, wanted=wanted, offset=start,
        previous=urlencode({**paging, "offset": previous_offset}) if start > 0 else None,
        next=urlencode({**paging, "offset": start + PAGE_SIZE})
        if start + PAGE_SIZE < data["total"] else None,
        **data,
    )  # fmt: skip


@router.get("/enterprises/{enterprise_id}", response_class=HTMLResponse, response_model=None)
async def enterprise_page(request: Request, enterprise_id: int) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if not 1 <= enterprise_id <= MAX_ID:
        return not_found(request, user)

    def read() -> dict[str, Any] | None:
        with database(request).connect() as connection:
            if visible_enterprise(connection, user, enterprise_id) is None:
                return None
            try:
                history = enterprise_history(connection, enterprise_id)
            except CaseError:
                return None
            outlets = connection.execute(
                select(Outlet).where(Outlet.enterprise_id == enterprise_id).order_by(Outlet.id)
            ).all()
            meters = connection.execute(
                select(Meter).where(Meter.enterprise_id == enterprise_id).order_by(Meter.id)
            ).all()
            mns = connection.execute(
                select(MonitoringPoint.mn)
                .where(MonitoringPoint.enterprise_id == enterprise_id)
                .order_by(MonitoringPoint.mn)
            ).scalars()
            points = []
            for mn in list(mns):
                row = visible_point(connection, user, mn)
                if row is not None:
                    points.append(point_view(connection, row, detail=False))
            zoning = enterprise_zoning(connection, enterprise_id)
            lines = enterprise_lines(connection, enterprise_id)
        return {
            "zoning": zoning,
            "lines": lines,
            "history": history,
            "outlets": [{"id": o.id, "code": o.code, "name": o.name, "kind": o.kind,
                         "height_m": o.height_m,
                         "points": [p for p in points if (p["outlet"] or {}).get("id") == o.id]}
                        for o in outlets],
            "meters": [{"id": m.id, "name": m.name, "kind": m.kind, "rated_kw": m.rated_kw,
                        "mn": m.mn} for m in meters],
            "points": points,
        }  # fmt: skip

    data = await asyncio.to_thread(read)
    if data is None:
        return not_found(request, user)
    return render(request, "enterprise.html", user, **data)


async def _devices_run(request: Request, user: SessionUser) -> Response:
    def read() -> list[dict[str, Any]]:
        with database(request).connect() as connection:
            rows = connection.execute(
                point_query(user).order_by(MonitoringPoint.mn).limit(PAGE_SIZE)
            ).all()
            return [point_view(connection, row, detail=False) for row in rows]

    return render(request, "enterprises.html", user, devices=await asyncio.to_thread(read),
                  enterprises=[], total=0, counties=[], industries=[],
                  wanted={"county": "", "industry": "", "q": ""}, offset=0)  # fmt: skip


def printable(text: str | None) -> str:
    """A typed filter without control characters (PostgreSQL's text holds no
    NUL; no code or name has any): what is left matches what it can."""
    return "".join(ch for ch in text or "" if ch >= " " and ch != "\x7f")


def _query_time(text: str | None) -> datetime | None:
    """A time typed into the page's form (``datetime-local``, ISO 8601 with or
    without a zone); ValueError for anything else."""
    if not text:
        return None
    return datetime.fromisoformat(text)


def _level(values: dict[str, Any]) -> float | None:
    level = values.get("rtd")
    return level if level is not None else values.get("avg")


@router.get("/points/{mn}", response_class=HTMLResponse, response_model=None)
async def point_page(
    request: Request,
    mn: str,
    *,
    cn: str = "2061",
    pollutant: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    lang = language(request)
    cn = cn if cn in DATA_KINDS else "2061"
    words = translator(lang)
    if printable(mn) != mn:
        return not_found(request, user)  # no MN holds a control character
    pollutant = printable(pollutant)[:16] or None

    def read() -> dict[str, Any] | None:
        with database(request).connect() as connection:
            row = visible_point(connection, user, mn)
            if row is None:
                return None
            point = point_view(connection, row, detail=True)
            factors = point["factors"]
            limited = [f["code"] for f in factors if f["limits"]]
            chosen = pollutant or (limited or [f["code"] for f in factors] or [None])[0]
            error = ""
            series: dict[str, Any] = {"items": [], "pollutants": [], "since": None,
                                      "until": None}  # fmt: skip
            try:
                series = read_measurements(
                    connection, user, mn, cn=cn, pollutant=chosen,
                    since=_query_time(since), until=_query_time(until),
                )  # fmt: skip
            except ValueError:
                error = words["pt_bad_time"]
            except ApiError as problem:
                error = str(problem.body["message_zh" if lang == "zh" else "message"])
            if chosen is None and series["pollutants"]:
                # A device with no factor registered (a meter): what it sends.
                factors = series["pollutants"]
                chosen = factors[0]["code"]
            alerts = connection.execute(
                select(Alert).where(Alert.mn == mn, scope(user)).order_by(Alert.id.desc())
                .limit(50)
            ).all()  # fmt: skip
            findings = connection.execute(
                select(FindingRecord).where(FindingRecord.mn == mn)
                .order_by(FindingRecord.id.desc()).limit(50)
            ).all()  # fmt: skip
        rows = []
        for item in series["items"]:
            values = item["values"].get(chosen) if chosen else None
            if values is None:
                continue
            rows.append({"data_time": item["data_time"], "source": item["source"],
                         "level": _level(values), **values})  # fmt: skip
        # The limit of the data's time, as the chart draws it; today's without data.
        described = {f["code"]: f for f in [*factors, *series["pollutants"]]}.get(chosen or "")
        limit = described["limits"][0] if described and described["limits"] else None
        return {
            "point": point, "factors": factors, "pollutant": chosen, "error": error,
            "rows": rows, "limit": limit, "since": series["since"], "until": series["until"],
            "has_corrected": any(r["corrected"] is not None for r in rows),
            "alerts": [{"id": a.id, "level": a.level, "state": a.state, "rule": a.rule,
                        "pollutant": a.pollutant, "explanation": a.explanation,
                        "opened_at": utc_as_cst_text(a.opened_at)} for a in alerts],
            "findings": [{"id": f.id, "rule": f.rule, "pollutant": f.pollutant,
                          "severity": f.severity, "window_start": cst_text(f.window_start),
                          "explanation": f.explanation} for f in findings],
        }  # fmt: skip

    data = await asyncio.to_thread(read)
    if data is None:
        return not_found(request, user)
    source = None
    if data["since"] is not None:
        query = {"cn": cn, "since": data["since"], "until": data["until"]}
        if data["pollutant"]:
            query["pollutant"] = data["pollutant"]
        source = f"/api/v1/points/{mn}/measurements?{urlencode(query)}"
    return render(
        request, "point.html", user, status=422 if data["error"] else 200, cn=cn,
        data_kinds=DATA_KINDS, source=source,
        form_since=(data["since"] or "")[:16], form_until=(data["until"] or "")[:16], **data,
    )  # fmt: skip


def evidence_context(row: Any) -> dict[str, Any]:
    """What the alert page's evidence chart and raw-frame table fetch: the
    alert's point and pollutant, the hours around its findings, and the frames
    received around the newest frame it cites (an ``alert`` row)."""
    if row.mn.startswith("meter:"):
        return {}  # a meter that only sends batches: its readings are on the enterprise page
    rule = RULES.get(row.rule)
    reads = (rule.reads if rule is not None else None) or frozenset()
    cn = next((kind for kind in ("2061", "2051", "2011") if kind in reads), "2061")
    first: datetime = row.first_finding_at
    last: datetime = row.last_finding_at
    since = first - EVIDENCE_MARGINS[cn]
    until = min(last + EVIDENCE_MARGINS[cn], since + WINDOWS[cn].longest)
    chart = {"cn": cn, "since": cst_text(since), "until": cst_text(until)}
    if row.pollutant:
        chart["pollutant"] = row.pollutant
    evidence = row.evidence if isinstance(row.evidence, dict) else {}
    cited = [f for f in evidence.get("frames", []) if isinstance(f, int)][:100]
    frames: dict[str, Any] = {"order": "asc", "limit": 200}
    received = utc_as_cst_text(row.frame_received_at)
    if received is not None:
        moment = datetime.fromisoformat(received)
        frames["since"] = (moment - EVIDENCE_FRAMES_BEFORE).isoformat()
        frames["until"] = (moment + EVIDENCE_FRAMES_AFTER).isoformat()
    return {
        "evidence_chart": f"/api/v1/points/{row.mn}/measurements?{urlencode(chart)}",
        "evidence_frames": f"/api/v1/points/{row.mn}/frames?{urlencode(frames)}"
        if received is not None else None,
        "evidence_cited": f"/api/v1/points/{row.mn}/frames?"
        f"{urlencode([('frame', f) for f in cited])}" if cited else None,
        "evidence_first": cst_text(first),
        "evidence_last": cst_text(last),
        "evidence_point": f"/points/{row.mn}?{urlencode(chart)}",
    }  # fmt: skip
