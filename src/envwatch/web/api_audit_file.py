"""The permit audit API (审计式监管): the city table of enterprises by the
share of their permit used (JSON, CSV or XLSX through ``table_export``), an
enterprise's audit files (made by supervisors: city roles but the viewer,
and county officers in their counties; read by everyone who sees the
enterprise) and each file's document, PDF and XLSX, rendered again from the
stored document (the same bytes as when it was made: the SHA-256 stored with
the run is checked). Scoped like the rest (``alerts/scope.py``): an
enterprise out of scope answers 404 like an unknown one; a contractor sees
no enterprise."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as FastApiPath
from pydantic import Field
from sqlalchemy import Engine, select

from envwatch.alerts.scope import CITY_ROLES, scope_by
from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.hj212.codes import now_cst
from envwatch.permits.audit_file import AuditError
from envwatch.permits.audit_store import create_audit_file, sha256
from envwatch.permits.parameters import load_parameters
from envwatch.permits.usage import SORT_KEYS, sorted_rows, usage_rows
from envwatch.reports.audit_file import audit_pdf, audit_xlsx
from envwatch.rules.engine import default_rule_set
from envwatch.store.schema import MAX_ID, AuditRun, Enterprise
from envwatch.times import utc_as_cst_text
from envwatch.web.api_measurements import unknown_enterprise, visible_enterprise
from envwatch.web.api_quality import TABLE_RESPONSES
from envwatch.web.api_registry import _In
from envwatch.web.crud import invalid
from envwatch.web.errors import ApiError, csrf_failed
from envwatch.web.people import CSRF_HEADER, api_user, csrf_ok, peer_of
from envwatch.web.table_export import MEDIA_TYPES, TableFormat, table_response

router = APIRouter()

EnterpriseId = Annotated[int, FastApiPath(ge=1, le=MAX_ID)]
RunId = Annotated[int, FastApiPath(ge=1, le=MAX_ID)]
Reader = Annotated[SessionUser, Depends(api_user)]
MAKERS = (CITY_ROLES - {"viewer"}) | {"county_officer"}
"""Who makes audit files: the bureau's supervisors (a viewer only reads; an
enterprise reads its own files)."""

USAGE_COLUMNS = (
    ("enterprise_id", "企业编号"), ("enterprise", "企业"), ("county", "区县"),
    ("pollutant", "污染物"), ("permitted_t", "年许可排放量(t)"), ("actual_t", "累计排放量(t)"),
    ("measured_t", "自动监测(t)"), ("substituted_t", "数据替代(t)"), ("direct_t", "按直排核算(t)"),
    ("manual_t", "手工监测(t)"), ("share", "占许可比例"), ("projection_t", "全年预测(t)"),
    ("status", "状态"), ("valid_permit", "持有效许可证"),
    ("emitting_without_permit", "无证排污"),
)  # fmt: skip


class AuditFileIn(_In):
    period: str = Field(min_length=4, max_length=16)
    """2026, 2026-Q3 or 2026-07."""
    as_of: datetime | None = None
    """Judge at this moment (China Standard Time; default now)."""


def usage_document(
    engine: Engine, user: SessionUser, year: int, sort: str, descending: bool
) -> dict[str, Any]:
    with engine.connect() as connection:
        rows = usage_rows(connection, year, scope_by(user, Enterprise.county_code, Enterprise.id),
                          load_parameters(), now_cst().replace(tzinfo=None))  # fmt: skip
    rows = sorted_rows(rows, sort, descending) if sort else rows
    return {"year": year, "items": rows, "total": len(rows)}


@router.get("/api/v1/permits/usage", response_model=None, responses=TABLE_RESPONSES)
async def permit_usage(  # noqa: PLR0917 - the query parameters
    request: Request,
    user: Reader,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    sort: Annotated[str, Query(pattern="^(" + "|".join(SORT_KEYS) + ")?$")] = "",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    file_format: Annotated[TableFormat | None, Query(alias="format")] = None,
) -> dict[str, Any] | Response:
    """Enterprises in scope by the share of their annual permit used: the
    pollutant with the largest share, its tonnes by method, the projection
    to year end and the status, whether the enterprise holds a permit in
    force and whether it emits without one; the largest share first by default."""
    wanted = year or now_cst().year
    engine: Engine = request.app.state.database()
    document = await asyncio.to_thread(usage_document, engine, user, wanted, sort,
                                       order == "desc")  # fmt: skip
    if file_format is not None:
        return table_response(USAGE_COLUMNS, document["items"], file_format,
                              f"permit-usage-{wanted}")  # fmt: skip
    return document


def run_summary(row: Any) -> dict[str, Any]:
    document = row.document
    return {
        "id": row.id, "enterprise_id": row.enterprise_id, "period": row.period,
        "as_of": row.as_of.isoformat(), "newest_frame_id": row.newest_frame_id,
        "parameters": row.parameters, "created_by": row.created_by,
        "created_at": utc_as_cst_text(row.created_at),
        "pdf_sha256": row.pdf_sha256, "xlsx_sha256": row.xlsx_sha256,
        "checks": {c["code"]: c["status"] for c in document["checks"]},
        "problems": len(document["problems"]),
        "pdf": f"/api/v1/audit-files/{row.id}/pdf", "xlsx": f"/api/v1/audit-files/{row.id}/xlsx",
    }  # fmt: skip


async def person_with_csrf(request: Request, user: Reader) -> SessionUser:
    """A person's session sending its CSRF token (a token never writes)."""
    if not isinstance(user, SessionUser):
        raise ApiError(403, "person_required", "this needs a person logged in, not a token",
                       "此操作须由登录人员进行，访问令牌不可用")  # fmt: skip
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise csrf_failed()
    return user


