"""The rectification API (集中整改): problems as the user may see them (the one
scope rule: city roles all, county officers their counties, enterprise users
their enterprise's problems), one problem with its history, evidence and the
actions the user may take; actions through the workflow table; evidence
uploaded into the content-addressed store and downloaded within scope, its
hash verified; progress by county.

Reads take a person's session or a read token; changes need a person and the
session's CSRF token (``X-CSRF-Token``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from envwatch.alerts.desk import AlertDesk, AlertError
from envwatch.alerts.workflow import TransitionError
from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.errors import PeerError
from envwatch.rectification.complaint_desk import (
    ACTING_ROLES,
    reply,
    take_complaints,
    to_problem,
    visible_complaint,
    visible_complaints,
    visible_hotspots,
)
from envwatch.rectification.desk import ProblemError, RectificationDesk
from envwatch.rectification.evidence import EvidenceError, StoredFile, Upload
from envwatch.rectification.importing import import_problems, take_problems
from envwatch.rectification.problems import progress_table, table_file
from envwatch.rectification.queries import (
    ProblemFilter,
    alert_evidence_file,
    evidence_file,
    problem_dossier,
    problem_dossier_pdf,
    progress,
    visible_problem,
    visible_problems,
)
from envwatch.registry.importing import ImportFileError
from envwatch.store.schema import MAX_ID
from envwatch.web.api_alerts import FILE_NAME, MAX_OFFSET, NO_NUL, AlertId, StoredEvidence
from envwatch.web.errors import ApiError
from envwatch.web.people import CSRF_HEADER, Principal, api_person, api_user, csrf_ok, peer_of

router = APIRouter()
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_LIST_BYTES = 8 << 20
"""A feedback list's largest file (as a registry import's)."""
ProblemId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
Code = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z_]{1,32}$")]
# A refusal's HTTP status by its code (a workflow refusal is 409 as for alerts).
STATUS = {"unknown_problem": 404, "unknown_alert": 404, "unknown_user": 403,
          "role_not_allowed": 403, "file_too_large": 413, "file_type_not_allowed": 415,
          "file_type_mismatch": 415,
          "evidence_corrupt": 500, "evidence_missing": 500}  # fmt: skip


def desk_of(request: Request) -> RectificationDesk:
    desk: RectificationDesk = request.app.state.rectification_desk()
    return desk


class ProblemAction(BaseModel):
    """An action of the rectification workflow (rectification/workflow.toml)."""

    model_config = ConfigDict(extra="forbid")
    action: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    note: str = Field(default="", max_length=4000, pattern=NO_NUL)
    target: int | None = Field(default=None, ge=-MAX_ID, le=MAX_ID)
    """The similar problem to link (举一反三)."""
    evidence: list[StoredEvidence] = Field(default_factory=list, max_length=10)
    """Files uploaded before (``POST /api/v1/evidence``) backing the action."""


class ActionDone(BaseModel):
    id: int
    state: str


class FileStored(BaseModel):
    name: str
    sha256: str
    media_type: str
    size: int


def refused(error: PeerError) -> ApiError:
    """A refusal as the API answers it: a workflow refusal 409 as for alerts,
    an unknown action 422, the rest by ``STATUS`` (else 422: bad input)."""
    if isinstance(error, TransitionError):
        return ApiError(422 if error.code == "unknown_action" else 409, error.code,
                        error.message_en, error.message_zh)  # fmt: skip
    return ApiError(STATUS.get(error.code, 422), error.code, error.message_en, error.message_zh)


def _csrf(request: Request, user: SessionUser) -> None:
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise ApiError(403, "csrf_failed", "X-CSRF-Token is missing or wrong",
                       "缺少或错误的CSRF令牌")  # fmt: skip


@router.get("/api/v1/problems")
async def list_problems(
    request: Request,
    *,
    user: Annotated[Principal, Depends(api_user)],
    state: Code = None,
    county: Code = None,
    source: Code = None,
    category: Code = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """The problems the user may see, oldest first: ``{"items", "total", "limit", "offset"}``."""
    filters = ProblemFilter(state, county, source, category, overdue)

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            items, total = visible_problems(connection, user, filters, datetime.now(UTC),
                                            limit=limit, offset=offset)  # fmt: skip
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    return await asyncio.to_thread(read)


@router.post("/api/v1/problems/imports", status_code=201)
async def import_feedback_list(
    request: Request,
    user: Annotated[SessionUser, Depends(api_person)],
    name: Annotated[str, Query(pattern=r"^[^\x00-\x1f/\\]{1,200}\.(csv|xlsx|CSV|XLSX)$")],
) -> dict[str, Any]:
    """Import a feedback list (the body, CSV or XLSX) all or nothing, by the
    city bureau (the roles that assign, rectification/workflow.toml): 201 with
    the new problems' ids, or 422 ``import_rejected`` with every bad row as
    ``{"row", "column", "reason"}`` and nothing imported."""
    _csrf(request, user)
    desk = desk_of(request)
    if user.role not in desk.assigners():
        raise ApiError(403, "role_not_allowed", f"the role {user.role!r} imports no feedback "
                       "lists", "该角色不能导入督察反馈问题清单")  # fmt: skip
    content = await _body(request, MAX_LIST_BYTES)
    actor = Actor(user.username, user.role, peer_of(request))
    try:
        ids, errors = await asyncio.to_thread(import_problems, desk, name, content, actor)
    except ImportFileError as error:
        raise ApiError(422, error.code, error.message_en, error.message_zh) from None
    if errors:
        rows = [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors]
        raise ApiError(422, "import_rejected", f"{len(errors)} problems: nothing imported",
                       f"{len(errors)}处错误，未导入任何内容", rows=rows)  # fmt: skip
    return {"imported": len(ids), "ids": ids}


class NewProblem(BaseModel):
    """One problem registered by hand (a city inspection's finding, a self-found
    one): the feedback list's columns, by their field names."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    batch: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    item_no: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    title: str = Field(min_length=2, max_length=200, pattern=NO_NUL)
    description: str = Field(default="", max_length=10_000, pattern=NO_NUL)
    category: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    county: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    lead_unit: str = Field(min_length=2, max_length=200, pattern=NO_NUL)
    cooperating_units: str = Field(default="", max_length=2000, pattern=NO_NUL)
    measures: str = Field(default="", max_length=10_000, pattern=NO_NUL)
    deadline: date
    enterprises: str = Field(default="", max_length=2000, pattern=NO_NUL)
    alerts: str = Field(default="", max_length=2000, pattern=NO_NUL)
    cases: str = Field(default="", max_length=2000, pattern=NO_NUL)


