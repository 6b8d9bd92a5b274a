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
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.rectification.campaign_desk import (
    CREATORS,
    INSPECTORS,
    CampaignError,
    create_campaign,
    record_results,
    visible_campaign,
    visible_campaigns,
)
from envwatch.rectification.campaigns import RESULTS, CampaignSpec
from envwatch.rectification.fire_desk import visible_fire_points
from envwatch.rectification.fires import FIRE_COLUMNS
from envwatch.registry.registers import REGISTERS
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
    return await _campaigns_page(request, user)


async def _campaigns_page(
    request: Request, user: SessionUser, status: int = 200, errors: Sequence[str] = (),
    entered: Mapping[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    desk = desk_of(request)

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            items, total = visible_campaigns(connection, user, desk, limit=PAGE_SIZE)
        return {"campaigns": items, "total": total}

    policy = desk.policy.campaigns
    return render(request, "campaigns.html", user, status=status, errors=list(errors),
                  entered=entered or {}, may_create=user.role in CREATORS,
                  themes={code: theme[0] for code, theme in policy.themes.items()},
                  severities=[severity[0] for severity in policy.severities.values()],
                  kinds={kind: register.name_zh for kind, register in REGISTERS.items()},
                  **await asyncio.to_thread(read))  # fmt: skip


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def campaign_of_form(fields: Mapping[str, str]) -> dict[str, Any]:
    """The campaign form as a ``CampaignSpec``'s fields: counties separated by
    commas, a checklist item a line (``text | legal basis | severity`` or
    ``text | severity``), a
    target a line (``kind:id``); what does not parse is left for the spec's
    validation to name."""
    items = []
    for line in _lines(fields.get("items", "")):
        parts = [part.strip() for part in line.replace("｜", "|").split("|")]
        # "text | basis | severity", or "text | severity" without a basis.
        text, basis, severity = (parts[0], "", parts[1]) if len(parts) == 2 else (
            *parts, "", "")[:3]  # fmt: skip
        items.append({"text": text, "legal_basis": basis, "severity": severity})
    targets = []
    for line in _lines(fields.get("targets", "")):
        kind, _, ref = line.replace("：", ":").partition(":")
        targets.append({"kind": kind.strip(), "id": ref.strip()})
    counties = [c.strip() for c in fields.get("counties", "").replace("，", ",").split(",")]
    return {"name": fields.get("name", "").strip(), "theme": fields.get("theme", ""),
            "starts_on": fields.get("starts_on", ""), "ends_on": fields.get("ends_on", ""),
            "counties": [c for c in counties if c], "items": items, "targets": targets}  # fmt: skip


@router.post("/campaigns", response_model=None)
async def campaign_create(request: Request) -> Response:
    """The city bureau's form for a new campaign (as ``POST /api/v1/campaigns``):
    every part or none; each problem named by field (and line)."""
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    fields = await form(request)
    words = translator(language(request))
    if not csrf_ok(user, fields.get("csrf")):
        return await _campaigns_page(request, user, 403, [words["cs_csrf_refused"]])
    if user.role not in CREATORS:
        return await _campaigns_page(request, user, 403, [words["bl_may_not_create"]], fields)
    try:
        spec = CampaignSpec.model_validate(campaign_of_form(fields))
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        return await _campaigns_page(request, user, 422, problems, fields)
    actor = Actor(user.username, user.role, peer_of(request))
    campaign, errors = await asyncio.to_thread(
        create_campaign, desk_of(request), spec, actor, now=datetime.now(UTC)
    )
    if campaign is None:
        problems = [f"{e.column} {e.row}: {e.reason}" for e in errors]
        return await _campaigns_page(request, user, 422, problems, fields)
    return RedirectResponse(f"/campaigns/{campaign}", status_code=303)


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
