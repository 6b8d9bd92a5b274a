"""The alert API for people logged in (session cookie; changes need the
session's CSRF token in ``X-CSRF-Token``): list with counts and paging, one
alert with its history and the actions allowed, and taking an action."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from envwatch.alerts.desk import AlertDesk, AlertError
from envwatch.alerts.filters import AlertFilter
from envwatch.alerts.queries import alert_view, visible_alert, visible_alerts
from envwatch.alerts.workflow import TransitionError
from envwatch.auth.sessions import LoginError, SessionUser, attempt_login, logout
from envwatch.rectification.evidence import EvidenceError
from envwatch.store.schema import MAX_BIG_ID, MAX_ID
from envwatch.times import utc_as_cst_text
from envwatch.web.errors import ApiError
from envwatch.web.people import (
    CSRF_HEADER,
    SESSION_COOKIE,
    Principal,
    api_person,
    api_user,
    csrf_ok,
    login_policy,
    peer_of,
    set_session_cookie,
)

router = APIRouter()
LOGIN_REFUSED = {"locked": 423, "throttled": 429}
MAX_OFFSET = MAX_BIG_ID
AlertId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]
NO_NUL = r"^[^\x00]*$"


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


FILE_NAME = r"^[^\x00-\x1f/\\]{1,200}$"


class StoredEvidence(BaseModel):
    """A file uploaded before an action (to ``/api/v1/evidence`` for a problem,
    ``/api/v1/alert-evidence`` for an alert), named in the action."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=FILE_NAME)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # No NUL in the texts: PostgreSQL's text holds none (a 500 otherwise).
    action: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    note: str = Field(default="", max_length=4000, pattern=NO_NUL)
    outcome: str | None = Field(default=None, max_length=32, pattern=NO_NUL)
    into: int | None = Field(default=None, ge=-MAX_ID, le=MAX_ID)
    evidence: list[StoredEvidence] = Field(default_factory=list, max_length=10)
    """Files uploaded before (``POST /api/v1/alert-evidence``) backing the action."""


class AlertPublic(BaseModel):
    """An alert as the API shows it; times in China Standard Time (+08:00)."""

    id: int
    mn: str
    enterprise: str | None
    enterprise_id: int | None
    county: str | None
    pollutant: str | None
    rule: str
    level: str = Field(description="notice 提示 / warning 预警 / alarm 报警 / severe 严重")
    state: str = Field(description="a state of alerts/workflow.toml")
    opened_at: str | None
    deadline: str | None = Field(description="the deadline of the step the alert is at")
    overdue: bool
    escalation: int = Field(description="steps up the escalation chain so far")
    explanation: str
    evidence: dict[str, Any]


class AlertList(BaseModel):
    items: list[AlertPublic]
    total: int
    limit: int
    offset: int


class AlertEventPublic(BaseModel):
    at: str | None
    actor: str
    role: str
    action: str
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    note: str
    outcome: str | None


class AlertDetail(AlertPublic):
    allowed_actions: list[str] = Field(description="what the user's role may do now")
    events: list[AlertEventPublic]


class ActionResult(BaseModel):
    id: int
    state: str


@router.post("/api/v1/session")
async def open_session(request: Request, credentials: Credentials) -> Any:
    from fastapi.responses import JSONResponse  # noqa: PLC0415

    try:
        token, csrf = await asyncio.to_thread(
            attempt_login, request.app.state.database(), credentials.username,
            credentials.password, peer_of(request), login_policy(),
        )  # fmt: skip
    except LoginError as error:
        raise ApiError(LOGIN_REFUSED.get(error.code, 401), error.code, error.message_en,
                       error.message_zh) from None  # fmt: skip
    response = JSONResponse({"username": credentials.username, "csrf": csrf})
    set_session_cookie(request, response, token)
    return response


@router.delete("/api/v1/session")
async def close_session(request: Request, user: Annotated[SessionUser, Depends(api_person)]) -> Any:
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise ApiError(
            403, "csrf_failed", "X-CSRF-Token is missing or wrong", "缺少或错误的CSRF令牌"
        )
    token = request.cookies.get(SESSION_COOKIE, "")

    def end() -> None:
        with request.app.state.database().begin() as connection:
            logout(connection, token)

    await asyncio.to_thread(end)
    return {"logged_out": True}