@router.post("/api/v1/problems", status_code=201)
async def register_problem(
    request: Request, body: NewProblem, user: Annotated[SessionUser, Depends(api_person)]
) -> dict[str, Any]:
    """Register one problem (by the city bureau, who assigns), checked as a
    feedback list's row and assigned at once to its county."""
    _csrf(request, user)
    desk = desk_of(request)
    if user.role not in desk.assigners():
        raise ApiError(403, "role_not_allowed", f"the role {user.role!r} registers no problems",
                       "该角色不能登记整改事项")  # fmt: skip
    actor = Actor(user.username, user.role, peer_of(request))
    ids, errors = await asyncio.to_thread(
        take_problems, desk, [body.model_dump(mode="json")], actor, source="api"
    )
    if errors:
        reasons = [f"{e.column}: {e.reason}" for e in errors]
        raise ApiError(422, "invalid_problem", "; ".join(reasons),
                       "整改事项有误：" + "；".join(reasons))  # fmt: skip
    return {"id": ids[0]}


@router.get("/api/v1/problems/{problem_id}")
async def get_problem(
    request: Request, problem_id: ProblemId, user: Annotated[Principal, Depends(api_user)]
) -> dict[str, Any]:
    """One problem: its history, evidence (with download links), links and the
    actions the user's role may take now."""
    workflow = desk_of(request).workflow

    def read() -> dict[str, Any] | None:
        with request.app.state.database().connect() as connection:
            return visible_problem(connection, user, problem_id, workflow, datetime.now(UTC))

    problem = await asyncio.to_thread(read)
    if problem is None:
        raise ApiError(404, "unknown_problem", f"no problem {problem_id}",
                       f"没有编号为{problem_id}的整改事项")  # fmt: skip
    return problem


