"""The demo city's air stations and river sections: registry rows, and their
history seeded through the normal storage path (each hour an HJ 212 frame,
read by the gateway's decoder and admission, stored by ``Archive.write_batch``
in the devices' hash chains), then the quality days computed from it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from envwatch.demo.quality_profiles import (
    DemoSection,
    DemoStation,
    air_hour,
    quality_demo,
    water_sample,
)
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.hj212.framing import frame_segment
from envwatch.processing.worker import STREAM_CURSOR
from envwatch.quality.daily import refresh_days
from envwatch.quality.factors import SYSTEM_CODES, quality_factors, site_logger
from envwatch.quality.province import import_province_csv
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.cursors import read_cursor, save_cursor
from envwatch.store.schema import (
    AirStation,
    ArchivedFrame,
    MonitoringPoint,
    PointFactor,
    QualityTarget,
    WaterSection,
)

AIR_ST = SYSTEM_CODES["air"]
WATER_ST = SYSTEM_CODES["water"]
WATER_EVERY_HOURS = 4
"""Automatic water stations sample every four hours."""
HISTORY_DAYS = 640
"""Days of station and section history the demo seeds: enough that the two
most recently ended quarters have their quarter a year earlier (eco-compensation
compares them), whatever the day of the year the demo starts on."""
HISTORY_PEER = "demo-history"
HOURLY = "2061"
BATCH = 2000


def quality_site_rows() -> dict[str, list[dict[str, Any]]]:
    """Rows of the demo's stations, sections, their loggers and factors."""
    demo = quality_demo()
    points: list[dict[str, Any]] = []
    point_factors: list[dict[str, Any]] = []
    sites: list[tuple[DemoStation | DemoSection, str]] = [
        *((s, "air") for s in demo.stations),
        *((s, "water") for s in demo.sections),
    ]
    for site, kind in sites:
        point, factors = site_logger(kind, site.mn, site.pw)
        points.append(point)
        point_factors += factors
    return {
        "monitoring_point": points,
        "point_factor": point_factors,
        "air_station": [
            {"code": s.code, "name": s.name, "level": s.level, "county_code": s.county,
             "longitude": s.position[0], "latitude": s.position[1], "mn": s.mn, "active": True}
            for s in demo.stations
        ],
        "water_section": [
            {"code": s.code, "name": s.name, "river": s.river, "level": s.level,
             "target_class": s.target, "county_code": s.county, "lake": s.lake,
             "longitude": s.position[0], "latitude": s.position[1], "mn": s.mn, "active": True}
            for s in demo.sections
        ],
    }  # fmt: skip


def seed_quality_sites(connection: Connection) -> dict[str, int]:
    """Insert the demo's quality sites (in the registry seeding's transaction)."""
    rows = quality_site_rows()
    for table in (MonitoringPoint, PointFactor, AirStation, WaterSection):
        name = table.__tablename__
        connection.execute(insert(table), rows[name])
    return {f"{name}_quality": len(r) for name, r in rows.items()}


