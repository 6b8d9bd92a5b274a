"""The judgement pages: the week's ranking with its indicators, the listed
counties (挂牌督办) with their actions, interviews and eco-compensation
(/judgement); a kept weekly report as a page with its downloads
(/judgement/reports/{week}); the analysis page (/analysis), whose table,
chart, drill-down and exports come from the analysis API
(``static/judgement.js``). Supervisors only."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from envwatch.alerts.scope import SUPERVISOR_ROLES
from envwatch.errors import PeerError
from envwatch.judgement.facts import MEASURES
from envwatch.judgement.store import (
    ListingDesk,
    all_listings,
    eco_rows,
    interviews,
    judge_week,
    snapshot_row,
    snapshots,
    week_contract,
)
from envwatch.judgement.weeks import WEEK_PATTERN
from envwatch.web.api_judgement import parameters
from envwatch.web.people import current_user
from envwatch.web.rendering import database, not_found, render

router = APIRouter()
BODY = re.compile(r"<body>(.*)</body>", re.S)


@router.get("/judgement", response_class=HTMLResponse, response_model=None)
async def judgement_page(request: Request, week: str = "") -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if user.role not in SUPERVISOR_ROLES or (week and not WEEK_PATTERN.match(week)):
        return not_found(request, user)
    chosen = parameters()

    def read() -> dict[str, Any]:
        engine = database(request)
        with engine.connect() as connection:
            kept = snapshots(connection, limit=60)
            shown = week or (kept[0]["week"] if kept else "")
            row = snapshot_row(connection, shown, chosen.version) if shown else None
        snapshot = None
        if shown and row is None:
            try:
                snapshot = judge_week(engine, shown, chosen)
            except PeerError:
                snapshot = None
        elif row is not None:
            snapshot = {"id": row.id, **row.result}
        desk = ListingDesk(engine)
        with engine.connect() as connection:
            document = week_contract(connection, shown, snapshot) if snapshot else None
            listings = all_listings(connection, user)
            return {
                "week": shown, "weeks": sorted({k["week"] for k in kept}, reverse=True),
                "snapshot": snapshot, "document": document, "listings": listings,
                "listing_actions": {x["id"]: desk.workflow.allowed(x["state"], user.role)
                                    for x in listings},
                "listing_states": desk.workflow.states, "workflow_actions": desk.workflow.actions,
                "interviews": interviews(connection, user)[:50],
                "eco": eco_rows(connection)[:60],
                "indicators": chosen.indicators,
            }  # fmt: skip

    values = await asyncio.to_thread(read)
    return render(request, "judgement.html", user, **values)


@router.get("/judgement/reports/{week}", response_class=HTMLResponse, response_model=None)
async def report_page(request: Request, week: str) -> Response:
    from envwatch.judgement.report import weekly_report  # noqa: PLC0415

    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if user.role not in SUPERVISOR_ROLES or not WEEK_PATTERN.match(week):
        return not_found(request, user)
    try:
        files = await asyncio.to_thread(weekly_report, database(request), week, parameters())
    except PeerError:
        return not_found(request, user)
    found = BODY.search(files.html)
    body = found.group(1) if found else ""
    return render(request, "judgement_report.html", user, week=week, report=body,
                  snapshot_id=files.snapshot_id)  # fmt: skip


@router.get("/analysis", response_class=HTMLResponse, response_model=None)
async def analysis_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if user.role not in SUPERVISOR_ROLES:
        return not_found(request, user)
    measures = [{"name": m.name, "zh": m.zh, "en": m.en, "unit": m.unit}
                for m in MEASURES.values()]  # fmt: skip
    return render(request, "analysis.html", user, measures=measures)
