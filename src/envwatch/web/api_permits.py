"""The permit API (排污审计): an enterprise's permits with their versions, a
new version recorded by a city administrator (a change never rewrites the
past: versions are only added, so there is no PATCH nor DELETE), and the
emissions of a year against the permit (the ``envwatch permits emissions``
document with monthly totals by method), and manual monitoring results
(手工监测) imported by a city administrator and listed within scope. Scoped like the rest
(``alerts/scope.py``): an enterprise out of scope answers 404 like an unknown
one; an enterprise is no device, so a contractor sees none."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as FastApiPath
from pydantic import Field, field_validator, model_validator
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from envwatch.alerts.scope import scope_by
from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser
from envwatch.errors import PeerError
from envwatch.hj212.codes import now_cst
from envwatch.permits.caps import SEASON_DAY, checked_season_day
from envwatch.permits.importing import FREQUENCY_PATTERN
from envwatch.permits.manual_store import import_manual, list_results
from envwatch.permits.parameters import load_parameters
from envwatch.permits.report import (
    cap_json,
    cap_totals,
    emissions_json,
    monthly_totals,
    permit_checks,
    year_totals,
)
from envwatch.permits.store import (
    Category,
    MonitoringMethod,
    PermitError,
    PermitItem,
    PermitVersion,
    PlanItem,
    current_permits,
    permit_view,
    record_version,
)
from envwatch.registry.limits import AveragingPeriod
from envwatch.store.schema import MAX_ID, Enterprise, Permit
from envwatch.web.api_measurements import unknown_enterprise, visible_enterprise
from envwatch.web.api_registry import (  # the registry's schemas and its upload
    _file_name,
    _In,
    _known_factor,
    _upload,
    registry_writer,
)
from envwatch.web.crud import invalid
from envwatch.web.errors import ApiError
from envwatch.web.people import api_user, peer_of

router = APIRouter()

EnterpriseId = Annotated[int, FastApiPath(ge=1, le=MAX_ID)]
Reader = Annotated[SessionUser, Depends(api_user)]
Writer = Annotated[SessionUser, Depends(registry_writer)]


class ItemIn(_In):
    outlet_id: int = Field(gt=0, le=MAX_ID)
    pollutant: str = Field(min_length=1, max_length=16)
    limit_value: float = Field(gt=0, le=1e9)
    unit: str = Field(min_length=1, max_length=16)
    basis: str = Field(default="", max_length=64)
    reference_o2: float | None = Field(default=None, ge=0, lt=21)
    averaging_period: AveragingPeriod | None = None
    lower_value: float | None = Field(default=None, ge=0, le=1e9)
    annual_tonnes: float | None = Field(default=None, ge=0, le=1e9)
    """The annual permitted emission [t/a]."""
    monthly_tonnes: float | None = Field(default=None, ge=0, le=1e9)
    seasonal_tonnes: float | None = Field(default=None, ge=0, le=1e9)
    """A cap [t] over the season ``season_from`` to ``season_to`` of every year."""
    season_from: str | None = Field(default=None, pattern=SEASON_DAY.pattern)
    """MM-DD: the season's first day (11-15 for the heating season)."""
    season_to: str | None = Field(default=None, pattern=SEASON_DAY.pattern)
    """MM-DD: its last day, inclusive (before ``season_from``: over the new year)."""

    _known = field_validator("pollutant")(_known_factor)

    _season_days = field_validator("season_from", "season_to")(checked_season_day)

    @model_validator(mode="after")
    def _season(self) -> ItemIn:
        given = {self.seasonal_tonnes is None, self.season_from is None, self.season_to is None}
        if len(given) > 1:
            raise ValueError("seasonal_tonnes, season_from and season_to go together")
        return self