def _text(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def hourly_upload(
    mn: str, pw: str, st: str, hour: datetime, values: dict[str, float], *, qn: str
) -> tuple[bytes, tuple[MeasurementRow, ...]]:
    """A logger's hourly upload (2061, HJ 212-2017, Avg and Flag of each
    factor code) and the measurement rows the gateway's admission reads from
    it (``tests/demo/test_quality_seed.py`` holds the two equal)."""
    cp = ";".join([
        f"DataTime={hour:%Y%m%d%H%M%S}",
        *(f"{code}-Avg={_text(v)},{code}-Flag=N" for code, v in values.items()),
    ])  # fmt: skip
    segment = f"QN={qn};ST={st};CN={HOURLY};PW={pw};MN={mn};Flag=5;CP=&&{cp}&&"
    rows = tuple(
        MeasurementRow(mn, HOURLY, hour, code, avg=float(_text(v)), flag="N")
        for code, v in values.items()
    )
    return frame_segment(segment.encode("ascii")), rows


def station_values(station: DemoStation, hour: datetime) -> dict[str, float]:
    """A station's hour by factor code (a lost hour: empty)."""
    factors = quality_factors().air
    return {
        factors[name].code: value
        for name, value in air_hour(station, hour).items()
        if value is not None
    }


def section_values(section: DemoSection, when: datetime) -> dict[str, float]:
    factors = quality_factors()
    codes = {**factors.water, **factors.water_observed}
    return {codes[name].code: value for name, value in water_sample(section, when).items()}


def history_frames(first: datetime, end: datetime) -> Iterator[ReceivedFrame]:
    """The hourly uploads (2061) of every station and section from ``first``
    to ``end`` (exclusive) in data-time order, each received a minute after
    its hour ended."""
    demo = quality_demo()
    hour = first
    serial = 0
    while hour < end:
        arrived = (hour + timedelta(hours=1, minutes=1)).replace(tzinfo=CHINA_STANDARD_TIME)
        received = arrived.astimezone(UTC)
        sites: list[tuple[DemoStation | DemoSection, str, dict[str, float]]] = [
            (station, AIR_ST, station_values(station, hour)) for station in demo.stations
        ]
        if hour.hour % WATER_EVERY_HOURS == 0:
            sites += [(s, WATER_ST, section_values(s, hour)) for s in demo.sections]
        for site, st, values in sites:
            if not values:
                continue
            serial = (serial + 1) % 1000
            qn = f"{hour:%Y%m%d%H%M%S}{serial:03d}"
            raw, rows = hourly_upload(site.mn, site.pw, st, hour, values, qn=qn)
            yield ReceivedFrame(
                received_at=received, peer=HISTORY_PEER, raw=raw, verdict="accepted",
                mn=site.mn, cn=HOURLY, qn=qn, measurements=rows,
            )  # fmt: skip
        hour += timedelta(hours=1)


def seed_quality_history(engine: Engine, end: datetime, days: int = HISTORY_DAYS) -> int:
    """Store ``days`` of the quality sites' history up to ``end`` (a data
    time, CST): the frames each logger would have sent, stored as the gateway
    stores them. The rules' cursor moves past them (history seeded at once is
    not news; ``envwatch rules replay`` judges it on demand). Frames stored."""
    end = end.replace(minute=0, second=0, microsecond=0)
    first = datetime.combine(end.date() - timedelta(days=days), datetime.min.time())
    archive = Archive(engine)
    stored = 0
    batch: list[ReceivedFrame] = []
    for frame in history_frames(first, end):
        batch.append(frame)
        if len(batch) >= BATCH:
            stored += sum(1 for i in archive.write_batch(batch) if i is not None)
            batch = []
    stored += sum(1 for i in archive.write_batch(batch) if i is not None)
    _skip_rules_past(engine)
    refresh_days(engine)
    return stored


def _skip_rules_past(engine: Engine) -> None:
    """Move the rules' cursor past the seeded frames."""
    with engine.begin() as connection:
        newest = int(connection.execute(select(func.max(ArchivedFrame.id))).scalar() or 0)
        if read_cursor(connection, STREAM_CURSOR) < newest:
            save_cursor(connection, STREAM_CURSOR, newest)


DEMO_TARGETS = {"PM2_5": 45.0, "good_day_ratio": 68.0}
"""The demo's annual targets for the city and every county (fictional) [I]."""


def seed_quality_targets(engine: Engine, year: int) -> int:
    """The demo's targets for ``year`` (the city and each county with a station)."""
    demo = quality_demo()
    areas = ["city", *sorted({s.county for s in demo.stations})]
    now = datetime.now(UTC)
    rows = [
        {"year": year, "area": area, "indicator": indicator, "value": value,
         "set_by": "demo", "set_at": now}
        for area in areas for indicator, value in DEMO_TARGETS.items()
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(QualityTarget), rows)
    return len(rows)


def province_csv(until: date, months: int = 24) -> bytes:
    """The province's monthly figures (``全省``, fictional): a winter-high
    seasonal index, about 4 % better each year, as the file it publishes."""
    lines = ["month,area,composite_index,pm2_5,good_day_ratio"]
    month = until.replace(day=1)
    for _ in range(months):
        month = (month - timedelta(days=1)).replace(day=1)
        years = (month - ORIGIN_DAY).days / 365.25
        winter = math.cos(2 * math.pi * (month.month - 1) / 12)
        index = (4.3 + 1.2 * winter) * (1 - 0.04 * years)
        pm2_5 = (40 + 22 * winter) * (1 - 0.04 * years)
        good = 72 - 14 * winter + 2 * years
        lines.append(f"{month:%Y-%m},全省,{index:.2f},{pm2_5:.0f},{good:.1f}")
    return ("\n".join(lines) + "\n").encode()


ORIGIN_DAY = date(2025, 1, 1)


def seed_province(engine: Engine, until: date) -> int:
    """Import the demo's province figures for the months before ``until``."""
    with engine.begin() as connection:
        return import_province_csv(connection, province_csv(until))
