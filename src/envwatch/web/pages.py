"""The server-rendered pages (Chinese first, ``?lang=en`` for English): login,
the overview map, the alert inbox, an alert with the actions the user's role
allows, and an enterprise's history. Every change is a POST carrying the
session's CSRF token."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from envwatch.alerts.desk import AlertDesk, AlertError
from envwatch.alerts.filters import AlertFilter
from envwatch.alerts.queries import (
    NO_FILTER,
    alert_view,
    visible_alert,
    visible_alerts,
)
from envwatch.alerts.workflow import TransitionError
from envwatch.auth.sessions import LoginError, SessionUser, attempt_login, logout
from envwatch.hj212.codes import now_cst
from envwatch.rectification.evidence import EvidenceError, stored_names
from envwatch.rules.catalogue import RULES
from envwatch.rules.catalogue.base import RULE_KINDS
from envwatch.settings import get_settings
from envwatch.store.schema import MAX_ID, County
from envwatch.times import utc_as_cst_text
from envwatch.web.api_alerts import AlertId
from envwatch.web.errors import ApiError
from envwatch.web.evidence import evidence_view
from envwatch.web.i18n import language, translator
from envwatch.web.mapsvg import county_map
from envwatch.web.overview import overview
from envwatch.web.pages_cases import case_context
from envwatch.web.pages_points import evidence_context
from envwatch.web.pages_zoning import dashboard_layers
from envwatch.web.people import (
    LOGIN_CSRF_FIELD,
    SESSION_COOKIE,
    api_user,
    csrf_ok,
    current_user,
    login_csrf_ok,
    login_policy,
    new_login_csrf,
    peer_of,
    set_login_csrf_cookie,
    set_session_cookie,
)
from envwatch.web.rendering import database, form, not_found, render

router = APIRouter()


def login_form(request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
    """The login page, with a fresh login CSRF token in its form and cookie."""
    token = new_login_csrf()
    response = render(request, "login.html", None, status=status, error=error,
                      login_csrf=token)  # fmt: skip
    set_login_csrf_cookie(request, response, token)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return login_form(request)


@router.post("/login", response_model=None)
async def login_submit(request: Request) -> Response:
    fields = await form(request)
    words = translator(language(request))
    if not login_csrf_ok(request, fields.get(LOGIN_CSRF_FIELD)):
        # Not from our own login page (or from one too old): never a login.
        return login_form(request, status=403, error=words["login_expired"])
    try:
        token, _ = await asyncio.to_thread(
            attempt_login, database(request), fields.get("username", ""),
            fields.get("password", ""), peer_of(request), login_policy(),
        )  # fmt: skip
    except LoginError as error:
        message = (
            words["locked"] if error.code == "locked"
            else words["login_throttled"] if error.code == "throttled"
            else words["bad_login"]
        )  # fmt: skip
        status = 429 if error.code == "throttled" else 401
        return login_form(request, status=status, error=message)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, token)
    return response


@router.post("/logout", response_model=None)
async def logout_submit(request: Request) -> Response:
    user = await current_user(request)
    fields = await form(request)
    if user is not None and not csrf_ok(user, fields.get("csrf")):
        # A page of another site must not be able to log the user out either.
        words = translator(language(request))
        return render(request, "error.html", user, status=403, message=words["csrf_failed"])
    if user is not None:
        token = request.cookies.get(SESSION_COOKIE, "")

        def end() -> None:
            with database(request).begin() as connection:
                logout(connection, token)

        await asyncio.to_thread(end)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    user = await current_user(request)
    if user is None:
        return login_form(request)

    def read() -> dict[str, Any]:
        offline_after = timedelta(seconds=get_settings().offline_after_s)
        summary = overview(database(request), user, datetime.now(UTC), offline_after)
        with database(request).connect() as connection:
            newest = visible_alerts(connection, user, AlertFilter(open_only=True), limit=15).rows
            layers = dashboard_layers(connection, user, now_cst().replace(tzinfo=None))
        return {"summary": summary, "newest": [alert_view(row) for row in newest],
                "layers": layers}  # fmt: skip

    data = await asyncio.to_thread(read)
    areas, height = county_map()
    counts = data["summary"].open_alerts
    heat = {a.code: min(3, (counts.get(a.code, 0) + 1) // 2) for a in areas}
    return render(request, "dashboard.html", user, areas=areas, height=height, heat=heat,
                  counts=counts, kinds=RULE_KINDS, **data)  # fmt: skip


INBOX_PAGE = 100
_MULTI = ("state", "level", "county", "rule", "kind")


def inbox_filter(request: Request) -> tuple[AlertFilter, str]:
    """The inbox's filter from the page's query (empty fields ignored), and
    what was wrong with it, if anything (then no filter)."""
    params = request.query_params
    asked: dict[str, Any] = {
        key: tuple(v for v in params.getlist(key) if v) for key in _MULTI if params.getlist(key)
    }
    for key in ("enterprise_id", "industry", "mn", "pollutant", "q"):
        if params.get(key):
            asked[key] = params[key]
    if params.get("overdue") in {"1", "0"}:
        asked["overdue"] = params["overdue"] == "1"
    if params.get("open_only") == "1":
        asked["open_only"] = True
    try:
        return AlertFilter.model_validate(asked), ""
    except ValidationError as error:
        problem = error.errors()[0]
        return NO_FILTER, f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}"


@router.get("/alerts", response_class=HTMLResponse, response_model=None)
async def inbox(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    filters, problem = inbox_filter(request)
    try:
        page_number = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page_number = 1

    def read() -> dict[str, Any]:
        with database(request).connect() as connection:
            page = visible_alerts(connection, user, filters, limit=INBOX_PAGE,
                                  offset=(page_number - 1) * INBOX_PAGE)  # fmt: skip
            names = dict(connection.execute(select(County.code, County.name_zh)).all())
        return {"alerts": [alert_view(row) for row in page.rows], "total": page.total,
                "counties": names}  # fmt: skip

    data = await asyncio.to_thread(read)
    others = [(k, v) for k, v in request.query_params.multi_items() if k not in {"page", "lang"}]
    pages = max(1, -(-data["total"] // INBOX_PAGE))
    return render(request, "alerts.html", user, filters=filters, problem=problem,
                  page=page_number, pages=pages, query=urlencode(others), kinds=RULE_KINDS,
                  rules=RULES, **data)  # fmt: skip


async def _alert_page(
    request: Request, user: SessionUser, alert_id: int, status: int = 200, error: str = ""
) -> HTMLResponse:
    lang = language(request)

    def read() -> tuple[Any, list[Any], dict[str, Any]]:
        with database(request).connect() as connection:
            row, events = visible_alert(connection, user, alert_id)
            shown = {} if row is None else evidence_view(
                connection, row.evidence, translator(lang), lang, row.mn
            )  # fmt: skip
            return row, events, shown

    row, events, evidence = await asyncio.to_thread(read)
    if row is None:
        return not_found(request, user)
    desk: AlertDesk = request.app.state.alert_desk()
    item = alert_view(row)
    allowed = desk.workflow.allowed(row.state, user.role)
    merge_targets = (
        await asyncio.to_thread(_merge_targets, request, user, row) if "merge" in allowed else []
    )
    return render(
        request,
        "alert.html",
        user,
        status=status,
        alert=item,
        error=error,
        allowed=allowed,
        merge_targets=merge_targets,
        rule_title=_rule_title(item["rule"], lang),
        **evidence,
        **evidence_context(row),
        **await asyncio.to_thread(case_context, request, user, row, events),
        events=[
            {
                "at": utc_as_cst_text(e.at) or "",
                "actor": e.actor,
                "action": e.action,
                "from": e.from_state,
                "to": e.to_state,
                "note": e.note,
            }
            for e in events
        ],
    )


def _merge_targets(request: Request, user: SessionUser, alert: Any) -> list[dict[str, Any]]:
    """The open alerts of the same enterprise this one could be merged into
    (a duplicate of the same event), newest first."""
    if alert.enterprise_id is None:
        return []
    same_enterprise = AlertFilter(open_only=True, enterprise_id=alert.enterprise_id)
    with database(request).connect() as connection:
        rows = visible_alerts(connection, user, same_enterprise, limit=50).rows
    return [alert_view(row) for row in rows if row.id != alert.id]


def _rule_title(rule_id: str, lang: str) -> str:
    rule = RULES.get(rule_id)
    return rule.title_zh if rule is not None and lang == "zh" else rule_id


@router.get("/alerts/{alert_id}", response_class=HTMLResponse, response_model=None)
async def alert_page(request: Request, alert_id: AlertId) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return await _alert_page(request, user, alert_id)


@router.post("/alerts/{alert_id}/act", response_model=None)
async def alert_act(request: Request, alert_id: AlertId) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    fields = await form(request)
    if not csrf_ok(user, fields.get("csrf")):
        return await _alert_page(request, user, alert_id, 403, "CSRF")
    if any("\x00" in value for value in fields.values()):  # PostgreSQL's text holds no NUL
        return await _alert_page(request, user, alert_id, 422, "NUL")
    desk: AlertDesk = request.app.state.alert_desk()
    into = fields.get("into", "")
    # The files the page's script put in the evidence store first.
    stored = stored_names(fields.get("evidence", ""))
    if stored is None:
        return await _alert_page(request, user, alert_id, 422, "evidence")
    try:
        await asyncio.to_thread(
            desk.act, alert_id, fields.get("action", ""), user.username, peer=peer_of(request),
            note=fields.get("note", ""), outcome=fields.get("outcome") or None,
            into=int(into) if into.isdigit() and int(into) <= MAX_ID else None, stored=stored,
        )  # fmt: skip
    except (AlertError, TransitionError, EvidenceError) as error:
        return await _alert_page(request, user, alert_id, 409, error.message(language(request)))
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.get("/api/v1/alerts/stream")
async def alert_stream(request: Request) -> Response:
    """Server-sent events: the newest visible alert's id, whenever it changes
    (``data: {"newest": id}``), for as long as the session or token is valid
    (then an ``ended`` event, and the stream closes)."""
    from fastapi.responses import StreamingResponse  # noqa: PLC0415

    # The page's session, or a read token of a machine client.
    user = await api_user(request)

    def newest() -> int | None:
        with database(request).connect() as connection:
            rows = visible_alerts(connection, user, limit=1).rows
        return rows[0].id if rows else None

    async def events() -> Any:
        last: int | None = None
        while not await request.is_disconnected():
            try:
                # Asked again each time: a logout or a revoked token ends the stream.
                await api_user(request)
            except ApiError:
                yield 'event: ended\ndata: {"reason": "unauthenticated"}\n\n'
                return
            current = await asyncio.to_thread(newest)
            if current != last:
                last = current
                yield f"data: {json.dumps({'newest': current})}\n\n"
            await asyncio.sleep(request.app.state.stream_interval_s)

    return StreamingResponse(events(), media_type="text/event-stream")
