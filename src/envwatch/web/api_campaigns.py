"""The API of the bottom line's rectification sources: satellite fire points
of straw burning (import of a satellite export, the points in scope) and
inspection campaigns (大排查大整治: create, read with checklist, targets,
results and progress by county, record results, keep and download their
evidence). Both feed the rectification workflow through the same desk.

Reads take a person's session or a read token; changes need a person and the
session's CSRF token (``X-CSRF-Token``)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.rectification.campaign_desk import (
    CREATORS,
    CampaignError,
    campaign_file,
    create_campaign,
    record_results,
    store_evidence,
    visible_campaign,
    visible_campaigns,
)
from envwatch.rectification.campaigns import CampaignSpec
from envwatch.rectification.evidence import EvidenceError, Upload
from envwatch.rectification.fire_desk import import_fire_points, visible_fire_points
from envwatch.registry.importing import ImportFileError, RowError
from envwatch.store.schema import MAX_ID
from envwatch.web.api_alerts import FILE_NAME, MAX_OFFSET, NO_NUL
from envwatch.web.api_rectification import (
    MAX_LIST_BYTES,
    Code,
    FileStored,
    Sha256,
    _body,
    _csrf,
    _file_response,
    desk_of,
    refused,
)
from envwatch.web.errors import ApiError
from envwatch.web.people import Principal, api_person, api_user, peer_of

router = APIRouter()
CampaignId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]
CAMPAIGN_EVIDENCE = "/api/v1/campaign-evidence"
FIRE_IMPORTS = "/api/v1/fire-points/imports"


def _rejected(errors: list[RowError], what_en: str, what_zh: str) -> ApiError:
    rows = [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors]
    return ApiError(422, "import_rejected", f"{len(errors)} problems: {what_en}",
                    f"{len(errors)}处错误，{what_zh}", rows=rows)  # fmt: skip


def _unknown_campaign(campaign_id: int) -> ApiError:
    return ApiError(404, "unknown_campaign", f"no campaign {campaign_id}",
                    f"没有编号为{campaign_id}的排查整治行动")  # fmt: skip


# ---- satellite fire points (秸秆焚烧火点) -------------------------------------


@router.get("/api/v1/fire-points")
async def list_fire_points(
    request: Request,
    *,
    user: Annotated[Principal, Depends(api_user)],
    county: Code = None,
    outside: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """The fire points a supervisor may see (a county officer their counties'),
    newest first; ``outside``: only those outside the city, or inside."""

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            items, total = visible_fire_points(connection, user, county=county, outside=outside,
                                               limit=limit, offset=offset)  # fmt: skip
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    return await asyncio.to_thread(read)


@router.post(FIRE_IMPORTS, status_code=201)
async def import_fire_export(
    request: Request,
    user: Annotated[SessionUser, Depends(api_person)],
    name: Annotated[str, Query(pattern=r"^[^\x00-\x1f/\\]{1,200}\.(csv|xlsx|CSV|XLSX)$")],
) -> dict[str, Any]:
    """Import a satellite export (the body, CSV or XLSX), every new point or
    none, by the city bureau (who assigns problems): 201 with ``{"imported",
    "known", "outside", "problems"}``, or 422 ``import_rejected`` with every
    bad row as ``{"row", "column", "reason"}``."""
    _csrf(request, user)
    desk = desk_of(request)
    if user.role not in desk.assigners():
        raise ApiError(403, "role_not_allowed", f"the role {user.role!r} imports no fire "
                       "points", "该角色不能导入卫星火点")  # fmt: skip
    content = await _body(request, MAX_LIST_BYTES)
    actor = Actor(user.username, user.role, peer_of(request))
    try:
        done, errors = await asyncio.to_thread(import_fire_points, desk, name, content, actor)
    except ImportFileError as error:
        raise ApiError(422, error.code, error.message_en, error.message_zh) from None
    if errors:
        raise _rejected(errors, "nothing imported", "未导入任何内容")
    return done.as_json()


# ---- inspection campaigns (大排查大整治) --------------------------------------


class ResultIn(BaseModel):
    """One result: the target (kind and id), the item's number, pass/fail/na."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    ref_id: int = Field(ge=1, le=MAX_ID)
    item: int = Field(ge=1, le=10_000)
    result: str = Field(min_length=1, max_length=8, pattern=NO_NUL)
    note: str = Field(default="", max_length=4000, pattern=NO_NUL)
    evidence_name: str = Field(default="", max_length=200, pattern=NO_NUL)
    evidence_sha256: str = Field(default="", pattern=r"^([0-9a-f]{64})?$")


class ResultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    results: list[ResultIn] = Field(min_length=1, max_length=2000)


@router.get("/api/v1/campaigns")
async def list_campaigns(
    request: Request,
    user: Annotated[Principal, Depends(api_user)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """The campaigns the user may see, newest first."""
    desk = desk_of(request)

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            items, total = visible_campaigns(connection, user, desk, limit=limit, offset=offset)
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    return await asyncio.to_thread(read)


@router.post("/api/v1/campaigns", status_code=201)
async def new_campaign(
    request: Request, body: CampaignSpec, user: Annotated[SessionUser, Depends(api_person)]
) -> dict[str, Any]:
    """Create a campaign with its checklist and targets (by the city bureau),
    every part or none: 422 ``invalid_campaign`` names each problem."""
    _csrf(request, user)
    if user.role not in CREATORS:
        raise ApiError(403, "role_not_allowed", f"the role {user.role!r} creates no campaigns",
                       "该角色不能创建排查整治行动")  # fmt: skip
    actor = Actor(user.username, user.role, peer_of(request))
    campaign, errors = await asyncio.to_thread(create_campaign, desk_of(request), body, actor)
    if errors:
        rows = [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors]
        raise ApiError(422, "invalid_campaign", "; ".join(f"{e.column}: {e.reason}"
                                                          for e in errors),
                       "排查整治行动有误", rows=rows)  # fmt: skip
    return {"id": campaign}


@router.get("/api/v1/campaigns/{campaign_id}")
async def get_campaign(
    request: Request, campaign_id: CampaignId, user: Annotated[Principal, Depends(api_user)]
) -> dict[str, Any]:
    """A campaign: its checklist, the targets the user sees with their results
    (and the problems failed items opened), progress by county over them."""
    desk = desk_of(request)

    def read() -> dict[str, Any] | None:
        with request.app.state.database().connect() as connection:
            return visible_campaign(connection, user, campaign_id, desk)

    found = await asyncio.to_thread(read)
    if found is None:
        raise _unknown_campaign(campaign_id)
    return found


@router.post("/api/v1/campaigns/{campaign_id}/results")
async def post_results(
    request: Request,
    campaign_id: CampaignId,
    body: ResultsIn,
    user: Annotated[SessionUser, Depends(api_person)],
) -> dict[str, Any]:
    """Record inspection results, every one or none (422 ``import_rejected``
    with row/column/reason; rows count from 2 as in a file); each failed item
    opens one problem, never a second."""
    _csrf(request, user)
    rows = [item.model_dump() for item in body.results]
    try:
        opened, errors = await asyncio.to_thread(
            record_results, desk_of(request), campaign_id, user.username, rows,
            peer=peer_of(request),
        )  # fmt: skip
    except CampaignError as error:
        if error.code == "unknown_campaign":
            raise _unknown_campaign(campaign_id) from None
        raise refused(error) from None
    if errors:
        raise _rejected(errors, "nothing recorded", "未录入任何结果")
    return {"recorded": len(rows), "problems": opened}


@router.post(CAMPAIGN_EVIDENCE, status_code=201)
async def upload_campaign_evidence(
    request: Request,
    user: Annotated[SessionUser, Depends(api_person)],
    campaign: Annotated[int, Query(ge=-MAX_ID, le=MAX_ID)],
    name: Annotated[str, Query(pattern=FILE_NAME)],
) -> FileStored:
    """Keep the body (a photo, PDF, ...) as evidence for inspection results of
    ``campaign``: checked for size and type, stored by its SHA-256; name it in
    a result's ``evidence_name`` and ``evidence_sha256``."""
    _csrf(request, user)
    desk = desk_of(request)
    content = await _body(request, desk.policy.evidence.max_bytes)
    try:
        digest, media_type = await asyncio.to_thread(
            store_evidence, desk, campaign, user.username, Upload(name, content)
        )
    except CampaignError as error:
        if error.code == "unknown_campaign":
            raise _unknown_campaign(campaign) from None
        raise refused(error) from None
    except EvidenceError as error:
        raise refused(error) from None
    return FileStored(name=name, sha256=digest, media_type=media_type, size=len(content))


@router.get("/api/v1/campaigns/{campaign_id}/files/{sha256}", response_model=None)
async def download_campaign_evidence(
    request: Request,
    campaign_id: CampaignId,
    sha256: Sha256,
    user: Annotated[Principal, Depends(api_user)],
) -> Response:
    """A file backing a result of a target the user sees; its SHA-256 checked on reading."""

    def read() -> Any:
        with request.app.state.database().connect() as connection:
            return campaign_file(connection, user, campaign_id, sha256)

    try:
        found = await asyncio.to_thread(read)
    except EvidenceError as error:
        raise refused(error) from None
    if found is None:
        raise ApiError(404, "unknown_file", f"no file {sha256} of campaign {campaign_id}",
                       "没有该文件")  # fmt: skip
    return _file_response(*found)
