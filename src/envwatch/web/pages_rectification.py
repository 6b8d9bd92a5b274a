"""The rectification pages (集中整改): the problems a user may see with
filters, one problem with its evidence, history and the workflow buttons the
user's role may press now, and the public notice (公示) that needs no login
and shows no personal data. Changes are POSTs with the session's CSRF token,
through the same desk as the API and the CLI."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from envwatch.alerts.workflow import ROLES_ZH, TransitionError
from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.rectification.complaint_desk import (
    ACTING_ROLES,
    reply,
    take_complaints,
    to_problem,
    visible_complaints,
    visible_hotspots,
)
from envwatch.rectification.desk import ProblemError, RectificationDesk
from envwatch.rectification.evidence import EvidenceError, stored_names
from envwatch.rectification.queries import (
    ProblemFilter,
    public_notice,
    visible_problem,
    visible_problems,
)
from envwatch.store.schema import MAX_ID, County
from envwatch.web.i18n import language, translator
from envwatch.web.mapsvg import county_map, map_point
from envwatch.web.people import csrf_ok, current_user, peer_of
from envwatch.web.rendering import database, form, not_found, render

router = APIRouter()
ProblemId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]
CODE = re.compile(r"[0-9A-Za-z_]{1,32}")
PAGE_SIZE = 200
MAX_NOTE = 4000


def desk_of(request: Request) -> RectificationDesk:
    desk: RectificationDesk = request.app.state.rectification_desk()
    return desk


def _names(request: Request) -> dict[str, Any]:
    """The words of the workflow and the policy: Chinese from their tables,
    the codes themselves in English."""
    desk = desk_of(request)
    english = language(request) == "en"

    def shown(names: dict[str, str] | Any) -> dict[str, str]:
        return {code: code for code in names} if english else dict(names)

    return {
        "pstates": shown(desk.workflow.states),
        # The sweep's escalation is an event but no action of the table.
        "pactions": shown({**desk.workflow.actions, "escalate": "督办"}),
        "sources": shown(desk.policy.sources),
        "categories": shown(desk.policy.categories),
        "roles": shown(ROLES_ZH),
    }


def _choice(value: str | None, known: Any) -> str | None:
    # An unknown choice in the filter form reads as no choice.
    return value if value is not None and CODE.fullmatch(value) and value in known else None


@router.get("/problems", response_class=HTMLResponse, response_model=None)
async def problems_page(
    request: Request,
    *,
    state: str | None = None,
    county: str | None = None,
    source: str | None = None,
    category: str | None = None,
    overdue: str | None = None,
) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    desk = desk_of(request)
    filters = ProblemFilter(
        state=_choice(state, desk.workflow.states),
        county=county if county and CODE.fullmatch(county) else None,
        source=_choice(source, desk.policy.sources),
        category=_choice(category, desk.policy.categories),
        overdue=overdue == "1",
    )

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            problems, total = visible_problems(connection, user, filters, datetime.now(UTC),
                                               limit=PAGE_SIZE)  # fmt: skip
            counties = dict(connection.execute(select(County.code, County.name_zh)).all())
        return {"problems": problems, "total": total, "counties": counties}

    return render(request, "problems.html", user, filters=filters, **_names(request),
                  **await asyncio.to_thread(read))  # fmt: skip


async def _problem_page(
    request: Request, user: SessionUser, problem_id: int, status: int = 200, error: str = ""
) -> HTMLResponse:
    desk = desk_of(request)

    def read() -> dict[str, Any] | None:
        with database(request).connect() as connection:
            return visible_problem(connection, user, problem_id, desk.workflow,
                                   datetime.now(UTC))  # fmt: skip

    problem = await asyncio.to_thread(read)
    if problem is None:
        return not_found(request, user)
    needs = {t.action for t in desk.workflow.transitions if t.needs_evidence}
    targets = {t.action for t in desk.workflow.transitions if t.needs_target}
    return render(request, "problem.html", user, status=status, error=error, problem=problem,
                  needs_evidence=needs, needs_target=targets, **_names(request))  # fmt: skip


@router.get("/problems/{problem_id}", response_class=HTMLResponse, response_model=None)
async def problem_page(request: Request, problem_id: ProblemId) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return await _problem_page(request, user, problem_id)


@router.post("/problems/{problem_id}/act", response_model=None)
async def act_submit(request: Request, problem_id: ProblemId) -> Response:
    """A workflow button: ``action``, ``note``, ``target`` (举一反三) and
    ``evidence`` (files uploaded by the page through the API first)."""
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    fields = await form(request)
    words = translator(language(request))
    if not csrf_ok(user, fields.get("csrf")):
        return await _problem_page(request, user, problem_id, 403, words["cs_csrf_refused"])
    action = fields.get("action", "")
    note = fields.get("note", "").strip()
    target_text = fields.get("target", "").strip()
    stored = stored_names(fields.get("evidence", ""))
    if (
        not CODE.fullmatch(action)
        or len(note) > MAX_NOTE
        or "\x00" in note
        or stored is None
        or (target_text and not (target_text.isdigit() and int(target_text) <= MAX_ID))
    ):
        return await _problem_page(request, user, problem_id, 422, words["rf_bad_form"])
    target = int(target_text) if target_text else None
    try:
        await asyncio.to_thread(
            desk_of(request).act, problem_id, action, user.username, peer=peer_of(request),
            note=note, target=target, stored=stored,
        )  # fmt: skip
    except (ProblemError, TransitionError, EvidenceError) as error:
        if error.code == "unknown_problem" and target is None:
            return not_found(request, user)
        return await _problem_page(request, user, problem_id, 409,
                                   error.message(language(request)))  # fmt: skip
    return RedirectResponse(f"/problems/{problem_id}", status_code=303)


@router.get("/notice", response_class=HTMLResponse, response_model=None)
async def notice_page(request: Request) -> Response:
    """The public notice (整改公示): no login, no personal data."""

    def read() -> list[dict[str, Any]]:
        with database(request).connect() as connection:
            return public_notice(connection)

    user = await current_user(request)
    return render(request, "notice.html", user, items=await asyncio.to_thread(read),
                  **_names(request))  # fmt: skip


# ---- complaints (信访/12345): the list, the map with hotspots, intake ------

CATEGORY_COLOURS = {"noise": "#1f6fb2", "odour": "#8a4f9e", "air": "#b23b1f"}
COMPLAINT_FIELDS = ("channel", "reference", "received_at", "category", "content", "address",
                    "longitude", "latitude", "county", "complainant")  # fmt: skip


async def _complaints_page(
    request: Request, user: SessionUser, status: int = 200, error: str = ""
) -> HTMLResponse:
    desk = desk_of(request)

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            items, total = visible_complaints(connection, user, limit=PAGE_SIZE)
            spots = visible_hotspots(connection, user, desk)
            counties = dict(connection.execute(select(County.code, County.name_zh)).all())
        return {"complaints": items, "total": total, "hotspots": spots, "counties": counties}

    data = await asyncio.to_thread(read)
    point = map_point
    for item in data["complaints"]:
        if item["longitude"] is not None and item["latitude"] is not None:
            item["x"], item["y"] = point(item["longitude"], item["latitude"])
    for spot in data["hotspots"]:
        spot["x"], spot["y"] = point(spot["longitude"], spot["latitude"])
    areas, height = county_map()
    return render(request, "complaints.html", user, status=status, error=error, areas=areas,
                  height=height, colours=CATEGORY_COLOURS, may_act=user.role in ACTING_ROLES,
                  channels=desk.policy.complaints.channels, **_names(request), **data)  # fmt: skip


@router.get("/complaints", response_class=HTMLResponse, response_model=None)
async def complaints_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return await _complaints_page(request, user)


async def _complaint_form(request: Request) -> tuple[SessionUser | None, dict[str, str], str]:
    """The user, the posted form, and what is wrong with the request ("" if nothing)."""
    user = await current_user(request)
    if user is None:
        return None, {}, ""
    fields = await form(request)
    words = translator(language(request))
    if not csrf_ok(user, fields.get("csrf")):
        return user, fields, words["cs_csrf_refused"]
    if user.role not in ACTING_ROLES:
        return user, fields, words["rf_not_yours"]
    return user, fields, ""


@router.post("/complaints", response_model=None)
async def complaint_submit(request: Request) -> Response:
    """Record a complaint taken by phone, letter or visit (the form of the page)."""
    user, fields, refused = await _complaint_form(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if refused:
        return await _complaints_page(request, user, 403, refused)
    row = {name: fields.get(name, "").strip() for name in COMPLAINT_FIELDS}
    allowed = user.counties if user.role == "county_officer" else None
    actor = Actor(user.username, user.role, peer_of(request))
    ids, errors = await asyncio.to_thread(take_complaints, desk_of(request), [row], actor,
                                          source="form", counties_allowed=allowed)  # fmt: skip
    if errors:
        reasons = "；".join(f"{e.column}：{e.reason}" for e in errors)
        return await _complaints_page(request, user, 422, reasons)
    return RedirectResponse(f"/complaints#complaint-{ids[0]}", status_code=303)


@router.post("/complaints/{complaint_id}/reply", response_model=None)
async def complaint_reply_submit(request: Request, complaint_id: ProblemId) -> Response:
    user, fields, refused = await _complaint_form(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if refused:
        return await _complaints_page(request, user, 403, refused)
    text = fields.get("text", "")
    if len(text) > MAX_NOTE or "\x00" in text:
        return await _complaints_page(
            request, user, 422, translator(language(request))["rf_bad_form"]
        )
    try:
        await asyncio.to_thread(reply, desk_of(request), complaint_id, user.username, text,
                                peer=peer_of(request))  # fmt: skip
    except ProblemError as error:
        if error.code == "unknown_complaint":
            return not_found(request, user)
        return await _complaints_page(request, user, 422, error.message(language(request)))
    return RedirectResponse(f"/complaints#complaint-{complaint_id}", status_code=303)


@router.post("/complaints/{complaint_id}/problem", response_model=None)
async def complaint_problem_submit(request: Request, complaint_id: ProblemId) -> Response:
    """Turn a complaint into a rectification problem (lead unit and deadline)."""
    user, fields, refused = await _complaint_form(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if refused:
        return await _complaints_page(request, user, 403, refused)
    try:
        deadline = date.fromisoformat(fields.get("deadline", ""))
    except ValueError:
        return await _complaints_page(
            request, user, 422, translator(language(request))["rf_bad_form"]
        )
    try:
        problem = await asyncio.to_thread(
            to_problem, desk_of(request), complaint_id, user.username,
            lead_unit=fields.get("lead_unit", ""), deadline=deadline,
            measures=fields.get("measures", "")[:MAX_NOTE], peer=peer_of(request),
        )  # fmt: skip
    except ProblemError as error:
        if error.code == "unknown_complaint":
            return not_found(request, user)
        return await _complaints_page(request, user, 409, error.message(language(request)))
    return RedirectResponse(f"/problems/{problem}", status_code=303)
