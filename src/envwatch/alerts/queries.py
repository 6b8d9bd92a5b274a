"""Alerts as a user may see them: through the one scope rule
(``alerts/scope.py``, re-exported here: city roles see everything, county
officers their counties, enterprise users their enterprise, contractors the
devices their contractor runs), lists with counts and paging, one alert with
its history, and the open alerts per county for the map."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select

from envwatch.alerts.desk import deadlines_of
from envwatch.alerts.filters import AlertFilter
from envwatch.alerts.policy import OPEN_STATES
from envwatch.alerts.scope import CITY_ROLES, Viewer, scope, scope_by, sees_device
from envwatch.store.schema import Alert, AlertEvent, Enterprise, FindingRecord, MonitoringPoint
from envwatch.times import utc_as_cst_text

# The scope rule is re-exported: queries and their callers import it from here.
__all__ = ["CITY_ROLES", "Page", "Viewer", "alert_view", "open_alerts_by_county", "scope",
           "scope_by", "sees_device", "visible_alert", "visible_alerts",
           "visible_findings"]  # fmt: skip


NO_FILTER = AlertFilter()


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Any]
    total: int


def visible_alerts(
    connection: Connection,
    user: Viewer,
    filters: AlertFilter = NO_FILTER,
    *,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> Page:
    """The alerts ``user`` may see that pass ``filters``, newest first, with
    their enterprise's name and their count."""
    conditions = [scope(user), *filters.conditions(now or datetime.now(UTC))]
    joined = select(Alert).outerjoin(Enterprise, Alert.enterprise_id == Enterprise.id)
    total = connection.execute(
        select(func.count()).select_from(joined.where(*conditions).subquery())
    )
    rows = connection.execute(
        select(Alert, Enterprise.name.label("enterprise_name"))
        .outerjoin(Enterprise, Alert.enterprise_id == Enterprise.id)
        .where(*conditions)
        .order_by(Alert.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return Page(list(rows), int(total.scalar_one()))


def visible_findings(user: Viewer, *columns: Any) -> Select[Any]:
    """``columns`` (by default the whole finding) of the findings ``user`` may
    see: each joined to its monitoring point and that point's enterprise, so
    filters may name either, through the one scope rule."""
    return (
        select(*(columns or (FindingRecord,)))
        .select_from(FindingRecord)
        .join(MonitoringPoint, MonitoringPoint.mn == FindingRecord.mn)
        .join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
        .where(scope_by(user, Enterprise.county_code, Enterprise.id, FindingRecord.mn))
    )


def visible_alert(connection: Connection, user: Viewer, alert_id: int) -> tuple[Any, list[Any]]:
    """The alert and its events, or (None, []) when it is not the user's to see."""
    row = connection.execute(
        select(Alert, Enterprise.name.label("enterprise_name"))
        .outerjoin(Enterprise, Alert.enterprise_id == Enterprise.id)
        .where(Alert.id == alert_id, scope(user))
    ).first()
    if row is None:
        return None, []
    events = connection.execute(
        select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    ).all()
    return row, list(events)


def open_alerts_by_county(connection: Connection, user: Viewer) -> dict[str, int]:
    rows = connection.execute(
        select(Alert.county_code, func.count())
        .where(Alert.state.in_(OPEN_STATES), scope(user))
        .group_by(Alert.county_code)
    ).all()
    return {code or "": int(count) for code, count in rows}


def alert_view(row: Any) -> dict[str, Any]:
    """An alert row (with its ``enterprise_name``) as the API and the CLI show it."""
    deadline = deadlines_of(row).next_after(row.state)
    return {
        "id": row.id,
        "mn": row.mn,
        "enterprise": row.enterprise_name,
        "enterprise_id": row.enterprise_id,
        "county": row.county_code,
        "pollutant": row.pollutant or None,
        "rule": row.rule,
        "level": row.level,
        "state": row.state,
        "opened_at": utc_as_cst_text(row.opened_at),
        "deadline": utc_as_cst_text(deadline),
        "overdue": deadline is not None and datetime.now(UTC) > deadline,
        "escalation": row.escalation,
        "explanation": row.explanation,
        "evidence": row.evidence,
    }
