"""The judgement API (每周分析研判): weekly snapshots and their computation on
demand, 挂牌督办 listings and their actions, accountability interviews,
eco-compensation, the kept weekly reports, and the analysis slices with
their drill-down and CSV/XLSX export. Supervisors only (city roles and county
officers); a county officer's analysis covers the officer's counties.
Changes need a person and the session's CSRF token (``X-CSRF-Token``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from envwatch.alerts.scope import CITY_ROLES, SUPERVISOR_ROLES
from envwatch.alerts.workflow import TransitionError
from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.errors import PeerError
from envwatch.judgement.core import Parameters, load_parameters
from envwatch.judgement.store import (
    JudgementError,
    ListingDesk,
    all_listings,
    compute_quarter,
    eco_rows,
    interviews,
    judge_week,
    listing_history,
    record_interview,
    snapshot_row,
    snapshots,
    week_contract,
)
from envwatch.judgement.weeks import WEEK_PATTERN
from envwatch.settings import get_settings
from envwatch.store.schema import MAX_ID
from envwatch.web.api_alerts import NO_NUL
from envwatch.web.errors import ApiError
from envwatch.web.people import CSRF_HEADER, Principal, api_person, api_user, csrf_ok, peer_of
from envwatch.web.table_export import TableFormat, table_response

router = APIRouter()
Week = Annotated[str, Path(pattern=WEEK_PATTERN.pattern)]
ListingId = Annotated[int, Path(ge=1, le=MAX_ID)]
Dimension = Annotated[str, Query(pattern=r"^[a-z,]{0,80}$")]
PeriodText = Annotated[str, Query(pattern=r"^\d{4}(-Q[1-4]|-\d{2}(-\d{2})?|-W\d{2})?$")]
Filter = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z_:.\-]{1,40}$")]


def parameters() -> Parameters:
    return load_parameters(get_settings().judgement_parameters_file)


def supervisor(user: Principal) -> Principal:
    if user.role not in SUPERVISOR_ROLES:
        raise ApiError(403, "role_not_allowed", "the county judgement is for supervisors",
                       "区县研判仅供监管人员查看")  # fmt: skip
    return user


def counties_of(user: Principal) -> list[str] | None:
    """The counties a viewer's analysis covers (None: all)."""
    return None if user.role in CITY_ROLES else sorted(user.counties)


def _csrf(request: Request, user: SessionUser) -> None:
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise ApiError(403, "csrf_failed", "X-CSRF-Token is missing or wrong",
                       "缺少或错误的CSRF令牌")  # fmt: skip


def refused(error: PeerError) -> ApiError:
    status = 404 if error.code.startswith("unknown_") else 409
    if error.code.startswith("bad_"):
        status = 422
    if isinstance(error, TransitionError) and error.code == "role_not_allowed":
        status = 403
    return ApiError(status, error.code, error.message_en, error.message_zh)


def engine_of(request: Request) -> Any:
    return request.app.state.database()


@router.get("/api/v1/judgement/weeks")
async def list_weeks(
    request: Request, user: Annotated[Principal, Depends(api_user)]
) -> dict[str, Any]:
    """The kept weekly snapshots, newest first."""
    supervisor(user)

    def read() -> list[dict[str, Any]]:
        with engine_of(request).connect() as connection:
            return snapshots(connection, limit=200)

    rows = await asyncio.to_thread(read)
    return {"data": [{**r, "computed_at": r["computed_at"].isoformat()} for r in rows],
            "count": len(rows)}  # fmt: skip


def _week_document(request: Request, week: str, compute: bool, actor: Actor | None) -> Any:
    engine = engine_of(request)
    chosen = parameters()
    with engine.connect() as connection:
        row = snapshot_row(connection, week, chosen.version)
    if row is None and not compute:
        return None
    try:
        kwargs: dict[str, Any] = {} if actor is None else {"actor": actor}
        snapshot = judge_week(engine, week, chosen, **kwargs)
    except PeerError as error:
        raise refused(error) from None
    with engine.connect() as connection:
        return {**week_contract(connection, week, snapshot), "snapshot": snapshot}


