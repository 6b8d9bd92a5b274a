"""The enforcement-case pages: the cases a user may see, one case with its
alerts, records, legal basis and penalty decision, and opening a case from
an alert; on the alert page, its case (or the button to open one) and the
enterprise's explanation. Every change is a POST carrying the session's
CSRF token, checked by the same rules as the API (``enforcement/cases.py``)."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from envwatch.alerts.queries import alert_view, scope
from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.enforcement.cases import (
    CASE_STATES,
    KINDS,
    CaseError,
    CaseFilter,
    default_kind,
    may_change_cases,
    open_case,
    update_case,
    visible_case,
    visible_cases,
)
from envwatch.rectification.queries import attachment_link
from envwatch.store.schema import MAX_ID, Alert, County, Enterprise
from envwatch.times import cst_text, utc_as_cst_text
from envwatch.web.i18n import language, translator
from envwatch.web.people import csrf_ok, current_user, peer_of
from envwatch.web.rendering import database, form, not_found, render

router = APIRouter()
CaseId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]
PAGE_SIZE = 100
COUNTY_CODE = re.compile(r"[0-9A-Za-z]{1,12}")
MAX_TEXT = {"findings": 8000, "legal_basis": 4000, "penalty_reference": 200}


def _kinds(lang: str) -> dict[str, str]:
    return dict(KINDS) if lang == "zh" else {"onsite": "on-site", "offsite": "off-site"}


def _case_states(lang: str) -> dict[str, str]:
    return dict(CASE_STATES) if lang == "zh" else {"open": "open", "closed": "closed"}


def _moment(value: Any) -> str:
    text = utc_as_cst_text(value)
    return text[:16].replace("T", " ") if text else ""


def _refusal(request: Request, user: SessionUser, error: CaseError) -> HTMLResponse:
    if error.code in {"unknown_case", "unknown_alert"}:
        return not_found(request, user)
    status = 403 if error.code == "role_not_allowed" else 409
    return render(request, "error.html", user, status=status,
                  message=error.message(language(request)))  # fmt: skip


@router.get("/cases", response_class=HTMLResponse, response_model=None)
async def cases_page(
    request: Request,
    state: str | None = None,
    kind: str | None = None,
    county: str | None = None,
) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    # An unknown choice in the filter form reads as no choice.
    filters = CaseFilter(
        state=state if state in CASE_STATES else None,
        kind=kind if kind in KINDS else None,
        county=county if county and COUNTY_CODE.fullmatch(county) else None,
    )

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            cases, total = visible_cases(connection, user, filters, limit=PAGE_SIZE)
            names = dict(connection.execute(select(County.code, County.name_zh)).all())
        for case in cases:
            case["opened"] = _moment(case["opened_at"])
            case["closed"] = _moment(case["closed_at"])
        return {"cases": cases, "total": total, "counties": names}

    lang = language(request)
    return render(request, "cases.html", user, filters=filters, kinds=_kinds(lang),
                  case_states=_case_states(lang), may_open=may_change_cases(user),
                  filtered=any((filters.state, filters.kind, filters.county)),
                  **await asyncio.to_thread(read))  # fmt: skip


async def _case_page(
    request: Request, user: SessionUser, case_id: int, status: int = 200, error: str = ""
) -> HTMLResponse:
    def read() -> dict[str, Any] | None:
        with database(request).connect() as connection:
            case = visible_case(connection, user, case_id)
            if case is None:
                return None
            alerts = connection.execute(
                select(Alert, Enterprise.name.label("enterprise_name"))
                .outerjoin(Enterprise, Alert.enterprise_id == Enterprise.id)
                .where(Alert.id.in_(case["alerts"]), scope(user))
                .order_by(Alert.id)
            ).all()
        case["opened"] = _moment(case["opened_at"])
        case["closed"] = _moment(case["closed_at"])
        for finding in case["findings_of_alerts"]:
            finding["window"] = cst_text(finding["window_start"])[:16].replace("T", " ")
        for entry in case["history"]:
            entry["when"] = _moment(entry["at"])
        return {"case": case, "alerts": [alert_view(row) for row in alerts]}

    data = await asyncio.to_thread(read)
    if data is None:
        return not_found(request, user)
    lang = language(request)
    may_record = may_change_cases(user) and data["case"]["state"] == "open"
    return render(request, "case.html", user, status=status, error=error, kinds=_kinds(lang),
                  case_states=_case_states(lang), may_record=may_record, **data)  # fmt: skip


@router.get("/cases/{case_id}", response_class=HTMLResponse, response_model=None)
async def case_page(request: Request, case_id: CaseId) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return await _case_page(request, user, case_id)


@router.post("/cases", response_model=None)
async def open_case_submit(request: Request) -> Response:
    """Open a case from the alert page's form (``alert_id``, ``kind``)."""
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    fields = await form(request)
    words = translator(language(request))
    if not csrf_ok(user, fields.get("csrf")):
        return render(request, "error.html", user, status=403, message=words["cs_csrf_refused"])
    alert_id = fields.get("alert_id", "")
    kind = fields.get("kind") or None
    if not (alert_id.isdigit() and int(alert_id) <= MAX_ID) or kind not in {None, *KINDS}:
        return render(request, "error.html", user, status=422, message=words["cs_bad_form"])
    actor = Actor(user.username, user.role, peer_of(request))

    def change() -> int:
        with database(request).begin() as connection:
            case_id, _ = open_case(connection, [int(alert_id)], actor, viewer=user, kind=kind)
        return case_id

    try:
        case_id = await asyncio.to_thread(change)
    except CaseError as error:
        return _refusal(request, user, error)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/record", response_model=None)
