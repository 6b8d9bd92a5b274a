"""Coverage of the registry (应装尽装、应联尽联): who lacks a monitor or meter,
which points never connected, which are offline now, per county.

``point_status`` is the pure rule; ``coverage`` gathers what it needs from the
store.
"""

from __future__ import annotations

from collections import defaultdict
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

    @property
    def connection_rate(self) -> float | None:
        """Share of registered points online now (联网率)."""
        return self.online / self.points if self.points else None


def coverage(engine: Engine, now: datetime, offline_after: timedelta) -> list[CountyCoverage]:
    """Coverage per county; a development zone counts on its own line.

    ``now`` and the archive's received times are UTC.
    """
    with engine.connect() as connection:
        counties = connection.execute(
            select(County.code, County.name_zh).order_by(County.code)
        ).all()
        enterprises = connection.execute(
            select(
                Enterprise.id, Enterprise.name, Enterprise.county_code, Enterprise.key_categories
            )
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
            select(MonitoringPoint.mn, Enterprise.county_code)
            .join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(MonitoringPoint.active.is_(True))
        ).all()
        last_data = dict(
            connection.execute(
                select(ArchivedFrame.mn, func.max(ArchivedFrame.received_at))
                .where(ArchivedFrame.verdict == "accepted")
                .group_by(ArchivedFrame.mn)
            ).all()
        )
    report = {code: CountyCoverage(code, name) for code, name in counties}
    for enterprise_id, name, county_code, categories in enterprises:
        if not categories:
            continue  # only key enterprises must be monitored
        county = report[county_code]
        county.key_enterprises += 1
        if enterprise_id not in monitored:
            county.without_monitor.append(name)
        if enterprise_id not in metered:
            county.without_meter.append(name)
    naive_now = now.replace(tzinfo=None)
    statuses: dict[str, list[tuple[str, PointStatus]]] = defaultdict(list)
    for mn, county_code in points:
        seen = last_data.get(mn)
        if seen is not None and seen.tzinfo is not None:
            seen = seen.astimezone(now.tzinfo).replace(tzinfo=None)
        statuses[county_code].append((mn, point_status(seen, naive_now, offline_after)))
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
