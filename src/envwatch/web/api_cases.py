"""The enforcement-case and notification API: cases linked to alerts, their
records and outcomes; the notification log and who hears of alerts.

Reads take a person's session or a read token; changes need a person, the
session's CSRF token (``X-CSRF-Token``) and go to the audit log. Lists are
``{"items", "total", "limit", "offset"}``; moments are ISO 8601 with their
zone (China Standard Time shown, any zone accepted)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import func, select

from envwatch.alerts.queries import CITY_ROLES, alert_view, scope
from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.enforcement.cases import (
    RECORD_FIELDS,
    CaseError,
    CaseFilter,
    open_case,
    update_case,
    visible_case,
    visible_cases,
)
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.store.schema import MAX_ID, Alert, Enterprise, Notification, NotificationTarget
from envwatch.times import cst_text, utc_as_cst_text
from envwatch.web.api_alerts import MAX_OFFSET
from envwatch.web.errors import ApiError, csrf_failed
from envwatch.web.people import CSRF_HEADER, Principal, api_person, api_user, csrf_ok, peer_of

router = APIRouter()
# Beyond what the database holds a request is invalid (422), never a 500.
CaseId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
CountyCode = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z]{1,12}$")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
FIRST_YEAR, LAST_YEAR = 2000, 2100

# A refusal's HTTP status by its code (anything else is a bad request body).
CASE_STATUS = {"role_not_allowed": 403, "unknown_alert": 404, "unknown_case": 404,
               "alert_in_case": 409, "case_closed": 409}  # fmt: skip


class OpenCase(BaseModel):
    """Open a case from alerts of one enterprise."""

    model_config = ConfigDict(extra="forbid")
    alert_ids: list[RowId] = Field(min_length=1, max_length=100)
    kind: Literal["onsite", "offsite"] | None = None
    """None: off-site for an enterprise on the positive list, else on-site."""


class RecordCase(BaseModel):
    """Record what the case found, its legal basis and penalty reference; close it."""

    model_config = ConfigDict(extra="forbid")
    findings: str | None = Field(default=None, max_length=8000)
    legal_basis: str | None = Field(default=None, max_length=4000)
    penalty_reference: str | None = Field(default=None, max_length=200)
    """The penalty decision's reference (处罚决定书文号)."""
    close: bool = False

    @field_validator(*RECORD_FIELDS)
    @classmethod
    def no_nul(cls, value: str | None) -> str | None:
        # PostgreSQL text holds no NUL: refused here, not as a database error.
        if value is not None and "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value

    @model_validator(mode="after")
    def something_to_do(self) -> RecordCase:
        if not self.close and all(getattr(self, name) is None for name in RECORD_FIELDS):
            raise ValueError("record at least one of findings, legal_basis, penalty_reference,"
                             " or close")  # fmt: skip
        return self

    def changes(self) -> dict[str, str]:
        values = {name: getattr(self, name) for name in RECORD_FIELDS}
        return {name: value for name, value in values.items() if value is not None}


def case_json(case: dict[str, Any]) -> dict[str, Any]:
    """A case as the API shows it: moments in China Standard Time."""
    shown = {**case, "opened_at": utc_as_cst_text(case["opened_at"]),
             "closed_at": utc_as_cst_text(case["closed_at"])}  # fmt: skip
    if "history" in case:
        shown["history"] = [{**entry, "at": utc_as_cst_text(entry["at"])}
                            for entry in case["history"]]  # fmt: skip
    if "findings_of_alerts" in case:
        shown["findings_of_alerts"] = [
            {**f, "window_start": cst_text(f["window_start"]),
             "window_end": cst_text(f["window_end"])}
            for f in case["findings_of_alerts"]
        ]  # fmt: skip
    return shown


def _utc(moment: datetime | None) -> datetime | None:
    """A filter bound in UTC; a naive one is China Standard Time, as users type it."""
    if moment is None:
        return None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ApiError(422, "bad_time", f"times lie between {FIRST_YEAR} and {LAST_YEAR}",
                       f"时间须在{FIRST_YEAR}年至{LAST_YEAR}年之间")  # fmt: skip
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_STANDARD_TIME)
    return moment.astimezone(UTC)


def _refused(error: CaseError) -> ApiError:
    return ApiError(CASE_STATUS.get(error.code, 422), error.code, error.message_en,
                    error.message_zh)  # fmt: skip