class PlanIn(_In):
    outlet_id: int = Field(gt=0, le=MAX_ID)
    pollutant: str = Field(min_length=1, max_length=16)
    method: MonitoringMethod
    frequency: str = Field(pattern=FREQUENCY_PATTERN)
    """continuous, or a count per period: 1/day, 4/quarter, ..."""
    untreated_concentration: float | None = Field(default=None, ge=0, le=1e9)
    design_flow_m3h: float | None = Field(default=None, gt=0, le=1e12)

    _known = field_validator("pollutant")(_known_factor)


class PermitIn(_In):
    number: str = Field(min_length=4, max_length=32, pattern=r"^[0-9A-Za-z-]+$")
    category: Category
    valid_from: date
    valid_to: date
    items: list[ItemIn] = Field(default_factory=list, max_length=500)
    plan: list[PlanIn] = Field(default_factory=list, max_length=500)
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _dates(self) -> PermitIn:
        if self.valid_to <= self.valid_from:
            raise ValueError("valid_to must follow valid_from")
        return self


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


@router.get("/api/v1/enterprises/{enterprise_id}/permits")
async def enterprise_permits(
    request: Request, enterprise_id: EnterpriseId, user: Reader, history: bool = False
) -> dict[str, Any]:
    """The enterprise's permits (current versions; with ``history`` every version)."""

    def read() -> dict[str, Any]:
        engine: Engine = request.app.state.database()
        with engine.connect() as connection:
            if visible_enterprise(connection, user, enterprise_id) is None:
                raise unknown_enterprise(enterprise_id)
            rows = current_permits(connection, enterprise_id)
            if history:
                rows = list(connection.execute(
                    select(Permit).where(Permit.enterprise_id == enterprise_id)
                    .order_by(Permit.number, Permit.version)
                ).all())  # fmt: skip
            items = [permit_view(connection, row) for row in rows]
        return {"items": items, "total": len(items)}

    return await asyncio.to_thread(read)


@router.post("/api/v1/enterprises/{enterprise_id}/permits", status_code=201)
async def record_permit(
    request: Request, enterprise_id: EnterpriseId, body: PermitIn, user: Writer
) -> dict[str, Any]:
    """Record a permit as issued or changed: its number's next version."""
    permit = PermitVersion(
        body.number, enterprise_id, body.category, _midnight(body.valid_from),
        _midnight(body.valid_to),
        items=[PermitItem(
            i.outlet_id, i.pollutant, i.limit_value, i.unit, i.basis, i.reference_o2,
            None if i.averaging_period is None else str(i.averaging_period), i.lower_value,
            i.annual_tonnes, i.monthly_tonnes, i.seasonal_tonnes, i.season_from, i.season_to,
        ) for i in body.items],
        plan=[PlanItem(p.outlet_id, p.pollutant, p.method, p.frequency,
                       p.untreated_concentration, p.design_flow_m3h) for p in body.plan],
        note=body.note,
    )  # fmt: skip

    def write() -> dict[str, Any]:
        engine: Engine = request.app.state.database()
        with engine.begin() as connection:
            if visible_enterprise(connection, user, enterprise_id) is None:
                raise unknown_enterprise(enterprise_id)
            try:
                permit_id = record_version(
                    connection, permit, Actor(user.username, user.role, peer_of(request))
                )
            except IntegrityError:  # another version of the number was recorded meanwhile
                raise ApiError(
                    409,
                    "conflict",
                    "the permit changed meanwhile: nothing stored, try again",
                    "许可证已被他人同时修改，未保存，请重试",
                ) from None
            except PermitError as error:
                if error.code == "permit_holder_changed":
                    raise ApiError(409, error.code, error.message_en, error.message_zh) from None
                raise invalid("body", error.message_en, error.message_zh) from None
            row = connection.execute(select(Permit).where(Permit.id == permit_id)).one()
            return permit_view(connection, row)

    return await asyncio.to_thread(write)