@router.post("/api/v1/problems/{problem_id}/actions")
async def act_on_problem(
    request: Request,
    problem_id: ProblemId,
    body: ProblemAction,
    user: Annotated[SessionUser, Depends(api_person)],
) -> ActionDone:
    """Take a workflow action; actions that need evidence name files uploaded before."""
    _csrf(request, user)
    desk = desk_of(request)
    stored = [(item.name, item.sha256) for item in body.evidence]
    try:
        state = await asyncio.to_thread(
            desk.act, problem_id, body.action, user.username, peer=peer_of(request),
            note=body.note, target=body.target, stored=stored,
        )  # fmt: skip
    except (ProblemError, TransitionError, EvidenceError) as error:
        raise refused(error) from None
    return ActionDone(id=problem_id, state=state)


async def _body(request: Request, limit: int) -> bytes:
    too_large = ApiError(413, "file_too_large", f"the file exceeds {limit} bytes",
                         f"文件超过{limit}字节")  # fmt: skip
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


@router.post("/api/v1/evidence", status_code=201)
async def upload_evidence(
    request: Request,
    user: Annotated[SessionUser, Depends(api_person)],
    problem: Annotated[int, Query(ge=-MAX_ID, le=MAX_ID)],
    name: Annotated[str, Query(pattern=FILE_NAME)],
) -> FileStored:
    """Keep the body (a photo, PDF, spreadsheet ...) as evidence for a later
    action on ``problem``: checked for size and type (by its bytes), stored by
    its SHA-256. Name it in the action's ``evidence``."""
    _csrf(request, user)
    desk = desk_of(request)
    content = await _body(request, desk.policy.evidence.max_bytes)
    try:
        digest, media_type = await asyncio.to_thread(
            desk.upload, problem, user.username, Upload(name, content)
        )
    except (ProblemError, EvidenceError) as error:
        raise refused(error) from None
    return FileStored(name=name, sha256=digest, media_type=media_type, size=len(content))


@router.get("/api/v1/problems/{problem_id}/files/{sha256}", response_model=None)
async def download_evidence(
    request: Request,
    problem_id: ProblemId,
    sha256: Sha256,
    user: Annotated[Principal, Depends(api_user)],
) -> Response:
    """A file of the problem, only within the user's scope; its SHA-256 is
    checked on reading (a file altered in storage is refused)."""

    def read() -> Any:
        with request.app.state.database().connect() as connection:
            return evidence_file(connection, user, problem_id, sha256)

    try:
        found = await asyncio.to_thread(read)
    except EvidenceError as error:
        raise refused(error) from None
    if found is None:
        raise ApiError(404, "unknown_file", f"no file {sha256} of problem {problem_id}",
                       "没有该文件")  # fmt: skip
    return _file_response(*found)


def _file_response(name: str, stored: StoredFile) -> Response:
    return Response(
        stored.content,
        media_type=stored.media_type,
        headers={
            "content-disposition": f"attachment; filename*=UTF-8''{_percent(name)}",
            "x-content-type-options": "nosniff",
            "x-envwatch-sha256": stored.sha256,
        },
    )


def _percent(name: str) -> str:
    return quote(name, safe="")


@router.get("/api/v1/problems/{problem_id}/dossier", response_model=None)
async def download_dossier(
    request: Request,
    problem_id: ProblemId,
    user: Annotated[Principal, Depends(api_user)],
    format: Annotated[Literal["zip", "pdf"], Query()] = "zip",
) -> Response:
    """The problem's whole record (一案一档): as a ZIP (problem.json, 案卷.txt,
    案卷.pdf, the evidence files and their SHA256SUMS) or, with
    ``format=pdf``, the printable case file alone."""
    workflow = desk_of(request).workflow

    def read() -> bytes | None:
        with request.app.state.database().connect() as connection:
            make = problem_dossier_pdf if format == "pdf" else problem_dossier
            return make(connection, user, problem_id, workflow, datetime.now(UTC))

    try:
        archive = await asyncio.to_thread(read)
    except EvidenceError as error:
        raise refused(error) from None
    if archive is None:
        raise ApiError(404, "unknown_problem", f"no problem {problem_id}",
                       f"没有编号为{problem_id}的整改事项")  # fmt: skip
    name = f"整改事项{problem_id}.{format}"
    media = "application/pdf" if format == "pdf" else "application/zip"
    return Response(archive, media_type=media, headers={
        "content-disposition": f"attachment; filename*=UTF-8''{_percent(name)}",
    })  # fmt: skip


ALERT_EVIDENCE = "/api/v1/alert-evidence"


