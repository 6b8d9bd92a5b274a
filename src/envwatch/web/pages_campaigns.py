"""The pages of the bottom line's rectification sources: the satellite fire
points of straw burning (a map of the county boundaries with the points, and
their list: county or outside the city, the problem each became), the
inspection campaigns (大排查大整治) and one campaign with its checklist,
progress by county, targets and their results, and the results form for
inspectors. Changes are POSTs with the session's CSRF token, through the same
desk as the API and the CLI."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from envwatch.auth.sessions import SessionUser
from envwatch.rectification.campaign_desk import (
    INSPECTORS,
    CampaignError,
    record_results,
    visible_campaign,
    visible_campaigns,
)
from envwatch.rectification.campaigns import RESULTS
from envwatch.rectification.fire_desk import visible_fire_points
from envwatch.rectification.fires import FIRE_COLUMNS
from envwatch.store.schema import MAX_ID, County
from envwatch.web.i18n import N_, language, translator
from envwatch.web.mapsvg import county_map, map_point
from envwatch.web.pages_rectification import desk_of
from envwatch.web.people import csrf_ok, current_user, peer_of
from envwatch.web.rendering import database, form, not_found, render

router = APIRouter()
CampaignId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]
PAGE_SIZE = 300
TARGET = re.compile(r"([a-z_]{1,32}):(\d{1,10})")
MAX_NOTE = 4000
SHA256 = re.compile(r"[0-9a-f]{64}")
RESULT_WORDS = {"pass": N_("bl_result_pass"), "fail": N_("bl_result_fail"),
                "na": N_("bl_result_na")}  # fmt: skip
"""The msgid of each result (``campaigns.RESULTS``)."""


@router.get("/fire-points", response_class=HTMLResponse, response_model=None)
async def fire_points_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            points, total = visible_fire_points(connection, user, limit=PAGE_SIZE)
            counties = dict(connection.execute(select(County.code, County.name_zh)).all())
        return {"points": points, "total": total, "counties": counties}

    data = await asyncio.to_thread(read)
    for point in data["points"]:
        point["x"], point["y"] = map_point(point["longitude"], point["latitude"])
    areas, height = county_map()
    may_import = user.role in desk_of(request).assigners()  # as the import API decides
    return render(request, "fire_points.html", user, areas=areas, height=height,
                  may_import=may_import, import_columns=FIRE_COLUMNS, **data)  # fmt: skip


@router.get("/campaigns", response_class=HTMLResponse, response_model=None)
async def campaigns_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    desk = desk_of(request)

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            items, total = visible_campaigns(connection, user, desk, limit=PAGE_SIZE)
        return {"campaigns": items, "total": total}

    return render(request, "campaigns.html", user, **await asyncio.to_thread(read))


async def _campaign_page(
    request: Request, user: SessionUser, campaign_id: int, status: int = 200, error: str = ""
) -> HTMLResponse:
    desk = desk_of(request)

    def read() -> tuple[dict[str, Any] | None, dict[str, str]]:
        with database(request).connect() as connection:
            found = visible_campaign(connection, user, campaign_id, desk)
            counties = dict(connection.execute(select(County.code, County.name_zh)).all())
        return found, counties

    campaign, counties = await asyncio.to_thread(read)
    if campaign is None:
        return not_found(request, user)
    return render(request, "campaign.html", user, status=status, error=error, campaign=campaign,
                  counties=counties, results=RESULTS, result_words=RESULT_WORDS,
                  may_record=user.role in INSPECTORS)  # fmt: skip


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse, response_model=None)
async def campaign_page(request: Request, campaign_id: CampaignId) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return await _campaign_page(request, user, campaign_id)


@router.post("/campaigns/{campaign_id}/results", response_model=None)
async def results_submit(request: Request, campaign_id: CampaignId) -> Response:
    """The results form of one target: ``target`` (kind:id), and per item
    ``result_N`` (pass/fail/na; empty: not recorded now), ``note_N`` and
    ``evidence_N`` (``<sha256> <name>`` of a file the page uploaded first)."""
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    fields = await form(request)
    words = translator(language(request))
    if not csrf_ok(user, fields.get("csrf")):
        return await _campaign_page(request, user, campaign_id, 403, words["cs_csrf_refused"])
    target = TARGET.fullmatch(fields.get("target", ""))
    rows = []
    for key, value in sorted(fields.items()):
        number = key.removeprefix("result_")
        if key.startswith("result_") and number.isdigit() and value:
            note = fields.get(f"note_{number}", "").strip()
            digest, _, name = fields.get(f"evidence_{number}", "").strip().partition(" ")
            if len(note) > MAX_NOTE or "\x00" in note or (digest and not SHA256.fullmatch(digest)):
                target = None
            rows.append({"对象类型": target.group(1) if target else "",
                         "对象编号": target.group(2) if target else "", "检查项": number,
                         "结果": value, "说明": note, "佐证文件": name.strip(),
                         "佐证SHA256": digest})  # fmt: skip
    if target is None or not rows:
        return await _campaign_page(request, user, campaign_id, 422, words["rf_bad_form"])
    try:
        _, errors = await asyncio.to_thread(
            record_results, desk_of(request), campaign_id, user.username, rows,
            peer=peer_of(request), now=datetime.now(UTC),
        )  # fmt: skip
    except CampaignError as error:
        if error.code == "unknown_campaign":
            return not_found(request, user)
        return await _campaign_page(request, user, campaign_id, 403,
                                    error.message(language(request)))  # fmt: skip
    if errors:
        reasons = "；".join(f"{e.column}：{e.reason}" for e in errors)
        return await _campaign_page(request, user, campaign_id, 422, reasons)
    return RedirectResponse(f"/campaigns/{campaign_id}#target-{target.group(1)}-"
                            f"{target.group(2)}", status_code=303)  # fmt: skip
