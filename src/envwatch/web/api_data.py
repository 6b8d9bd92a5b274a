"""Read APIs for people logged in, each scoped like the alerts: findings, a
monitoring point's hours (HJ 75 validity, O2-corrected, substitutes beside
the originals), coverage per county, SLA figures, and the audit log (city
administrators only). Lists are ``{"items", "total", "limit", "offset"}``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, func, select

from envwatch.alerts.filters import FindingFilter
from envwatch.alerts.queries import CITY_ROLES, Viewer, scope, sees_device, visible_findings
from envwatch.alerts.sla import alert_times, sla_figures
from envwatch.hj212.codes import now_cst
from envwatch.processing.hours import stored_hours
from envwatch.processing.inputs import load_contexts
from envwatch.registry.coverage import coverage
from envwatch.rules.engine import default_rule_set
from envwatch.settings import get_settings
from envwatch.store.schema import Alert, AuditEntry, FindingRecord
from envwatch.times import as_data_time, cst_text, utc_as_cst_text
from envwatch.web.api_alerts import MAX_OFFSET
from envwatch.web.errors import ApiError
from envwatch.web.overview import overview
from envwatch.web.people import Principal, api_user

router = APIRouter()
MAX_HOURS_WINDOW = timedelta(days=31)
NO_NUL = r"^[^\x00]*$"


def _sees_device(request: Request, user: Viewer, mn: str) -> bool:
    with request.app.state.database().connect() as connection:
        return sees_device(connection, user, mn)


class FindingPublic(BaseModel):
    """A rule's finding; window times are data times (China Standard Time)."""

    id: int
    mn: str
    pollutant: str | None
    rule: str
    rule_version: int
    window_start: str
    window_end: str
    severity: str
    explanation: str
    evidence: dict[str, Any] = Field(description="what the rule saw, with its parameters")


class FindingList(BaseModel):
    items: list[FindingPublic]
    total: int
    limit: int
    offset: int


class CountyConnectionPublic(BaseModel):
    county: str | None
    name: str
    points: int
    online: int
    offline: int
    never_connected: int
    connection_rate: float | None = Field(description="share of points online now (联网率)")


class NewestFinding(BaseModel):
    id: int
    mn: str
    enterprise: str
    enterprise_id: int
    pollutant: str | None
    rule: str
    kind: str
    title_zh: str
    window_start: str
    severity: str
    explanation: str


class OverviewPublic(BaseModel):
    day: str = Field(description="today in China Standard Time")
    open_alerts: dict[str, int] = Field(description="open alerts per map area (county code)")
    counties: list[CountyConnectionPublic]
    totals: CountyConnectionPublic
    findings_today: dict[str, int] = Field(description="today's findings per kind of rule")
    newest_findings: list[NewestFinding]


class CountyCoveragePublic(BaseModel):
    county: str
    name: str
    key_enterprises: int
    without_monitor: list[str] = Field(description="key enterprises without a monitor")
    without_meter: list[str] = Field(description="key enterprises without a meter")
    points: int
    online: int
    offline: list[str] = Field(description="MNs of the points offline now")
    never_connected: list[str] = Field(description="MNs of the points never connected")
    connection_rate: float | None


class CoverageList(BaseModel):
    items: list[CountyCoveragePublic]
    total: int


class SlaStage(BaseModel):
    count: int = Field(description="alerts that reached this stage")
    median_s: float | None = Field(description="median seconds from the triggering frame")
    mean_s: float | None


class SlaRow(BaseModel):
    county: str | None
    level: str
    alerts: int
    alerted: SlaStage
    acknowledged: SlaStage
    handled: SlaStage
    closed: SlaStage


class SlaList(BaseModel):
    items: list[SlaRow]
    total: int


class AuditEntryPublic(BaseModel):
    seq: int
    at: str | None
    actor: str
    role: str
    peer: str = Field(description="from where: an IP address, or cli:user@host")
    action: str
    entity: str
    entity_id: str
    before: str = Field(description="canonical JSON of what changed, before")
    after: str = Field(description="... and after")


class AuditList(BaseModel):
    items: list[AuditEntryPublic]
    total: int
    limit: int
    offset: int