@router.post(ALERT_EVIDENCE, status_code=201)
async def upload_alert_evidence(
    request: Request,
    user: Annotated[SessionUser, Depends(api_person)],
    alert: Annotated[int, Query(ge=-MAX_ID, le=MAX_ID)],
    name: Annotated[str, Query(pattern=FILE_NAME)],
) -> FileStored:
    """Keep the body (a photo, PDF, spreadsheet ...) as evidence for a later
    action on ``alert`` (an enterprise's explanation): checked for size and
    type (by its bytes), stored by its SHA-256 in the same evidence store as
    the problems'. Name it in the action's ``evidence``."""
    _csrf(request, user)
    alerts: AlertDesk = request.app.state.alert_desk()
    content = await _body(request, alerts.evidence_limits.max_bytes)
    try:
        digest, media_type = await asyncio.to_thread(
            alerts.upload, alert, user.username, Upload(name, content)
        )
    except (AlertError, EvidenceError) as error:
        raise refused(error) from None
    return FileStored(name=name, sha256=digest, media_type=media_type, size=len(content))


@router.get("/api/v1/alerts/{alert_id}/files/{sha256}", response_model=None)
async def download_alert_evidence(
    request: Request,
    alert_id: AlertId,
    sha256: Sha256,
    user: Annotated[Principal, Depends(api_user)],
) -> Response:
    """A file an alert's action was backed with (an enterprise's explanation),
    from the same evidence store, within the user's scope of alerts; its
    SHA-256 checked on reading."""

    def read() -> Any:
        with request.app.state.database().connect() as connection:
            return alert_evidence_file(connection, user, alert_id, sha256)

    try:
        found = await asyncio.to_thread(read)
    except EvidenceError as error:
        raise refused(error) from None
    if found is None:
        raise ApiError(404, "unknown_file", f"no file {sha256} of alert {alert_id}",
                       "没有该文件")  # fmt: skip
    return _file_response(*found)


@router.get(
    "/api/v1/rectification/progress",
    response_model=None,
    responses={200: {"content": {"application/json": {}, "text/csv": {}, XLSX_TYPE: {}},
                     "description": "the figures as JSON, or a CSV or XLSX file"}},
)  # fmt: skip
async def rectification_progress(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    by: Annotated[
        str, Query(pattern=r"^(county|source|category)(,(county|source|category))*$")
    ] = "county",
    format: Annotated[str, Query(pattern=r"^(json|csv|xlsx)$")] = "json",
) -> Any:
    """Progress over the problems the user may see, grouped ``by`` county,
    source and/or category: problems, open, overdue, closed, closed on time,
    reopened; as JSON, or a CSV or XLSX file (the figures county scoring uses)."""
    keys = tuple(dict.fromkeys(by.split(",")))

    def read() -> list[dict[str, Any]]:
        with request.app.state.database().connect() as connection:
            return progress(connection, user, datetime.now(UTC), keys)

    figures = await asyncio.to_thread(read)
    if format == "json":
        return {"items": figures}
    content = table_file(progress_table(figures, keys), format)
    media = "text/csv; charset=utf-8" if format == "csv" else XLSX_TYPE
    return Response(content, media_type=media, headers={
        "content-disposition": f"attachment; filename=rectification-progress.{format}",
    })  # fmt: skip


# ---- complaints (信访/12345) ------------------------------------------------

ComplaintId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]


def _unknown_complaint(complaint_id: int) -> ApiError:
    return ApiError(404, "unknown_complaint", f"no complaint {complaint_id}",
                    f"没有编号为{complaint_id}的投诉")  # fmt: skip


class NewComplaint(BaseModel):
    """A complaint taken by phone, letter or visit (the hotline export's columns)."""

    model_config = ConfigDict(extra="forbid")
    channel: str = Field(min_length=1, max_length=16, pattern=NO_NUL)
    reference: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    received_at: datetime
    category: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    content: str = Field(min_length=2, max_length=10_000, pattern=NO_NUL)
    address: str = Field(default="", max_length=300, pattern=NO_NUL)
    longitude: float | None = Field(default=None, ge=73, le=136)
    latitude: float | None = Field(default=None, ge=3, le=54)
    county: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    complainant: str = Field(default="", max_length=200, pattern=NO_NUL)


class ComplaintReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000, pattern=NO_NUL)


