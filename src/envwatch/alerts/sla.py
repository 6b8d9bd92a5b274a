"""SLA figures of the alert loop, per county and level: the time from the
triggering frame to the alert, to its acknowledgement, to its handling and
to its closing (pure over alert rows; the dashboards and the county scoring
read these)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from envwatch.times import as_utc

STAGES = ("alerted", "acknowledged", "handled", "closed")


@dataclass(frozen=True, slots=True)
class AlertTimes:
    county: str | None
    level: str
    triggered_at: datetime  # the frame's arrival, or the opening when no frame proves it
    opened_at: datetime
    acknowledged_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None


def alert_times(alert: Any) -> AlertTimes:
    """The times of a stored alert; triggered by its frame's arrival, or by its
    opening where no frame proves it (offline)."""
    return AlertTimes(
        alert.county_code,
        alert.level,
        alert.frame_received_at or alert.opened_at,
        alert.opened_at,
        alert.acknowledged_at,
        alert.handled_at,
        alert.closed_at,
    )


def _seconds(start: datetime, end: datetime | None) -> float | None:
    if end is None:
        return None
    return max(0.0, (as_utc(end) - as_utc(start)).total_seconds())


def stage_end(alert: AlertTimes, stage: str) -> datetime | None:
    return {
        "alerted": alert.opened_at,
        "acknowledged": alert.acknowledged_at,
        "handled": alert.handled_at,
        "closed": alert.closed_at,
    }[stage]


def sla_figures(alerts: Iterable[AlertTimes]) -> list[dict[str, Any]]:
    """Per (county, level): alerts, and for each stage how many reached it and
    the median and mean seconds from the triggering frame."""
    groups: dict[tuple[str, str], list[AlertTimes]] = {}
    for alert in alerts:
        groups.setdefault((alert.county or "", alert.level), []).append(alert)
    figures = []
    for (county, level), members in sorted(groups.items()):
        row: dict[str, Any] = {"county": county or None, "level": level, "alerts": len(members)}
        for stage in STAGES:
            durations = [
                d
                for a in members
                if (d := _seconds(a.triggered_at, stage_end(a, stage))) is not None
            ]
            row[stage] = {
                "count": len(durations),
                "median_s": round(statistics.median(durations), 3) if durations else None,
                "mean_s": round(statistics.fmean(durations), 3) if durations else None,
            }
        figures.append(row)
    return figures