class AuditQuery(BaseModel):
    """The audit log's filters and page."""

    model_config = ConfigDict(extra="forbid")

    # No NUL in any text: PostgreSQL's text holds none (a 500 otherwise).
    actor: str | None = Field(default=None, min_length=1, max_length=64, pattern=NO_NUL)
    action: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=NO_NUL,
        description="an action, or its prefix ending in a dot: alert.",
    )
    entity: str | None = Field(default=None, min_length=1, max_length=32, pattern=NO_NUL)
    entity_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=NO_NUL)
    since: datetime | None = Field(default=None, description="with its time zone")
    until: datetime | None = None
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)

    @field_validator("since", "until")
    @classmethod
    def _zone_aware(cls, moment: datetime | None) -> datetime | None:
        if moment is not None and moment.tzinfo is None:
            raise ValueError("give the time zone, e.g. 2026-12-01T08:00:00+08:00")
        return moment


class FindingListQuery(FindingFilter):
    """The finding filter with a page of the list."""

    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


@router.get("/api/v1/findings")
async def list_findings(
    request: Request,
    query: Annotated[FindingListQuery, Query()],
    user: Annotated[Principal, Depends(api_user)],
) -> FindingList:
    """The findings of the devices the user may see, newest first, narrowed by
    any of the filters (repeat ``rule``, ``kind``, ``severity`` or ``county``
    for several): ``{"items", "total", "limit", "offset"}``."""
    filters = FindingFilter.model_validate(query.model_dump(exclude={"limit", "offset"}))
    limit, offset = query.limit, query.offset

    def read() -> FindingList:
        joined = visible_findings(user).where(*filters.conditions())
        with request.app.state.database().connect() as connection:
            total = connection.execute(select(func.count()).select_from(joined.subquery()))
            rows = connection.execute(
                joined.order_by(FindingRecord.id.desc()).limit(limit).offset(offset)
            ).all()
            count = int(total.scalar_one())
        items = [
            {"id": r.id, "mn": r.mn, "pollutant": r.pollutant or None, "rule": r.rule,
             "rule_version": r.rule_version, "window_start": cst_text(r.window_start),
             "window_end": cst_text(r.window_end), "severity": r.severity,
             "explanation": r.explanation, "evidence": r.evidence}
            for r in rows
        ]  # fmt: skip
        return FindingList(items=[FindingPublic(**item) for item in items], total=count,
                           limit=limit, offset=offset)  # fmt: skip

    return await asyncio.to_thread(read)


@router.get("/api/v1/points/{mn}/hours")
async def point_hours(
    request: Request,
    mn: Annotated[str, Path(pattern=NO_NUL)],  # PostgreSQL text holds no NUL
    *,
    user: Annotated[Principal, Depends(api_user)],
    pollutant: Annotated[str, Query(min_length=1, max_length=16)],
    since: datetime,
    until: datetime,
) -> dict[str, Any]:
    """A point's hours of one pollutant (China Standard Time, naive or +08:00)."""
    start, end = as_data_time(since), as_data_time(until)
    if not timedelta(0) < end - start <= MAX_HOURS_WINDOW:
        raise ApiError(422, "bad_window", "until must follow since, by at most 31 days",
                       "结束时间须晚于开始时间，且跨度不超过31天")  # fmt: skip

    def read() -> dict[str, Any]:
        if not _sees_device(request, user, mn):
            raise ApiError(404, "unknown_point", f"no point {mn}", f"没有监测点{mn}")
        engine = request.app.state.database()
        rules = default_rule_set(get_settings().rules_file)
        context = load_contexts(engine, now_cst()).get(mn)
        if context is None:
            raise ApiError(404, "unknown_point", f"no point {mn}", f"没有监测点{mn}")
        limit = context.limit(pollutant)
        with engine.connect() as connection:
            hours = stored_hours(connection, mn, pollutant, rules, since=start, until=end,
                                 now=now_cst(),
                                 reference_o2=limit.reference_o2 if limit else None)  # fmt: skip
        return {
            "mn": mn, "pollutant": pollutant,
            "limit": None if limit is None else {"value": limit.value, "unit": limit.unit,
                                                  "basis": limit.basis},
            "items": [{"hour": cst_text(h.start), "source": h.source,
                       "validity": h.validity.value, "mean": h.mean, "o2": h.o2,
                       "corrected": h.corrected, "volume_m3": h.volume_m3,
                       "emission_kg": h.emission_kg, "substituted_kg": h.substituted_kg,
                       "substitution": h.substitution,
                       "cause": None if h.cause is None else h.cause.value} for h in hours],
        }  # fmt: skip

    return await asyncio.to_thread(read)