@router.get("/api/v1/judgement/weeks/{week}")
async def get_week(
    request: Request, week: Week, user: Annotated[Principal, Depends(api_user)]
) -> dict[str, Any]:
    """A week's judgement (the contract's document and the whole snapshot),
    computed and kept at the first request once the week has ended."""
    supervisor(user)
    document = await asyncio.to_thread(_week_document, request, week, True, None)
    return dict(document)


@router.post("/api/v1/judgement/weeks/{week}", status_code=201)
async def compute_week(
    request: Request, week: Week, user: Annotated[SessionUser, Depends(api_person)]
) -> dict[str, Any]:
    """Compute the week's snapshot on demand (city administrators and supervisors)."""
    _csrf(request, user)
    if user.role not in ("city_admin", "city_supervisor"):
        raise ApiError(403, "role_not_allowed", "only the city bureau computes a judgement",
                       "仅市局可发起研判")  # fmt: skip
    actor = Actor(user.username, user.role, peer_of(request))
    document = await asyncio.to_thread(_week_document, request, week, True, actor)
    return dict(document)


@router.get("/api/v1/judgement/listings")
async def get_listings(
    request: Request, user: Annotated[Principal, Depends(api_user)]
) -> dict[str, Any]:
    supervisor(user)

    def read() -> list[dict[str, Any]]:
        with engine_of(request).connect() as connection:
            return all_listings(connection, user)

    rows = await asyncio.to_thread(read)
    return {"data": [_listing_view(r) for r in rows], "count": len(rows)}


def _listing_view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "deadline": row["deadline"].isoformat(),
            "created_at": row["created_at"].isoformat(),
            "lifted_at": row["lifted_at"].isoformat() if row["lifted_at"] else None}  # fmt: skip


@router.get("/api/v1/judgement/listings/{listing_id}")
async def get_listing(
    request: Request, listing_id: ListingId, user: Annotated[Principal, Depends(api_user)]
) -> dict[str, Any]:
    """A listing with its history and the actions the user may take."""
    supervisor(user)
    desk = ListingDesk(engine_of(request))

    def read() -> dict[str, Any] | None:
        with desk.engine.connect() as connection:
            found = [r for r in all_listings(connection, user) if r["id"] == listing_id]
            if not found:
                return None
            return {**_listing_view(found[0]), "history": listing_history(connection, listing_id),
                    "actions": desk.workflow.allowed(found[0]["state"], user.role)}  # fmt: skip

    listing = await asyncio.to_thread(read)
    if listing is None:
        raise ApiError(404, "unknown_listing", f"no listing {listing_id}",
                       f"没有编号为{listing_id}的挂牌督办")  # fmt: skip
    return listing


class ListingAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(min_length=1, max_length=32, pattern=r"^[a-z_]+$")
    note: str = Field(default="", max_length=4000, pattern=NO_NUL)


@router.post("/api/v1/judgement/listings/{listing_id}/actions")
async def act_on_listing(
    request: Request, listing_id: ListingId, body: ListingAction,
    user: Annotated[SessionUser, Depends(api_person)],
) -> dict[str, Any]:  # fmt: skip
    """Take an action on a listing (the workflow table decides; lifting also
    needs the lifting criteria to hold)."""
    _csrf(request, user)
    desk = ListingDesk(engine_of(request))
    try:
        state = await asyncio.to_thread(desk.act, listing_id, body.action, user.username,
                                        peer=peer_of(request), note=body.note)  # fmt: skip
    except PeerError as error:
        raise refused(error) from None
    return {"id": listing_id, "state": state}


class Commitment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)
    deadline: date | None = None
    done: bool = False


