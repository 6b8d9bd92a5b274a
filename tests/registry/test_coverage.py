"""Coverage of the registry (应装尽装、应联尽联) on real databases."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from envwatch.demo.seed import seed_demo
from envwatch.registry.coverage import PointStatus, coverage, point_status
from envwatch.store.archive import Archive, ReceivedFrame
from envwatch.store.schema import Enterprise, MonitoringPoint

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
TEN_MINUTES = timedelta(minutes=10)


def test_point_status() -> None:
    naive = NOW.replace(tzinfo=None)
    assert point_status(None, naive, TEN_MINUTES) is PointStatus.NEVER
    assert point_status(naive - TEN_MINUTES, naive, TEN_MINUTES) is PointStatus.ONLINE
    assert point_status(naive - TEN_MINUTES - timedelta(seconds=1), naive, TEN_MINUTES) is (
        PointStatus.OFFLINE
    )


def test_coverage_per_county(engine: Engine, database_url: str) -> None:
    seed_demo(engine)
    with engine.connect() as connection:
        points = connection.execute(
            select(MonitoringPoint.mn, Enterprise.county_code)
            .join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(Enterprise.county_code == "371502")
            .order_by(MonitoringPoint.mn)
        ).all()
    assert len(points) >= 3
    fresh, stale = points[0].mn, points[1].mn
    Archive(engine).write_batch(
        [
            ReceivedFrame(NOW - timedelta(minutes=1), "p", b"##", "accepted", mn=fresh),
            ReceivedFrame(NOW - timedelta(hours=2), "p", b"##", "accepted", mn=stale),
            # A rejected frame is no sign of life.
            ReceivedFrame(NOW, "p", b"##", "rejected", error_code="crc_mismatch", mn=points[2].mn),
        ]
    )
    report = {county.code: county for county in coverage(engine, NOW, TEN_MINUTES)}
    assert len(report) == 11
    dongchangfu = report["371502"]
    assert dongchangfu.points == len(points)
    assert dongchangfu.online == 1
    assert dongchangfu.offline == [stale]
    assert points[2].mn in dongchangfu.never_connected
    assert dongchangfu.connection_rate == 1 / len(points)
    unmonitored = sum(len(c.without_monitor) for c in report.values())
    unmetered = sum(len(c.without_meter) for c in report.values())
    assert 0 < unmonitored < 15 and 0 < unmetered < 20
    assert sum(c.key_enterprises for c in report.values()) == 120
    result = subprocess.run(
        [sys.executable, "-m", "envwatch", "coverage", "--db", database_url, "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {line["county"] for line in lines} == set(report)
    assert all(line["name"] == "东昌府区" for line in lines if line["county"] == "371502")