@router.get("/api/v1/overview")
async def city_overview(
    request: Request, user: Annotated[Principal, Depends(api_user)]
) -> OverviewPublic:
    """The city at a glance as the user may see it: open alerts per map area,
    points online and offline and the connection rate per county (city and
    county roles only), today's findings by kind and the newest exceedances
    and suspected falsifications."""

    def read() -> OverviewPublic:
        offline_after = timedelta(seconds=get_settings().offline_after_s)
        summary = overview(request.app.state.database(), user, datetime.now(UTC), offline_after)
        return OverviewPublic(**summary.as_json())

    return await asyncio.to_thread(read)


@router.get("/api/v1/coverage")
async def coverage_per_county(
    request: Request, user: Annotated[Principal, Depends(api_user)]
) -> CoverageList:
    """Per county: key enterprises without monitor or meter, points online,
    offline and never connected, connection rate (应装尽装、应联尽联)."""
    if user.role in {"enterprise_user", "contractor"}:
        raise ApiError(403, "forbidden", "coverage is for supervisors", "仅监管人员可查看")

    def read() -> CoverageList:
        rows = coverage(request.app.state.database(), datetime.now(UTC),
                        timedelta(seconds=get_settings().offline_after_s))  # fmt: skip
        visible = [r for r in rows if user.role in CITY_ROLES or r.code in user.counties]
        items = [CountyCoveragePublic(
                     county=r.code, name=r.name_zh, key_enterprises=r.key_enterprises,
                     without_monitor=r.without_monitor, without_meter=r.without_meter,
                     points=r.points, online=r.online, offline=r.offline,
                     never_connected=r.never_connected, connection_rate=r.connection_rate)
                 for r in visible]  # fmt: skip
        return CoverageList(items=items, total=len(items))

    return await asyncio.to_thread(read)


@router.get("/api/v1/sla")
async def sla(request: Request, user: Annotated[Principal, Depends(api_user)]) -> SlaList:
    """SLA figures per county and level, of the alerts the user may see."""

    def read() -> SlaList:
        with request.app.state.database().connect() as connection:
            rows = connection.execute(select(Alert).where(scope(user))).all()
        figures = sla_figures(alert_times(row) for row in rows)
        return SlaList(items=[SlaRow(**row) for row in figures], total=len(figures))

    return await asyncio.to_thread(read)


@router.get("/api/v1/audit")
async def audit_log(
    request: Request,
    query: Annotated[AuditQuery, Query()],
    user: Annotated[Principal, Depends(api_user)],
) -> AuditList:
    """The audit log, newest first, narrowed by actor, action (or its prefix
    ending in a dot), entity and time (city administrators only)."""
    if user.role != "city_admin":
        raise ApiError(403, "forbidden", "the audit log is for city administrators",
                       "仅市局管理员可查看审计日志")  # fmt: skip
    conditions: list[ColumnElement[bool]] = []
    if query.actor is not None:
        conditions.append(AuditEntry.actor == query.actor)
    if query.action is not None:
        conditions.append(
            AuditEntry.action.startswith(query.action, autoescape=True)
            if query.action.endswith(".")
            else AuditEntry.action == query.action
        )
    if query.entity is not None:
        conditions.append(AuditEntry.entity == query.entity)
    if query.entity_id is not None:
        conditions.append(AuditEntry.entity_id == query.entity_id)
    # SQLite keeps UTC moments without their zone: compare in UTC.
    if query.since is not None:
        conditions.append(AuditEntry.at >= query.since.astimezone(UTC))
    if query.until is not None:
        conditions.append(AuditEntry.at < query.until.astimezone(UTC))

    def read() -> AuditList:
        with request.app.state.database().connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(AuditEntry).where(*conditions)
            ).scalar_one()
            rows = connection.execute(
                select(AuditEntry).where(*conditions).order_by(AuditEntry.seq.desc())
                .limit(query.limit).offset(query.offset)
            ).all()  # fmt: skip
        items = [AuditEntryPublic(seq=r.seq, at=utc_as_cst_text(r.at), actor=r.actor,
                                  role=r.role, peer=r.peer, action=r.action, entity=r.entity,
                                  entity_id=r.entity_id, before=r.before, after=r.after)
                 for r in rows]  # fmt: skip
        return AuditList(items=items, total=int(total), limit=query.limit, offset=query.offset)

    return await asyncio.to_thread(read)