class NewInterview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    county: str = Field(min_length=1, max_length=12, pattern=r"^[0-9A-Za-z]+$")
    held_on: date
    interviewees: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)
    problems: str = Field(min_length=1, max_length=10_000, pattern=NO_NUL)
    commitments: list[Commitment] = Field(default_factory=list, max_length=50)
    listing_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    follow_up: str = Field(default="", max_length=10_000, pattern=NO_NUL)
    outcome: Literal["pending", "fulfilled", "escalated"] = "pending"


@router.get("/api/v1/judgement/interviews")
async def get_interviews(
    request: Request, user: Annotated[Principal, Depends(api_user)]
) -> dict[str, Any]:
    supervisor(user)

    def read() -> list[dict[str, Any]]:
        with engine_of(request).connect() as connection:
            return interviews(connection, user)

    rows = await asyncio.to_thread(read)
    return {"data": rows, "count": len(rows)}


@router.post("/api/v1/judgement/interviews", status_code=201)
async def add_interview(
    request: Request, body: NewInterview, user: Annotated[SessionUser, Depends(api_person)]
) -> dict[str, Any]:
    """Record an accountability interview (约谈问责; city administrators and supervisors)."""
    _csrf(request, user)
    actor = Actor(user.username, user.role, peer_of(request))
    try:
        interview = await asyncio.to_thread(
            record_interview, engine_of(request), actor, county=body.county,
            held_on=body.held_on, interviewees=body.interviewees, problems=body.problems,
            commitments=[c.model_dump(mode="json") for c in body.commitments],
            listing_id=body.listing_id,
            follow_up=body.follow_up, outcome=body.outcome)  # fmt: skip
    except JudgementError as error:
        raise ApiError(403 if error.code == "role_not_allowed" else 422, error.code,
                       error.message_en, error.message_zh) from None  # fmt: skip
    return {"id": interview}


@router.get("/api/v1/judgement/eco-compensation")
async def get_eco(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    quarter: Annotated[str | None, Query(pattern=r"^(19|2\d)\d{2}-Q[1-4]$")] = None,
) -> dict[str, Any]:
    """Eco-compensation per county and quarter with its computation (a
    quarter asked for is computed and kept first)."""
    supervisor(user)
    engine = engine_of(request)

    def read() -> list[dict[str, Any]]:
        if quarter is not None:
            return compute_quarter(engine, quarter, parameters(), datetime.now(UTC))
        with engine.connect() as connection:
            return eco_rows(connection)

    try:
        rows = await asyncio.to_thread(read)
    except PeerError as error:
        raise refused(error) from None
    return {"data": rows, "count": len(rows)}


@router.get("/api/v1/judgement/reports")
async def get_reports(
    request: Request, user: Annotated[Principal, Depends(api_user)]
) -> dict[str, Any]:
    from envwatch.judgement.report import stored_reports  # noqa: PLC0415

    supervisor(user)

    def read() -> list[dict[str, Any]]:
        with engine_of(request).connect() as connection:
            return stored_reports(connection)

    rows = await asyncio.to_thread(read)
    return {"data": [{**r, "created_at": r["created_at"].isoformat(),
                      "files": {f: f"/api/v1/judgement/reports/{r['week']}.{f}"
                                for f in ("html", "pdf", "xlsx")}} for r in rows],
            "count": len(rows)}  # fmt: skip


REPORT_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/api/v1/judgement/reports/{week}.{file_format}")
async def get_report_file(
    request: Request,
    week: Week,
    file_format: Annotated[str, Path(pattern=r"^(html|pdf|xlsx)$")],
    user: Annotated[Principal, Depends(api_user)],
) -> Response:
    """The week's report file (made and kept at the first request)."""
    from envwatch.judgement.report import weekly_report  # noqa: PLC0415

    supervisor(user)
    try:
        files = await asyncio.to_thread(weekly_report, engine_of(request), week, parameters())
    except PeerError as error:
        raise refused(error) from None
    content: str | bytes = getattr(files, file_format)
    disposition = "inline" if file_format == "html" else "attachment"
    header = f'{disposition}; filename="weekly-report-{week}.{file_format}"'
    return Response(
        content, media_type=REPORT_TYPES[file_format], headers={"Content-Disposition": header}
    )