class AlertListQuery(AlertFilter):
    """The alert filter with a page of the list."""

    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)

    @model_validator(mode="after")
    def _no_nul(self) -> AlertListQuery:
        # PostgreSQL's text holds no NUL: one in any filter is invalid (422), not a 500.
        for name, value in self:
            if any(
                isinstance(v, str) and "\x00" in v
                for v in (value if isinstance(value, list) else [value])
            ):
                raise ValueError(f"{name} holds a NUL character")
        return self


@router.get("/api/v1/alerts")
async def list_alerts(
    request: Request,
    query: Annotated[AlertListQuery, Query()],
    user: Annotated[Principal, Depends(api_user)],
) -> AlertList:
    """The alerts the user may see, newest first, narrowed by any of the
    filters (repeat ``state``, ``level``, ``county``, ``rule`` or ``kind``
    for several): ``{"items", "total", "limit", "offset"}``."""
    filters = AlertFilter.model_validate(query.model_dump(exclude={"limit", "offset"}))

    def read() -> AlertList:
        with request.app.state.database().connect() as connection:
            page = visible_alerts(connection, user, filters, limit=query.limit,
                                  offset=query.offset)  # fmt: skip
        return AlertList(items=[AlertPublic(**alert_view(row)) for row in page.rows],
                         total=page.total, limit=query.limit, offset=query.offset)  # fmt: skip

    return await asyncio.to_thread(read)


@router.get("/api/v1/alerts/{alert_id}")
async def get_alert(
    request: Request, alert_id: AlertId, user: Annotated[Principal, Depends(api_user)]
) -> AlertDetail:
    """One alert with its history and the actions the user's role may take now."""

    def read() -> AlertDetail:
        with request.app.state.database().connect() as connection:
            row, events = visible_alert(connection, user, alert_id)
        if row is None:
            raise ApiError(
                404, "unknown_alert", f"no alert {alert_id}", f"没有编号为{alert_id}的预警"
            )
        desk: AlertDesk = request.app.state.alert_desk()
        return AlertDetail(
            **alert_view(row),
            # A read token never acts: no action is its to take.
            allowed_actions=desk.workflow.allowed(row.state, user.role)
            if isinstance(user, SessionUser)
            else [],
            events=[
                AlertEventPublic.model_validate({
                    "at": utc_as_cst_text(e.at), "actor": e.actor, "role": e.role,
                    "action": e.action, "from": e.from_state, "to": e.to_state,
                    "note": e.note, "outcome": e.outcome,
                })
                for e in events
            ],
        )  # fmt: skip

    return await asyncio.to_thread(read)


@router.post("/api/v1/alerts/{alert_id}/actions")
async def act(
    request: Request,
    alert_id: AlertId,
    body: ActionRequest,
    user: Annotated[SessionUser, Depends(api_person)],
) -> ActionResult:
    """Take a workflow action (alerts/workflow.toml) on the alert."""
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise ApiError(
            403, "csrf_failed", "X-CSRF-Token is missing or wrong", "缺少或错误的CSRF令牌"
        )
    desk: AlertDesk = request.app.state.alert_desk()
    try:
        state = await asyncio.to_thread(
            desk.act, alert_id, body.action, user.username, peer=peer_of(request),
            note=body.note, outcome=body.outcome, into=body.into,
            stored=[(item.name, item.sha256) for item in body.evidence],
        )  # fmt: skip
    except AlertError as error:
        status = {"unknown_alert": 404, "unknown_file": 422, "too_many_files": 422}
        raise ApiError(status.get(error.code, 403), error.code, error.message_en,
                       error.message_zh) from None  # fmt: skip
    except EvidenceError as error:
        raise ApiError(422, error.code, error.message_en, error.message_zh) from None
    except TransitionError as error:
        raise ApiError(409, error.code, error.message_en, error.message_zh) from None
    return ActionResult(id=alert_id, state=state)