@router.post("/api/v1/enterprises/{enterprise_id}/audit-files", status_code=201)
async def make_audit_file(
    request: Request,
    enterprise_id: EnterpriseId,
    body: AuditFileIn,
    user: Annotated[SessionUser, Depends(person_with_csrf)],
) -> dict[str, Any]:
    """Make the enterprise's audit file of a period from the stored data and
    record it (its parameters, the newest frame, the document)."""
    as_of = now_cst().replace(tzinfo=None) if body.as_of is None else body.as_of
    if as_of.tzinfo is not None:
        as_of = as_of.astimezone(now_cst().tzinfo).replace(tzinfo=None)

    def write() -> dict[str, Any]:
        engine: Engine = request.app.state.database()
        with engine.begin() as connection:
            if visible_enterprise(connection, user, enterprise_id) is None:
                raise unknown_enterprise(enterprise_id)
            if user.role not in MAKERS:
                raise ApiError(403, "forbidden", "only supervisors make audit files",
                               "只有监管人员可以生成审计档案")  # fmt: skip
            try:
                made = create_audit_file(
                    connection, enterprise_id, body.period, as_of,
                    Actor(user.username, user.role, peer_of(request)),
                    parameters=load_parameters(), rules=default_rule_set(),
                )  # fmt: skip
            except AuditError as error:
                raise invalid("period", error.message_en, error.message_zh) from None
            assert made is not None  # the enterprise was seen above
            row = connection.execute(select(AuditRun).where(AuditRun.id == made.run_id)).one()
            return run_summary(row)

    return await asyncio.to_thread(write)


@router.get("/api/v1/enterprises/{enterprise_id}/audit-files")
async def audit_files(
    request: Request, enterprise_id: EnterpriseId, user: Reader
) -> dict[str, Any]:
    """The enterprise's audit files, newest first."""

    def read() -> dict[str, Any]:
        engine: Engine = request.app.state.database()
        with engine.connect() as connection:
            if visible_enterprise(connection, user, enterprise_id) is None:
                raise unknown_enterprise(enterprise_id)
            rows = connection.execute(
                select(AuditRun).where(AuditRun.enterprise_id == enterprise_id)
                .order_by(AuditRun.id.desc()).limit(200)
            ).all()  # fmt: skip
        items = [run_summary(row) for row in rows]
        return {"items": items, "total": len(items)}

    return await asyncio.to_thread(read)


def visible_run(engine: Engine, user: SessionUser, run_id: int) -> Any:
    """The run, if its enterprise is the user's to see (404 otherwise, like unknown)."""
    with engine.connect() as connection:
        row = connection.execute(select(AuditRun).where(AuditRun.id == run_id)).first()
        if row is None or visible_enterprise(connection, user, row.enterprise_id) is None:
            raise ApiError(404, "not_found", f"no audit file {run_id}", f"没有审计档案{run_id}")
    return row


@router.get("/api/v1/audit-files/{run_id}")
async def audit_file(request: Request, run_id: RunId, user: Reader) -> dict[str, Any]:
    """An audit file: its run and its whole document (checks with evidence,
    problems with rectification, the execution-report tables)."""
    row = await asyncio.to_thread(visible_run, request.app.state.database(), user, run_id)
    return {**run_summary(row), "document": row.document}


REPRODUCED_HEADER = "X-Envwatch-Reproduced"
"""``yes`` when the file rendered again has the SHA-256 recorded with the run;
``no`` when the renderer (or the font on the machine) changed since."""


def rendered(row: Any, kind: str) -> tuple[bytes, bool]:
    """The file rendered again from the stored document, and whether it has
    the bytes recorded with the run."""
    data = audit_pdf(row.document) if kind == "pdf" else audit_xlsx(row.document)
    recorded = row.pdf_sha256 if kind == "pdf" else row.xlsx_sha256
    return data, sha256(data) == recorded


@router.get("/api/v1/audit-files/{run_id}/{kind}", response_model=None, responses={
    200: {"content": {"application/pdf": {}, MEDIA_TYPES["xlsx"]: {}},
          "description": "the audit file as PDF or XLSX"},
})  # fmt: skip
async def audit_file_download(
    request: Request,
    run_id: RunId,
    kind: Annotated[str, FastApiPath(pattern="^(pdf|xlsx)$")],
    user: Reader,
) -> Response:
    """The audit file as PDF or XLSX."""

    def read() -> tuple[Any, tuple[bytes, bool]]:
        row = visible_run(request.app.state.database(), user, run_id)
        return row, rendered(row, kind)

    row, (data, same) = await asyncio.to_thread(read)
    name = quote(f"audit-{row.enterprise_id}-{row.period}.{kind}")
    media = "application/pdf" if kind == "pdf" else MEDIA_TYPES["xlsx"]
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}",
                             REPRODUCED_HEADER: "yes" if same else "no"})  # fmt: skip
