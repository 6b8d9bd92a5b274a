"""The city at a glance (一张图), as one user may see it: open alerts per
county for the map, points online and offline and the connection rate per
county, and today's findings by kind (exceedances, suspected falsification,
electricity anomalies, transmission faults) with the newest of them.

The dashboard page and ``GET /api/v1/overview`` show the same figures; the
page refreshes them live from that endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from envwatch.alerts.queries import CITY_ROLES, Viewer, open_alerts_by_county, visible_findings
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.registry.coverage import coverage
from envwatch.rules.catalogue import RULES
from envwatch.rules.catalogue.base import RULE_KINDS
from envwatch.store.schema import County, Enterprise, FindingRecord
from envwatch.times import cst_text

NEWEST_FINDINGS = 10
# The kinds the dashboard lists finding by finding; the others it counts.
LISTED_KINDS = ("exceedance", "falsification")


@dataclass(frozen=True, slots=True)
class CountyConnection:
    code: str
    name_zh: str
    points: int
    online: int
    offline: int
    never_connected: int
    connection_rate: float | None
    """Share of the county's registered points online now (联网率)."""


@dataclass
class Overview:
    day: str
    """Today's date in China Standard Time: the day "today's findings" counts."""
    open_alerts: dict[str, int]
    """Open alerts per map area: a development zone counts in its host district."""
    counties: list[CountyConnection]
    findings_today: dict[str, int]
    newest_findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def totals(self) -> CountyConnection:
        """The city's (or the user's counties') figures added up."""
        points = sum(c.points for c in self.counties)
        online = sum(c.online for c in self.counties)
        return CountyConnection(
            "", "合计", points, online, sum(c.offline for c in self.counties),
            sum(c.never_connected for c in self.counties), online / points if points else None,
        )  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "open_alerts": self.open_alerts,
            "counties": [_connection_json(c) for c in self.counties],
            "totals": _connection_json(self.totals),
            "findings_today": self.findings_today,
            "newest_findings": self.newest_findings,
        }


def _connection_json(county: CountyConnection) -> dict[str, Any]:
    return {
        "county": county.code or None,
        "name": county.name_zh,
        "points": county.points,
        "online": county.online,
        "offline": county.offline,
        "never_connected": county.never_connected,
        "connection_rate": county.connection_rate,
    }


def _open_alerts_on_map(connection: Connection, user: Viewer) -> dict[str, int]:
    hosts = dict(connection.execute(select(County.code, County.host_code)).all())
    on_map: dict[str, int] = {}
    for code, count in open_alerts_by_county(connection, user).items():
        area = hosts.get(code) or code
        on_map[area] = on_map.get(area, 0) + count
    return on_map


def _findings_since(
    connection: Connection, user: Viewer, day_start: datetime
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Findings whose window starts on or after ``day_start`` (a data time)."""
    today = FindingRecord.window_start >= day_start
    per_rule = connection.execute(
        visible_findings(user, FindingRecord.rule, func.count())
        .where(today)
        .group_by(FindingRecord.rule)
    ).all()
    counts = dict.fromkeys(RULE_KINDS, 0)
    listed_rules = []
    for rule_id, count in per_rule:
        rule = RULES.get(rule_id)
        if rule is not None:
            counts[rule.kind] += int(count)
            if rule.kind in LISTED_KINDS:
                listed_rules.append(rule_id)
    rows = connection.execute(
        visible_findings(
            user,
            FindingRecord,
            Enterprise.name.label("enterprise_name"),
            Enterprise.id.label("eid"),
        )
        .where(today, FindingRecord.rule.in_(listed_rules))
        .order_by(FindingRecord.window_start.desc(), FindingRecord.id.desc())
        .limit(NEWEST_FINDINGS)
    ).all()
    newest = [
        {"id": r.id, "mn": r.mn, "enterprise": r.enterprise_name, "enterprise_id": r.eid,
         "pollutant": r.pollutant or None, "rule": r.rule, "kind": RULES[r.rule].kind,
         "title_zh": RULES[r.rule].title_zh, "window_start": cst_text(r.window_start),
         "severity": r.severity, "explanation": r.explanation}
        for r in rows
    ]  # fmt: skip
    return counts, newest


def overview(engine: Engine, user: Viewer, now: datetime, offline_after: timedelta) -> Overview:
    """The overview ``user`` may see at ``now`` (zone-aware)."""
    today = now.astimezone(CHINA_STANDARD_TIME).replace(tzinfo=None)
    day_start = today.replace(hour=0, minute=0, second=0, microsecond=0)
    with engine.connect() as connection:
        on_map = _open_alerts_on_map(connection, user)
        counts, newest = _findings_since(connection, user, day_start)
    counties = [
        CountyConnection(row.code, row.name_zh, row.points, row.online, len(row.offline),
                         len(row.never_connected), row.connection_rate)
        for row in coverage(engine, now.astimezone(UTC), offline_after)
        if user.role in CITY_ROLES or (user.role == "county_officer" and row.code in user.counties)
    ]  # fmt: skip
    return Overview(day_start.date().isoformat(), on_map, counties, counts, newest)