# ---- analysis ---------------------------------------------------------------------


def _filters(request: Request) -> dict[str, str]:
    from envwatch.judgement.analysis import DIMENSIONS, GRAINS  # noqa: PLC0415

    out = {}
    for key in (*DIMENSIONS, *GRAINS):
        value = request.query_params.get(f"where_{key}")
        if value:
            if len(value) > 40:
                raise ApiError(422, "bad_filter", f"filter {key} too long", f"筛选条件{key}过长")
            out[key] = value
    return out


@router.get("/api/v1/analysis", response_model=None)
async def analysis(
    request: Request,
    *,
    user: Annotated[Principal, Depends(api_user)],
    measure: Annotated[str, Query(pattern=r"^[a-z_]{1,32}$")],
    period: PeriodText,
    by: Dimension = "county",
    zones: Annotated[str, Query(pattern=r"^(apart|host)$")] = "apart",
    top: Annotated[int | None, Query(ge=1, le=1000)] = None,
    file_format: Annotated[TableFormat | None, Query(alias="format")] = None,
) -> dict[str, Any] | Response:
    """One slice: ``measure`` by the dimensions ``by`` (county, industry,
    enterprise, pollutant, kind; day … year for trends) over ``period``, with
    mom and yoy; ``where_<dimension>=value`` filters (drilling into a cell);
    ``format=csv|xlsx`` downloads the table."""
    from envwatch.judgement.facts import analyse  # noqa: PLC0415

    supervisor(user)
    filters = _filters(request)

    def read() -> dict[str, Any]:
        with engine_of(request).connect() as connection:
            return analyse(connection, measure, by, period, filters=filters, zones=zones,
                           top=top, counties=counties_of(user))  # fmt: skip

    try:
        document = await asyncio.to_thread(read)
    except PeerError as error:
        raise ApiError(422, error.code, error.message_en, error.message_zh) from None
    if file_format is not None:
        keys = [*document["by"], "value", "previous", "mom", "year_earlier", "yoy"]
        if "county" in document["by"]:
            keys.insert(keys.index("county") + 1, "county_name")
        if "enterprise" in document["by"]:
            keys.insert(keys.index("enterprise") + 1, "enterprise_name")
        return table_response([(k, k) for k in keys], document["rows"], file_format,
                              f"analysis-{measure}-{period}")  # fmt: skip
    return document


@router.get("/api/v1/analysis/rows", response_model=None)
async def analysis_rows(
    request: Request,
    *,
    user: Annotated[Principal, Depends(api_user)],
    measure: Annotated[str, Query(pattern=r"^[a-z_]{1,32}$")],
    period: PeriodText,
    zones: Annotated[str, Query(pattern=r"^(apart|host)$")] = "apart",
    file_format: Annotated[TableFormat | None, Query(alias="format")] = None,
) -> dict[str, Any] | Response:
    """The rows behind a cell (drill-down): ``where_<dimension>=value`` filters."""
    from envwatch.judgement.facts import drill  # noqa: PLC0415

    supervisor(user)
    filters = _filters(request)

    def read() -> dict[str, Any]:
        with engine_of(request).connect() as connection:
            return drill(connection, measure, period, filters, zones=zones,
                         counties=counties_of(user))  # fmt: skip

    try:
        document = await asyncio.to_thread(read)
    except PeerError as error:
        raise ApiError(422, error.code, error.message_en, error.message_zh) from None
    if file_format is not None:
        keys = ["day", "county", "county_name", "industry", "enterprise", "enterprise_name",
                "pollutant", "kind", "value"]  # fmt: skip
        return table_response([(k, k) for k in keys], document["rows"], file_format,
                              f"analysis-rows-{measure}-{period}")  # fmt: skip
    return document