@router.get("/api/v1/cases")
async def list_cases(
    request: Request,
    *,
    user: Annotated[Principal, Depends(api_user)],
    state: Literal["open", "closed"] | None = None,
    kind: Literal["onsite", "offsite"] | None = None,
    county: CountyCode = None,
    enterprise_id: Annotated[int | None, Query(ge=-MAX_ID, le=MAX_ID)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The cases the user may see, newest first (``since``/``until`` bound the opening)."""
    filters = CaseFilter(state, kind, county, enterprise_id, _utc(since), _utc(until))

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            cases, total = visible_cases(connection, user, filters, limit=limit, offset=offset)
        return {"items": [case_json(case) for case in cases], "total": total, "limit": limit,
                "offset": offset}  # fmt: skip

    return await asyncio.to_thread(read)


def _unknown_case(case_id: int) -> ApiError:
    return ApiError(404, "unknown_case", f"no case {case_id}", f"没有编号为{case_id}的案件")


@router.get("/api/v1/cases/{case_id}")
async def get_case(
    request: Request, case_id: CaseId, user: Annotated[Principal, Depends(api_user)]
) -> dict[str, Any]:
    """One case: its alerts, their findings, legal basis, penalty reference, history."""

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            case = visible_case(connection, user, case_id)
            if case is None:
                raise _unknown_case(case_id)
            alerts = connection.execute(
                select(Alert, Enterprise.name.label("enterprise_name"))
                .outerjoin(Enterprise, Alert.enterprise_id == Enterprise.id)
                .where(Alert.id.in_(case["alerts"]), scope(user))
                .order_by(Alert.id)
            ).all()
        return {**case_json(case), "alerts": [alert_view(row) for row in alerts]}

    return await asyncio.to_thread(read)


@router.post("/api/v1/cases", status_code=201)
async def open_case_from_alerts(
    request: Request, body: OpenCase, user: Annotated[SessionUser, Depends(api_person)]
) -> Any:
    """Open a case from alerts of one enterprise (needs X-CSRF-Token)."""
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise csrf_failed()
    actor = Actor(user.username, user.role, peer_of(request))

    def change() -> dict[str, Any]:
        with request.app.state.database().begin() as connection:
            case_id, _ = open_case(connection, body.alert_ids, actor, viewer=user,
                                   kind=body.kind)  # fmt: skip
            case = visible_case(connection, user, case_id)
        assert case is not None
        return case_json(case)

    try:
        created = await asyncio.to_thread(change)
    except CaseError as error:
        raise _refused(error) from None
    location = f"/api/v1/cases/{created['id']}"
    return JSONResponse(created, status_code=201, headers={"Location": location})


@router.post("/api/v1/cases/{case_id}/record")
async def record_case(
    request: Request,
    case_id: CaseId,
    body: RecordCase,
    user: Annotated[SessionUser, Depends(api_person)],
) -> dict[str, Any]:
    """Record findings, legal basis, penalty reference; close (needs X-CSRF-Token)."""
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise csrf_failed()
    actor = Actor(user.username, user.role, peer_of(request))

    def change() -> dict[str, Any]:
        with request.app.state.database().begin() as connection:
            update_case(connection, case_id, actor, viewer=user, changes=body.changes(),
                        close=body.close)  # fmt: skip
            case = visible_case(connection, user, case_id)
        assert case is not None
        return case_json(case)

    try:
        return await asyncio.to_thread(change)
    except CaseError as error:
        raise _refused(error) from None


_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+")


def _without_address(error: str | None, address: str) -> str | None:
    """An error text with the target's address (and any URL) taken out."""
    if error is None:
        return None
    return _URL.sub("[target]", error.replace(address, "[target]") if address else error)


@router.get("/api/v1/notifications")
async def list_notifications(
    request: Request,
    *,
    user: Annotated[Principal, Depends(api_user)],
    state: Literal["pending", "sent", "failed"] | None = None,
    alert_id: Annotated[int | None, Query(ge=-MAX_ID, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The notification log, newest first: the bureau all of it, county
    officers their counties' alerts'; never the enterprises' or contractors'.
    Target addresses (webhook URLs carry access tokens) are shown to city
    administrators only; others see the channel and role, and errors without them."""
    if user.role not in CITY_ROLES and user.role != "county_officer":
        raise ApiError(403, "forbidden", "the notification log is for supervisors",
                       "仅监管人员可查看通知记录")  # fmt: skip
    conditions = [scope(user)]
    if state is not None:
        conditions.append(Notification.state == state)
    if alert_id is not None:
        conditions.append(Notification.alert_id == alert_id)

    def read() -> dict[str, Any]:
        joined = (
            select(Notification, NotificationTarget.role.label("target_role"),
                   NotificationTarget.channel, NotificationTarget.address,
                   NotificationTarget.county_code.label("target_county"))
            .join(NotificationTarget, Notification.target_id == NotificationTarget.id)
            .join(Alert, Notification.alert_id == Alert.id)
            .where(*conditions)
        )  # fmt: skip
        with request.app.state.database().connect() as connection:
            total = connection.execute(select(func.count()).select_from(joined.subquery()))
            rows = connection.execute(
                joined.order_by(Notification.id.desc()).limit(limit).offset(offset)
            ).all()
            count = int(total.scalar_one())
        shows = user.role == "city_admin"
        items = [
            {"id": r.id, "alert_id": r.alert_id, "event": r.event,
             "target": {"id": r.target_id, "role": r.target_role, "channel": r.channel,
                        "address": r.address if shows else None, "county": r.target_county},
             "state": r.state, "attempts": r.attempts,
             "last_error": r.last_error if shows else _without_address(r.last_error, r.address),
             "created_at": utc_as_cst_text(r.created_at), "sent_at": utc_as_cst_text(r.sent_at)}
            for r in rows
        ]  # fmt: skip
        return {"items": items, "total": count, "limit": limit, "offset": offset}

    return await asyncio.to_thread(read)


@router.get("/api/v1/notification-targets")
async def list_notification_targets(
    request: Request,
    *,
    user: Annotated[Principal, Depends(api_user)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Who hears of alerts (city administrators only; webhook secrets never shown)."""
    if user.role != "city_admin":
        raise ApiError(403, "forbidden", "notification targets are for city administrators",
                       "仅市局管理员可查看通知对象")  # fmt: skip

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(NotificationTarget)
            ).scalar_one()
            rows = connection.execute(
                select(NotificationTarget).order_by(NotificationTarget.id).limit(limit)
                .offset(offset)
            ).all()  # fmt: skip
        items = [{"id": r.id, "county": r.county_code, "role": r.role, "channel": r.channel,
                  "address": r.address, "signed": r.secret is not None, "active": r.active}
                 for r in rows]  # fmt: skip
        return {"items": items, "total": int(total), "limit": limit, "offset": offset}

    return await asyncio.to_thread(read)