@router.get("/api/v1/enterprises/{enterprise_id}/emissions")
async def enterprise_emissions(
    request: Request,
    enterprise_id: EnterpriseId,
    user: Reader,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict[str, Any]:
    """The year's emissions per pollutant against the permit (permitted, actual
    by method, share, projection to year end, status) and monthly tonnes by
    method; the current year by default. ``caps``: the monthly and seasonal
    caps in force now, with the current period's emission against each."""
    wanted = year or now_cst().year

    def read() -> dict[str, Any]:
        engine: Engine = request.app.state.database()
        with engine.connect() as connection:
            if visible_enterprise(connection, user, enterprise_id) is None:
                raise unknown_enterprise(enterprise_id)
            parameters = load_parameters()
            totals = year_totals(connection, enterprise_id, wanted, parameters)
            months = monthly_totals(connection, enterprise_id, wanted)
            now = now_cst().replace(tzinfo=None)
            checks = permit_checks(connection, enterprise_id, now, totals, parameters)
            caps = cap_totals(connection, enterprise_id, now, parameters)
        shown = [{**asdict(check), "status": str(check.status)} for check in checks]
        return {**emissions_json(enterprise_id, wanted, totals), "months": months,
                "checks": shown, "caps": cap_json(caps)}  # fmt: skip

    return await asyncio.to_thread(read)


# ---- manual monitoring results (手工监测) ------------------------------------


@router.post("/api/v1/permits/manual-results", status_code=201)
async def import_manual_results(
    request: Request,
    user: Writer,
    name: Annotated[str | None, Query(pattern=r"^[^\x00-\x1f/\\]{1,200}$")] = None,
) -> dict[str, Any]:
    """Import the body (a CSV or XLSX file of manual monitoring results), all
    or nothing, and account them (rules.md §5.1 method order). 422
    ``import_rejected`` with every (row, column, reason) when any row is wrong:
    nothing is written then. The columns: 统一社会信用代码, 排放口编号,
    污染物编码, 采样开始时间, 采样结束时间, 浓度, 单位, 流量 [m³/h],
    排放体积 [m³], 检测机构, 报告编号."""
    content = await _upload(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    file_name = _file_name(name, media_type, content)
    if not content:
        raise ApiError(422, "empty_file", "the file is empty", "文件为空")
    actor = Actor(user.username, user.role, peer_of(request))

    def write() -> dict[str, Any]:
        engine: Engine = request.app.state.database()
        try:
            outcome = import_manual(engine, file_name, content, actor,
                                    parameters=load_parameters())  # fmt: skip
        except PeerError as error:
            raise ApiError(422, error.code, error.message_en, error.message_zh) from None
        if outcome.errors:
            raise ApiError(
                422, "import_rejected", f"{len(outcome.errors)} rows are wrong: nothing imported",
                f"{len(outcome.errors)}处错误，未导入任何数据",
                errors=[{"row": e.row, "column": e.column, "reason": e.reason}
                        for e in outcome.errors],
            )  # fmt: skip
        return outcome.summary(file_name)

    return await asyncio.to_thread(write)


@router.get("/api/v1/permits/manual-results")
async def manual_results(  # noqa: PLR0917 - the query parameters
    request: Request,
    user: Reader,
    enterprise: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Manual monitoring results of the enterprises in scope (of one
    ``enterprise``; sampled in [since, until), China Standard Time), newest
    sampling first: ``{items, total}``."""

    def read() -> dict[str, Any]:
        engine: Engine = request.app.state.database()
        with engine.connect() as connection:
            items, total = list_results(
                connection, scope_by(user, Enterprise.county_code, Enterprise.id),
                enterprise_id=enterprise, since=_naive(since), until=_naive(until),
                limit=limit, offset=offset,
            )  # fmt: skip
        return {"items": items, "total": total}

    return await asyncio.to_thread(read)


def _naive(moment: datetime | None) -> datetime | None:
    """A query time as naive China Standard Time (422 past the calendar's ends)."""
    if moment is None or moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(now_cst().tzinfo).replace(tzinfo=None)
    except OverflowError:
        raise invalid("query", "a time beyond the calendar", "时间超出范围") from None
