"""The API of the positive lists (正面清单), the counties' total-quantity
ledgers (总量指标台账) and carbon beside pollutants (减污降碳协同).

Who may do what: every logged-in user reads within the one scope rule
(``alerts/scope.py``: an entry of an enterprise out of scope answers 404 like
an unknown one; a ledger is its county's, so county officers read their
counties' and enterprise users the entries of their enterprise, never a
county's balance); city administrators and city supervisors change them,
with their CSRF token, each change audited. Positive-list entries are the
generic CRUD layer's (``web/crud.py``) without a delete: a removal closes the
entry (PATCH ``removed_on``), a re-admission is a new entry, so the history
keeps every spell."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field
from sqlalchemy import Connection, Select, select

from envwatch.alerts.scope import CITY_ROLES, SUPERVISOR_ROLES, Viewer, scope_by
from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.carbon.core import default_data
from envwatch.carbon.summary import enterprises_of, months_to_compare, summary
from envwatch.errors import PeerError
from envwatch.glossary import factor
from envwatch.hj212.codes import now_cst
from envwatch.ledger.importing import errors_json, import_positive, import_quota
from envwatch.ledger.positive import (
    criteria_problems,
    default_criteria,
    entry_view,
    open_entry,
)
from envwatch.ledger.quota import LedgerError, grams_of
from envwatch.ledger.quota_store import (
    Allocation,
    Freed,
    balances,
    cancel,
    entries,
    record_allocation,
    record_freed,
)
from envwatch.registry.importing import ImportFileError
from envwatch.store.schema import MAX_ID, Enterprise, PositiveListEntry, QuotaEntry
from envwatch.web.api_registry import _In
from envwatch.web.crud import ListFilter, Resource, View, invalid, mount
from envwatch.web.errors import ApiError, csrf_failed
from envwatch.web.people import CSRF_HEADER, api_user, csrf_ok, peer_of

router = APIRouter()

WRITERS = frozenset({"city_admin", "city_supervisor"})
MAX_FILE_BYTES = 8 << 20
ListKind = Literal["eia", "enforcement"]
County6 = Annotated[str | None, Query(pattern=r"^[0-9]{6}$")]
Pollutant = Annotated[str | None, Query(pattern=r"^[a-z][0-9]{5}$")]
FileName = Annotated[str, Query(pattern=r"^[^\x00-\x1f/\\]{1,200}\.(csv|xlsx|CSV|XLSX)$")]


async def ledger_writer(
    request: Request, user: Annotated[Viewer, Depends(api_user)]
) -> SessionUser:
    """A city administrator's or supervisor's session with its CSRF token."""
    if not isinstance(user, SessionUser) or user.role not in WRITERS:
        raise ApiError(
            403,
            "forbidden",
            "only city administrators and supervisors change the "
            "positive lists and the total-quantity ledgers",
            "仅市局管理员和督查人员可修改正面清单和总量指标台账",
        )
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise csrf_failed()
    return user


Writer = Annotated[SessionUser, Depends(ledger_writer)]
Reader = Annotated[Viewer, Depends(api_user)]


def _actor(request: Request, user: SessionUser) -> Actor:
    return Actor(user.username, user.role, peer_of(request))


def _engine(request: Request) -> Any:
    return request.app.state.database()


# --- Positive lists --------------------------------------------------------


class PositiveCreate(_In):
    enterprise_id: int = Field(ge=1, le=MAX_ID)
    kind: ListKind
    criteria: list[str] = Field(min_length=1, max_length=20)
    """Codes of the current criteria version (``GET /api/v1/positive-lists/criteria``)."""
    reason: str = Field(min_length=2, max_length=2000)
    added_on: date
    decided_by: str = Field(min_length=2, max_length=200)


class PositiveUpdate(_In):
    """A change of an open entry, or its removal (``removed_on`` with
    ``removal_reason`` and ``removed_by``)."""

    criteria: list[str] | None = Field(default=None, min_length=1, max_length=20)
    reason: str | None = Field(default=None, min_length=2, max_length=2000)
    decided_by: str | None = Field(default=None, min_length=2, max_length=200)
    removed_on: date | None = None
    removal_reason: str | None = Field(default=None, min_length=2, max_length=2000)
    removed_by: str | None = Field(default=None, min_length=2, max_length=200)


def _entries_in_scope(user: Viewer) -> Select[Any]:
    query: Any = (
        select(
            PositiveListEntry,
            Enterprise.name.label("enterprise_name"),
            Enterprise.county_code.label("county_code"),
        )
        .join(Enterprise, Enterprise.id == PositiveListEntry.enterprise_id)
        .where(scope_by(user, Enterprise.county_code, Enterprise.id))
    )
    return cast("Select[Any]", query)


def _entry_views(_connection: Connection, _user: Viewer, rows: list[Any]) -> list[View]:
    return [
        {
            **entry_view(row),
            "enterprise": row.enterprise_name,
            "county": row.county_code,
        }
        for row in rows
    ]


def _check_criteria(kind: str, codes: list[str]) -> None:
    problems = criteria_problems(kind, codes, default_criteria())
    if problems:
        raise invalid(
            "body.criteria", "; ".join(p[0] for p in problems), "；".join(p[1] for p in problems)
        )


def _check_admission(connection: Connection, body: PositiveCreate) -> None:
    if (
        connection.execute(select(Enterprise.id).where(Enterprise.id == body.enterprise_id)).first()
        is None
    ):
        raise invalid(
            "body.enterprise_id",
            f"no enterprise {body.enterprise_id}",
            f"没有编号为{body.enterprise_id}的企业",
        )
    _check_criteria(body.kind, body.criteria)
    found = open_entry(connection, body.enterprise_id, body.kind)
    if found is not None:
        raise ApiError(
            409,
            "already_listed",
            f"enterprise {body.enterprise_id} is on this list "
            f"since {found.added_on}: remove it first",
            f"该企业自{found.added_on}起已在该清单中，如需重新纳入请先移出",
        )


def _check_change(_connection: Connection, before: View, values: dict[str, Any]) -> None:
    if not before["open"]:
        raise ApiError(
            409,
            "entry_closed",
            "a removed entry is history and is not changed: "
            "admit the enterprise again as a new entry",
            "已移出的条目为历史记录，不能修改；如需重新纳入请新建条目",
        )
    if "criteria" in values:
        _check_criteria(before["kind"], values["criteria"])
    removal = {"removed_on", "removal_reason", "removed_by"} & set(values)
    if removal and removal != {"removed_on", "removal_reason", "removed_by"}:
        raise invalid(
            "body.removed_on",
            "a removal needs removed_on, removal_reason and removed_by",
            "移出须同时填写移出日期、移出理由和决定单位",
        )
    if removal and values["removed_on"] < date.fromisoformat(before["added_on"]):
        raise invalid(
            "body.removed_on", "the removal precedes the admission", "移出日期早于纳入日期"
        )


def _entry_values(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "enterprise_id" in out:  # a new entry
        out["criteria_version"] = default_criteria().current
        out.setdefault("removal_reason", "")
        out.setdefault("removed_by", "")
    return out


POSITIVE: Resource[PositiveCreate, PositiveUpdate] = Resource(
    name="positive_list_entry",
    name_zh="正面清单条目",
    collection="/positive-lists",
    table=PositiveListEntry,
    key=PositiveListEntry.id,
    key_param="entry_id",
    key_type=Annotated[int, Path(ge=1, le=MAX_ID)],
    public=PositiveCreate,
    create=PositiveCreate,
    update=PositiveUpdate,
    scoped=_entries_in_scope,
    filters=(
        ListFilter(
            "enterprise",
            Annotated[int | None, Query(ge=1, le=MAX_ID)],
            condition=lambda e: PositiveListEntry.enterprise_id == e,
        ),
        ListFilter("kind", ListKind | None, condition=lambda k: PositiveListEntry.kind == k),
        ListFilter(
            "open",
            bool | None,
            condition=lambda o: (
                PositiveListEntry.removed_on.is_(None)
                if o
                else PositiveListEntry.removed_on.is_not(None)
            ),
        ),
        ListFilter("county", County6, condition=lambda c: Enterprise.county_code == c),
    ),
    list_doc="Positive-list entries in scope, open and closed (the history): ``enterprise``, "
    "``kind`` (eia, enforcement), ``open``, ``county``.",
    views=_entry_views,
    row_values=_entry_values,
    check_create=_check_admission,
    check_update=_check_change,
    holders=None,
)


@router.get("/api/v1/positive-lists/criteria")
async def positive_criteria(user: Reader) -> dict[str, Any]:
    """The criteria of both lists by version (``ledger/criteria.toml``)."""
    criteria = default_criteria()
    return {
        "current": criteria.current,
        "versions": [
            {
                "id": v.id,
                "valid_from": v.valid_from.isoformat(),
                "source": v.source,
                "kinds": {
                    kind: {
                        "name_zh": k.name_zh,
                        "name_en": k.name_en,
                        "min_criteria": k.min_criteria,
                        "criteria": [{"code": c.code, "zh": c.zh, "en": c.en} for c in k.criteria],
                    }
                    for kind, k in v.kinds.items()
                },
            }
            for v in criteria.versions.values()
        ],
    }


mount(router, "/api/v1", POSITIVE, ledger_writer)


async def _file(request: Request) -> bytes:
    too_large = ApiError(
        413,
        "file_too_large",
        f"the file exceeds {MAX_FILE_BYTES} bytes",
        f"文件超过{MAX_FILE_BYTES}字节",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FILE_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FILE_BYTES:
            raise too_large
    return bytes(body)


async def _import(request: Request, user: SessionUser, name: str, work: Any) -> dict[str, Any]:
    content = await _file(request)
    try:
        imported, errors = await asyncio.to_thread(
            work, _engine(request), name, content, _actor(request, user)
        )
    except ImportFileError as error:
        raise ApiError(422, error.code, error.message_en, error.message_zh) from None
    if errors:
        raise ApiError(
            422,
            "import_rejected",
            f"{len(errors)} problems: nothing imported",
            f"{len(errors)}处错误，未导入任何内容",
            rows=errors_json(errors),
        )
    return {"imported": imported}


@router.post("/api/v1/positive-lists/imports", status_code=201)
async def import_positive_lists(request: Request, user: Writer, name: FileName) -> dict[str, Any]:
    """Import a positive-list file (the body, CSV or XLSX) all or nothing: a row
    admits (纳入日期, 入选标准, 入选理由, 决定单位) or removes (移出日期, 移出理由);
    422 ``import_rejected`` with every bad row and nothing imported."""
    return await _import(request, user, name, import_positive)


# --- Total-quantity ledger ---------------------------------------------------


def _counties_seen(user: Viewer) -> list[str] | None:
    """The counties whose balances ``user`` sees (None: all; [] none)."""
    if user.role in CITY_ROLES:
        return None
    if user.role == "county_officer":
        return sorted(user.counties)
    return []


class FreedIn(_In):
    county_code: str = Field(pattern=r"^\d{6}$")
    pollutant: str = Field(pattern=r"^[a-z][0-9]{5}$")
    cause: Literal["closure", "upgrade"]
    tonnes: str = Field(pattern=r"^\d{1,9}(\.\d{1,6})?$")
    """Tonnes as text, at most six decimals (kept exact, as grams)."""
    effective_on: date
    document_no: str = Field(min_length=2, max_length=100)
    enterprise_id: int = Field(ge=1, le=MAX_ID)
    note: str = Field(default="", max_length=2000)


class DrawIn(_In):
    source: int = Field(ge=1, le=MAX_ID)
    tonnes: str = Field(pattern=r"^\d{1,9}(\.\d{1,6})?$")


class AllocationIn(_In):
    county_code: str = Field(pattern=r"^\d{6}$")
    pollutant: str = Field(pattern=r"^[a-z][0-9]{5}$")
    tonnes: str = Field(pattern=r"^\d{1,9}(\.\d{1,6})?$")
    effective_on: date
    document_no: str = Field(min_length=2, max_length=100)
    project: str = Field(min_length=2, max_length=200)
    enterprise_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    sources: list[DrawIn] | None = Field(default=None, max_length=100)
    """The freed entries it draws on; none: the oldest first."""
    note: str = Field(default="", max_length=2000)


class CancelIn(_In):
    reason: str = Field(min_length=2, max_length=2000)
    on: date | None = None


REFUSALS = frozenset(
    {
        "quota_exceeded",
        "source_exceeded",
        "quota_entry_drawn",
        "already_cancelled",
        "sources_mismatch",
    }
)


def _refused(error: PeerError) -> ApiError:
    if error.code == "unknown_quota_entry":
        return ApiError(404, error.code, error.message_en, error.message_zh)
    status = 409 if error.code in REFUSALS else 422
    return ApiError(status, error.code, error.message_en, error.message_zh)


@router.get("/api/v1/quota/balances")
async def quota_balances(request: Request, user: Reader, county: County6 = None) -> dict[str, Any]:
    """Freed, allocated and balance [t] per county and pollutant: the city's
    roles see every county, county officers theirs, others none."""
    seen = _counties_seen(user)
    wanted = seen if county is None else [county] if seen is None or county in seen else []

    def read() -> list[dict[str, Any]]:
        with _engine(request).connect() as connection:
            return balances(connection, wanted)

    items = await asyncio.to_thread(read)
    return {"items": items, "total": len(items)}


@router.get("/api/v1/quota/entries")
async def quota_entries(
    request: Request, user: Reader, county: County6 = None, pollutant: Pollutant = None
) -> dict[str, Any]:
    """The ledger's entries in scope, oldest first per county and pollutant, each
    with its draws (or what draws on it), cancelled ones marked; the balance
    after each for the supervisors."""

    def read() -> list[dict[str, Any]]:
        with _engine(request).connect() as connection:
            return entries(
                connection,
                scope_by(user, QuotaEntry.county_code, QuotaEntry.enterprise_id),
                county,
                pollutant,
            )

    items = await asyncio.to_thread(read)
    if user.role not in SUPERVISOR_ROLES:
        items = [{**item, "balance_after_t": None} for item in items]
    return {"items": items, "total": len(items)}


async def _write(request: Request, work: Any) -> Any:
    def run() -> Any:
        with _engine(request).begin() as connection:
            return work(connection)

    try:
        return await asyncio.to_thread(run)
    except PeerError as error:
        raise _refused(error) from None


@router.post("/api/v1/quota/freed", status_code=201)
async def quota_freed(request: Request, body: FreedIn, user: Writer) -> dict[str, Any]:
    """Record capacity freed by a closure (关停) or an upgrade (提标改造)."""
    _valid_pollutant(body.pollutant)
    entry = Freed(
        body.county_code,
        body.pollutant,
        _grams(body.tonnes),
        body.cause,
        body.effective_on,
        body.document_no,
        body.enterprise_id,
        body.note,
    )
    entry_id = await _write(request, lambda c: record_freed(c, entry, _actor(request, user)))
    return await _entry(request, user, entry_id)


@router.post("/api/v1/quota/allocations", status_code=201)
async def quota_allocation(request: Request, body: AllocationIn, user: Writer) -> dict[str, Any]:
    """Record capacity allocated to a new project (腾笼换鸟), drawn on freed
    entries of its county and pollutant; 409 ``quota_exceeded`` (nothing
    recorded) when it exceeds the balance."""
    _valid_pollutant(body.pollutant)
    sources: dict[int, int] | None = None if body.sources is None else {}
    for draw in body.sources or []:
        assert sources is not None
        sources[draw.source] = sources.get(draw.source, 0) + _grams(draw.tonnes)
    entry = Allocation(
        body.county_code,
        body.pollutant,
        _grams(body.tonnes),
        body.effective_on,
        body.document_no,
        body.project,
        body.enterprise_id,
        sources,
        body.note,
    )
    entry_id = await _write(request, lambda c: record_allocation(c, entry, _actor(request, user)))
    return await _entry(request, user, entry_id)


@router.post("/api/v1/quota/entries/{entry_id}/cancel")
async def quota_cancel(
    request: Request, entry_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: CancelIn, user: Writer
) -> dict[str, Any]:
    """Cancel an entry recorded by mistake (it stays in the history, no longer
    counted); 409 while allocations draw on a freed entry."""
    on = body.on or now_cst().date()
    await _write(request, lambda c: cancel(c, entry_id, body.reason, on, _actor(request, user)))
    return await _entry(request, user, entry_id)


@router.post("/api/v1/quota/imports", status_code=201)
async def import_quota_ledger(request: Request, user: Writer, name: FileName) -> dict[str, Any]:
    """Import ledger entries (the body, CSV or XLSX) all or nothing, in file order:
    区县代码, 污染物编码, 类型 (关停 / 提标改造 / 腾笼换鸟), 吨数, 日期, 文号,
    统一社会信用代码, 项目名称, 来源条目 (``id:tonnes`` or ``#row:tonnes``), 备注."""
    return await _import(request, user, name, import_quota)


def _grams(text: str) -> int:
    try:
        return grams_of(text)
    except LedgerError as error:
        raise invalid("body.tonnes", error.message_en, error.message_zh) from None


def _valid_pollutant(code: str) -> None:
    if factor(code) is None:
        raise invalid(
            "body.pollutant",
            f"{code} is not an HJ 212-2017 factor code",
            f"{code}不是HJ 212-2017污染物编码",
        )


async def _entry(request: Request, user: Viewer, entry_id: int) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with _engine(request).connect() as connection:
            row = connection.execute(
                select(QuotaEntry.county_code, QuotaEntry.pollutant).where(
                    QuotaEntry.id == entry_id
                )
            ).one()
            shown = entries(
                connection,
                scope_by(user, QuotaEntry.county_code, QuotaEntry.enterprise_id),
                row.county_code,
                row.pollutant,
            )
        return next(item for item in shown if item["id"] == entry_id)

    return await asyncio.to_thread(read)


# --- Carbon ------------------------------------------------------------------


@router.get("/api/v1/carbon/summary")
async def carbon_summary(
    request: Request,
    user: Reader,
    year: Annotated[int | None, Query(ge=2001, le=2100)] = None,
    enterprise: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    county: County6 = None,
) -> dict[str, Any]:
    """CO2 (electricity × the year's grid factor, with its source; flue-gas CEMS)
    beside pollutant tonnes per enterprise in scope and per county, by month and
    for the year: intensities per MWh of production electricity and per unit of
    output, the change on the same months of the previous year and the synergy
    class (``envwatch carbon summary``). An enterprise out of scope: 404."""
    wanted = year or now_cst().year
    condition = scope_by(user, Enterprise.county_code, Enterprise.id)
    if county is not None:
        condition = condition & (Enterprise.county_code == county)

    def read() -> dict[str, Any]:
        with _engine(request).connect() as connection:
            rows = enterprises_of(connection, condition, enterprise)
            if enterprise is not None and not rows:
                raise ApiError(
                    404,
                    "unknown_enterprise",
                    f"no enterprise {enterprise}",
                    f"没有编号为{enterprise}的企业",
                )
            return summary(
                connection,
                wanted,
                rows,
                default_data(),
                through=months_to_compare(wanted, now_cst().date()),
                keep_empty=enterprise is not None,
            )

    return await asyncio.to_thread(read)