async def record_case_submit(request: Request, case_id: CaseId) -> Response:
    """Record findings, legal basis and penalty reference; close with ``close``."""
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    fields = await form(request)
    words = translator(language(request))
    if not csrf_ok(user, fields.get("csrf")):
        return await _case_page(request, user, case_id, 403, words["cs_csrf_refused"])
    changes = {name: fields[name].strip() for name in MAX_TEXT if name in fields}
    if any(len(value) > MAX_TEXT[name] or "\x00" in value for name, value in changes.items()):
        return await _case_page(request, user, case_id, 422, words["cs_bad_form"])
    actor = Actor(user.username, user.role, peer_of(request))
    close = fields.get("close") == "1"

    def change() -> None:
        with database(request).begin() as connection:
            update_case(connection, case_id, actor, viewer=user, changes=changes, close=close)

    try:
        await asyncio.to_thread(change)
    except CaseError as error:
        if error.code in {"unknown_case", "role_not_allowed"}:
            return _refusal(request, user, error)
        return await _case_page(request, user, case_id, 409, error.message(language(request)))
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def case_context(
    request: Request, user: SessionUser, alert: Any, events: list[Any]
) -> dict[str, Any]:
    """What the alert page shows of enforcement (``alert.html``, its anchor
    for pages_cases.py): the alert's case, or whether the user may open one
    and of which kind by default; and the enterprise's explanations (the
    ``explain`` events with their attachments)."""
    with database(request).connect() as connection:
        # Seen by the cases' own scope (a contractor sees the alert, not the case).
        case = None if alert.case_id is None else visible_case(connection, user, alert.case_id)
        positive = connection.execute(
            select(Enterprise.positive_list).where(Enterprise.id == alert.enterprise_id)
        ).scalar()
    lang = language(request)
    explanations = [
        {"at": _moment(e.at), "actor": e.actor, "note": e.note,
         "attachments": [attachment_link(alert.id, a) for a in e.attachments or []]}
        for e in events if e.action == "explain"
    ]  # fmt: skip
    # Keys of their own: the alert page's context is shared with other pages' parts.
    return {
        "alert_case": case,
        "may_open_case": alert.case_id is None and alert.enterprise_id is not None
        and may_change_cases(user),
        "default_case_kind": default_kind(bool(positive)),
        "case_kinds": _kinds(lang),
        "case_states": _case_states(lang),
        "enterprise_explanations": explanations,
    }  # fmt: skip
