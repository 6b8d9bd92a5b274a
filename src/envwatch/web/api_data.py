"""Read APIs for people logged in, each scoped like the alerts: findings, a
monitoring point's hours (HJ 75 validity, O2-corrected, substitutes beside
the originals), coverage per county, SLA figures, and the audit log (city
administrators only). Lists are ``{"items", "total", "limit", "offset"}``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from sqlalchemy import func, select

from envwatch.alerts.filters import FindingFilter
from envwatch.alerts.queries import CITY_ROLES, Viewer, scope, scope_by, sees_device
from envwatch.alerts.sla import alert_times, sla_figures
from envwatch.auth.sessions import SessionUser
from envwatch.hj212.codes import now_cst
from envwatch.processing.inputs import device_uploads, load_contexts
from envwatch.registry.coverage import coverage
from envwatch.rules.engine import default_rule_set
from envwatch.rules.hours import hours_of, with_substitutes
from envwatch.settings import get_settings
from envwatch.store.schema import Alert, AuditEntry, Enterprise, FindingRecord, MonitoringPoint
from envwatch.times import as_data_time, cst_text, utc_as_cst_text
from envwatch.web.errors import ApiError
from envwatch.web.overview import overview
from envwatch.web.people import api_user

router = APIRouter()
MAX_HOURS_WINDOW = timedelta(days=31)


def _sees_device(request: Request, user: Viewer, mn: str) -> bool:
    with request.app.state.database().connect() as connection:
        return sees_device(connection, user, mn)


class FindingListQuery(FindingFilter):
    """The finding filter with a page of the list."""

    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


@router.get("/api/v1/findings")
async def list_findings(
    request: Request,
    query: Annotated[FindingListQuery, Query()],
    user: Annotated[SessionUser, Depends(api_user)],
) -> dict[str, Any]:
    """The findings of the devices the user may see, newest first, narrowed by
    any of the filters (repeat ``rule``, ``kind``, ``severity`` or ``county``
    for several): ``{"items", "total", "limit", "offset"}``."""
    filters = FindingFilter.model_validate(query.model_dump(exclude={"limit", "offset"}))
    limit, offset = query.limit, query.offset

    def read() -> dict[str, Any]:
        conditions = [
            scope_by(user, Enterprise.county_code, Enterprise.id, FindingRecord.mn),
            *filters.conditions(),
        ]
        joined = (
            select(FindingRecord)
            .join(MonitoringPoint, MonitoringPoint.mn == FindingRecord.mn)
            .join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(*conditions)
        )
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
        return {"items": items, "total": count, "limit": limit, "offset": offset}

    return await asyncio.to_thread(read)


@router.get("/api/v1/points/{mn}/hours")
async def point_hours(
    request: Request,
    mn: str,
    *,
    user: Annotated[SessionUser, Depends(api_user)],
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
            uploads = device_uploads(connection, mn, ("2051", "2061"), start, end)
        hours = with_substitutes(
            hours_of(uploads, pollutant, rules,
                     reference_o2=limit.reference_o2 if limit else None),
            pollutant, rules,
        )  # fmt: skip
        return {
            "mn": mn, "pollutant": pollutant,
            "limit": None if limit is None else {"value": limit.value, "unit": limit.unit,
                                                  "basis": limit.basis},
            "items": [{"hour": cst_text(h.start), "source": h.source,
                       "validity": h.validity.value, "mean": h.mean, "o2": h.o2,
                       "corrected": h.corrected, "volume_m3": h.volume_m3,
                       "emission_kg": h.emission_kg, "substituted_kg": h.substituted_kg,
                       "substitution": h.substitution} for h in hours],
        }  # fmt: skip

    return await asyncio.to_thread(read)


@router.get("/api/v1/overview")
async def city_overview(
    request: Request, user: Annotated[SessionUser, Depends(api_user)]
) -> dict[str, Any]:
    """The city at a glance as the user may see it: open alerts per map area,
    points online and offline and the connection rate per county (city and
    county roles only), today's findings by kind and the newest exceedances
    and suspected falsifications."""

    def read() -> dict[str, Any]:
        offline_after = timedelta(seconds=get_settings().offline_after_s)
        summary = overview(request.app.state.database(), user, datetime.now(UTC), offline_after)
        return summary.as_json()

    return await asyncio.to_thread(read)


@router.get("/api/v1/coverage")
async def coverage_per_county(
    request: Request, user: Annotated[SessionUser, Depends(api_user)]
) -> dict[str, Any]:
    """Per county: key enterprises without monitor or meter, points online,
    offline and never connected, connection rate (应装尽装、应联尽联)."""
    if user.role in {"enterprise_user", "contractor"}:
        raise ApiError(403, "forbidden", "coverage is for supervisors", "仅监管人员可查看")

    def read() -> dict[str, Any]:
        rows = coverage(request.app.state.database(), datetime.now(UTC),
                        timedelta(seconds=get_settings().offline_after_s))  # fmt: skip
        visible = [r for r in rows if user.role in CITY_ROLES or r.code in user.counties]
        items = [{"county": r.code, "name": r.name_zh, "key_enterprises": r.key_enterprises,
                  "without_monitor": r.without_monitor, "without_meter": r.without_meter,
                  "points": r.points, "online": r.online, "offline": r.offline,
                  "never_connected": r.never_connected, "connection_rate": r.connection_rate}
                 for r in visible]  # fmt: skip
        return {"items": items, "total": len(items)}

    return await asyncio.to_thread(read)


@router.get("/api/v1/sla")
async def sla(request: Request, user: Annotated[SessionUser, Depends(api_user)]) -> dict[str, Any]:
    """SLA figures per county and level, of the alerts the user may see."""

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            rows = connection.execute(select(Alert).where(scope(user))).all()
        figures = sla_figures(alert_times(row) for row in rows)
        return {"items": figures, "total": len(figures)}

    return await asyncio.to_thread(read)


@router.get("/api/v1/audit")
async def audit_log(
    request: Request,
    *,
    user: Annotated[SessionUser, Depends(api_user)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The audit log, newest first (city administrators only)."""
    if user.role != "city_admin":
        raise ApiError(403, "forbidden", "the audit log is for city administrators",
                       "仅市局管理员可查看审计日志")  # fmt: skip

    def read() -> dict[str, Any]:
        with request.app.state.database().connect() as connection:
            total = connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
            rows = connection.execute(
                select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)
            ).all()
        items = [{"seq": r.seq, "at": utc_as_cst_text(r.at), "actor": r.actor, "role": r.role,
                  "peer": r.peer, "action": r.action, "entity": r.entity,
                  "entity_id": r.entity_id, "before": r.before, "after": r.after}
                 for r in rows]  # fmt: skip
        return {"items": items, "total": int(total), "limit": limit, "offset": offset}

    return await asyncio.to_thread(read)
