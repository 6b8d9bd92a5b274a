"""Coverage of the registry (应装尽装、应联尽联): who lacks a monitor or meter,
which points never connected, which are offline now, per county.

``point_status`` is the pure rule; ``coverage`` (per county) and ``gaps``
(the drill-down lists: which enterprises, which points, offline since when)
gather what they need from the store through one query set, so the counts
and the lists always agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, func, select

from envwatch.store.schema import ArchivedFrame, County, Enterprise, Meter, MonitoringPoint


class PointStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"  # it sent data once, but not lately
    NEVER = "never_connected"


def point_status(
    last_data: datetime | None, now: datetime, offline_after: timedelta
) -> PointStatus:
    """A point is online while its last accepted frame is younger than ``offline_after``."""
    if last_data is None:
        return PointStatus.NEVER
    return PointStatus.ONLINE if now - last_data <= offline_after else PointStatus.OFFLINE


@dataclass
class CountyCoverage:
    code: str
    name_zh: str
    key_enterprises: int = 0
    without_monitor: list[str] = field(default_factory=list)
    without_meter: list[str] = field(default_factory=list)
    points: int = 0
    online: int = 0
    offline: list[str] = field(default_factory=list)
    never_connected: list[str] = field(default_factory=list)
    kind: str = "county"
    host_code: str | None = None
    """For a development zone: the district it lies in."""
    name_en: str = ""

    @property
    def connection_rate(self) -> float | None:
        """Share of registered points online now (联网率)."""
        return self.online / self.points if self.points else None


@dataclass(frozen=True, slots=True)
class EnterpriseGap:
    """A key enterprise without a monitor or without a meter."""

    id: int
    name: str
    county_code: str
    key_categories: str


@dataclass(frozen=True, slots=True)
class PointGap:
    """An active point that is not online; ``last_seen`` (UTC) None: never connected."""

    mn: str
    enterprise_id: int
    enterprise: str
    county_code: str
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class Gaps:
    without_monitor: list[EnterpriseGap]
    without_meter: list[EnterpriseGap]
    never_connected: list[PointGap]
    offline: list[PointGap]
    """Longest offline first."""


@dataclass(frozen=True, slots=True)
class _Registry:
    counties: list[CountyCoverage]
    key_enterprises: list[EnterpriseGap]
    monitored: set[int | None]
    metered: set[int]
    points: list[tuple[PointGap, PointStatus]]


def _gather(engine: Engine, now: datetime, offline_after: timedelta) -> _Registry:
    with engine.connect() as connection:
        counties = [
            CountyCoverage(r.code, r.name_zh, kind=r.kind, host_code=r.host_code,
                           name_en=r.name_en)
            for r in connection.execute(
                select(County.code, County.name_zh, County.name_en, County.kind,
                       County.host_code).order_by(County.code)
            )
        ]  # fmt: skip
        enterprises = connection.execute(
            select(
                Enterprise.id, Enterprise.name, Enterprise.county_code, Enterprise.key_categories
            ).order_by(Enterprise.id)
        ).all()
        meter_mns = select(Meter.mn).where(Meter.mn.is_not(None))
        # A meter's HJ 212 device is a point too (it must be connected), but no monitor.
        monitored = set(
            connection.execute(
                select(MonitoringPoint.enterprise_id)
                .where(MonitoringPoint.mn.not_in(meter_mns))
                .distinct()
            ).scalars()
        )
        metered = set(connection.execute(select(Meter.enterprise_id).distinct()).scalars())
        points = connection.execute(
            select(MonitoringPoint.mn, Enterprise.id, Enterprise.name, Enterprise.county_code)
            .join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(MonitoringPoint.active.is_(True))
            .order_by(MonitoringPoint.mn)
        ).all()
        last_data = dict(
            connection.execute(
                select(ArchivedFrame.mn, func.max(ArchivedFrame.received_at))
                .where(ArchivedFrame.verdict == "accepted")
                .group_by(ArchivedFrame.mn)
            ).all()
        )
    naive_now = now.replace(tzinfo=None)
    judged: list[tuple[PointGap, PointStatus]] = []
    for mn, enterprise_id, name, county_code in points:
        seen = last_data.get(mn)
        # SQLite gives the stored UTC back naive, PostgreSQL aware: compare naive UTC.
        if seen is not None and seen.tzinfo is not None:
            seen = seen.astimezone(now.tzinfo).replace(tzinfo=None)
        status = point_status(seen, naive_now, offline_after)
        judged.append((PointGap(mn, enterprise_id, name, county_code, seen), status))
    key = [
        EnterpriseGap(enterprise_id, name, county_code, categories)
        for enterprise_id, name, county_code, categories in enterprises
        if categories  # only key enterprises must be monitored
    ]
    return _Registry(counties, key, monitored, metered, judged)


def coverage(engine: Engine, now: datetime, offline_after: timedelta) -> list[CountyCoverage]:
    """Coverage per county; a development zone counts on its own line.

    ``now`` and the archive's received times are UTC.
    """
    registry = _gather(engine, now, offline_after)
    report = {county.code: county for county in registry.counties}
    for enterprise in registry.key_enterprises:
        county = report[enterprise.county_code]
        county.key_enterprises += 1
        if enterprise.id not in registry.monitored:
            county.without_monitor.append(enterprise.name)
        if enterprise.id not in registry.metered:
            county.without_meter.append(enterprise.name)
    statuses: dict[str, list[tuple[str, PointStatus]]] = defaultdict(list)
    for point, status in registry.points:
        statuses[point.county_code].append((point.mn, status))
    for county_code, entries in statuses.items():
        county = report[county_code]
        for mn, status in entries:
            county.points += 1
            if status is PointStatus.ONLINE:
                county.online += 1
            elif status is PointStatus.OFFLINE:
                county.offline.append(mn)
            else:
                county.never_connected.append(mn)
    return list(report.values())


def gaps(
    engine: Engine,
    now: datetime,
    offline_after: timedelta,
    counties: Collection[str] | None = None,
) -> Gaps:
    """The drill-down lists of coverage, in ``counties`` (None: all).

    ``now`` and ``PointGap.last_seen`` are UTC (``last_seen`` naive).
    """
    registry = _gather(engine, now, offline_after)
    wanted = None if counties is None else set(counties)

    def inside(county_code: str) -> bool:
        return wanted is None or county_code in wanted

    key = [e for e in registry.key_enterprises if inside(e.county_code)]
    points = [(p, s) for p, s in registry.points if inside(p.county_code)]
    offline = [p for p, s in points if s is PointStatus.OFFLINE]
    offline.sort(key=lambda p: (p.last_seen or now.replace(tzinfo=None), p.mn))
    return Gaps(
        without_monitor=[e for e in key if e.id not in registry.monitored],
        without_meter=[e for e in key if e.id not in registry.metered],
        never_connected=[p for p, s in points if s is PointStatus.NEVER],
        offline=offline,
    )