class ComplaintToProblem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lead_unit: str = Field(min_length=2, max_length=200, pattern=NO_NUL)
    deadline: date
    measures: str = Field(default="", max_length=4000, pattern=NO_NUL)


@router.get("/api/v1/complaints")
async def list_complaints(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    county: Code = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """The complaints a supervisor may see, newest first (enterprises see none)."""

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            items, total = visible_complaints(connection, user, county=county, limit=limit,
                                              offset=offset)  # fmt: skip
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    return await asyncio.to_thread(read)


@router.post("/api/v1/complaints", status_code=201)
async def take_complaint(
    request: Request, body: NewComplaint, user: Annotated[SessionUser, Depends(api_person)]
) -> dict[str, Any]:
    """Record a complaint (by a supervisor; a county officer in their counties)."""
    _csrf(request, user)
    if user.role not in ACTING_ROLES:
        raise ApiError(403, "role_not_allowed", f"the role {user.role!r} records no complaints",
                       "该角色不能登记投诉")  # fmt: skip
    allowed = user.counties if user.role == "county_officer" else None
    fields = body.model_dump(mode="json")
    actor = Actor(user.username, user.role, peer_of(request))
    ids, errors = await asyncio.to_thread(
        take_complaints, desk_of(request), [fields], actor, source="api",
        counties_allowed=allowed,
    )  # fmt: skip
    if errors:
        reasons = [f"{e.column}: {e.reason}" for e in errors]
        raise ApiError(422, "invalid_complaint", "; ".join(reasons),
                       "投诉内容有误：" + "；".join(reasons))  # fmt: skip
    return {"id": ids[0]}


@router.get("/api/v1/complaints/hotspots")
async def complaint_hotspots(
    request: Request, user: Annotated[Principal, Depends(api_user)]
) -> dict[str, Any]:
    """Complaints close in place and time (policy.toml [complaints]), as hotspots."""
    desk = desk_of(request)

    def read() -> list[dict[str, Any]]:
        with request.app.state.database().connect() as connection:
            return visible_hotspots(connection, user, desk)

    return {"items": await asyncio.to_thread(read)}


@router.get("/api/v1/complaints/{complaint_id}")
async def get_complaint(
    request: Request, complaint_id: ComplaintId, user: Annotated[Principal, Depends(api_user)]
) -> dict[str, Any]:
    """One complaint, with the enterprises nearest to its place and their distances."""
    desk = desk_of(request)

    def read() -> dict[str, Any] | None:
        with request.app.state.database().connect() as connection:
            return visible_complaint(connection, user, complaint_id, desk)

    found = await asyncio.to_thread(read)
    if found is None:
        raise _unknown_complaint(complaint_id)
    return found


@router.post("/api/v1/complaints/{complaint_id}/reply")
async def reply_to_complaint(
    request: Request,
    complaint_id: ComplaintId,
    body: ComplaintReply,
    user: Annotated[SessionUser, Depends(api_person)],
) -> dict[str, Any]:
    """Record the reply to the complainant (答复)."""
    _csrf(request, user)
    try:
        await asyncio.to_thread(reply, desk_of(request), complaint_id, user.username, body.text,
                                peer=peer_of(request))  # fmt: skip
    except ProblemError as error:
        raise _complaint_refused(error, complaint_id) from None
    return {"id": complaint_id, "state": "replied"}


@router.post("/api/v1/complaints/{complaint_id}/problem", status_code=201)
async def complaint_to_problem(
    request: Request,
    complaint_id: ComplaintId,
    body: ComplaintToProblem,
    user: Annotated[SessionUser, Depends(api_person)],
) -> dict[str, Any]:
    """Turn the complaint into a rectification problem, assigned to its county."""
    _csrf(request, user)
    try:
        problem = await asyncio.to_thread(
            to_problem, desk_of(request), complaint_id, user.username, lead_unit=body.lead_unit,
            deadline=body.deadline, measures=body.measures, peer=peer_of(request),
        )  # fmt: skip
    except ProblemError as error:
        raise _complaint_refused(error, complaint_id) from None
    return {"complaint": complaint_id, "problem": problem}


def _complaint_refused(error: ProblemError, complaint_id: int) -> ApiError:
    if error.code == "unknown_complaint":
        return _unknown_complaint(complaint_id)
    status = {"role_not_allowed": 403, "already_a_problem": 409}.get(error.code, 422)
    return ApiError(status, error.code, error.message_en, error.message_zh)
