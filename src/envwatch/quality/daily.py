"""Quality days kept current from the archive (the I/O edge of ``quality/``).

``refresh_days`` follows the stored frames after its cursor
(``processing_cursor`` ``quality``), finds the station-days and section-days
their hourly uploads (2061) touched, and recomputes each of those days from
the stored measurements: air statistics and the daily AQI by the edition in
force that day (``air_statistics.day_statistics``), water items' means of the
day's samples. A resend changes nothing; a late upload recomputes its day.
``recompute_days`` does the same over a span, from scratch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from envwatch.quality.air_statistics import day_statistics
from envwatch.quality.aqi import QualityInputError
from envwatch.quality.factors import QualityFactor, QualityFactors, quality_factors
from envwatch.quality.water import water_standard
from envwatch.store.cursors import read_cursor, save_cursor
from envwatch.store.schema import (
    AirStation,
    ArchivedFrame,
    Measurement,
    PointFactor,
    QualityDay,
    WaterSection,
)

log = logging.getLogger(__name__)

CURSOR = "quality"
HOURLY = "2061"
FRAMES_PER_PASS = 50_000


@dataclass(frozen=True, slots=True)
class Site:
    """A station or section as the day computation needs it."""

    kind: str
    """air or water."""
    code: str
    mn: str
    county_code: str
    conversions: Mapping[str, tuple[QualityFactor, float]]
    """By factor code: what the value is and the factor turning it into that unit."""


def load_sites(connection: Connection, factors: QualityFactors | None = None) -> dict[str, Site]:
    """The registered stations and sections that have a logger, by MN."""
    factors = factors or quality_factors()
    units: dict[str, dict[str, str]] = defaultdict(dict)
    for point, code, unit in connection.execute(
        select(PointFactor.mn, PointFactor.pollutant, PointFactor.unit)
    ):
        units[point][code] = unit
    sites: dict[str, Site] = {}
    for kind, table in (("air", AirStation), ("water", WaterSection)):
        rows = connection.execute(
            select(table.code, table.mn, table.county_code).where(table.mn.is_not(None))
        )
        for code, station_mn, county in rows:
            if station_mn is None:
                continue
            mn = str(station_mn)
            conversions = {}
            for factor_code, wanted in factors.of_kind(kind).items():
                try:
                    scale = factors.conversion(units[mn].get(factor_code, ""), wanted)
                except QualityInputError as error:
                    # One logger registered in a unit nobody can read loses that
                    # factor, never the city's quality days or rules.
                    log.warning("site %s: %s", code, error.message_en)
                    continue
                conversions[factor_code] = (wanted, scale)
            sites[mn] = Site(kind, code, mn, county, conversions)
    return sites


def refresh_days(engine: Engine, *, frames_per_pass: int = FRAMES_PER_PASS) -> int:
    """Recompute the days touched by frames stored since the last pass; the
    number of site-days written."""
    written = 0
    while True:
        with engine.begin() as connection:
            start = read_cursor(connection, CURSOR)
            newest = connection.execute(select(func.max(ArchivedFrame.id))).scalar()
            if newest is None or newest <= start:
                return written
            end = min(int(newest), start + frames_per_pass)
            sites = load_sites(connection)
            touched: dict[str, set[date]] = defaultdict(set)
            if sites:
                for mn, data_time in connection.execute(
                    select(ArchivedFrame.mn, ArchivedFrame.data_time).where(
                        ArchivedFrame.id > start,
                        ArchivedFrame.id <= end,
                        ArchivedFrame.cn == HOURLY,
                        ArchivedFrame.verdict == "accepted",
                        ArchivedFrame.mn.in_(sites),
                    )
                ):
                    if data_time is not None and mn is not None:
                        touched[mn].add(data_time.date())
            for mn, days in touched.items():
                try:
                    with connection.begin_nested():
                        written += write_days(connection, sites[mn], days)
                except Exception:
                    # One site's days that cannot be computed stop no other
                    # site's; `envwatch quality refresh --since` redoes them.
                    log.exception("quality days of %s not computed", sites[mn].code)
            save_cursor(connection, CURSOR, end)


def recompute_days(engine: Engine, first: date, last: date) -> int:
    """Recompute every site's days from ``first`` to ``last`` from the stored data."""
    written = 0
    span = {first + timedelta(days=n) for n in range((last - first).days + 1)}
    with engine.begin() as connection:
        for site in load_sites(connection).values():
            written += write_days(connection, site, span)
    return written


def write_days(connection: Connection, site: Site, days: Iterable[date]) -> int:
    """Compute and store ``site``'s ``days`` (a day without data is removed)."""
    wanted = sorted(set(days))
    if not wanted:
        return 0
    # The delete comes first: on SQLite it takes the write lock (waiting out
    # other writers) before the read, so the read cannot see a snapshot that a
    # concurrent commit makes stale, which SQLite would refuse to upgrade to a
    # write at once ("database is locked", no wait).
    connection.execute(
        delete(QualityDay).where(
            QualityDay.kind == site.kind,
            QualityDay.site == site.code,
            QualityDay.day.in_(wanted),
        )
    )
    hours = _hourly_values(connection, site, wanted[0], wanted[-1])
    records = []
    for day in wanted:
        data = hours.get(day)
        if data is None:
            continue
        values, newest = data
        records.append(
            _air_day(site, day, values, newest)
            if site.kind == "air"
            else _water_day(site, day, values, newest)
        )
    for chunk in range(0, len(records), 500):
        connection.execute(insert(QualityDay), records[chunk : chunk + 500])
    return len(records)


HourValues = dict[str, list[tuple[int, float]]]
"""By calculation name: (hour of day, value) of the valid hourly values."""


def _hourly_values(
    connection: Connection, site: Site, first: date, last: date
) -> dict[date, tuple[HourValues, int]]:
    """The valid hourly values of ``site`` per day in ``first``..``last`` with
    the newest frame id behind each day."""
    factors = quality_factors()
    start = datetime.combine(first, datetime.min.time())
    end = datetime.combine(last + timedelta(days=1), datetime.min.time())
    out: dict[date, tuple[HourValues, int]] = {}
    rows = connection.execute(
        select(
            Measurement.data_time,
            Measurement.pollutant,
            Measurement.avg,
            Measurement.flag,
            Measurement.frame_id,
        ).where(
            Measurement.mn == site.mn,
            Measurement.cn == HOURLY,
            Measurement.data_time >= start,
            Measurement.data_time < end,
        )
    )
    for data_time, code, value, flag, frame_id in rows:
        known = site.conversions.get(code)
        day = data_time.date()
        values, newest = out.get(day, ({}, 0))
        out[day] = (values, max(newest, int(frame_id)))
        if known is None or value is None or not factors.valid(flag):
            continue
        wanted, scale = known
        values.setdefault(wanted.name, []).append((data_time.hour, value * scale))
    return out


def _air_day(site: Site, day: date, values: HourValues, newest: int) -> dict[str, Any]:
    hours: dict[str, list[float | None]] = {}
    for name, items in values.items():
        row: list[float | None] = [None] * 24
        for hour, value in items:
            row[hour] = value
        hours[name] = row
    stats = day_statistics(day, hours)
    return {
        "kind": "air",
        "site": site.code,
        "day": day,
        "edition": stats.edition,
        "figures": {k: _json_number(v) for k, v in stats.values.items()},
        "counts": dict(stats.counts),
        "valid": dict(stats.valid),
        "aqi": stats.aqi.aqi,
        "primary_pollutants": ",".join(stats.aqi.primary),
        "newest_frame_id": newest,
    }


def _water_day(site: Site, day: date, values: HourValues, newest: int) -> dict[str, Any]:
    figures = {name: sum(v for _, v in items) / len(items) for name, items in values.items()}
    return {
        "kind": "water",
        "site": site.code,
        "day": day,
        "edition": water_standard().version,
        "figures": figures,
        "counts": {name: len(items) for name, items in values.items()},
        "valid": dict.fromkeys(values, True),
        "aqi": None,
        "primary_pollutants": "",
        "newest_frame_id": newest,
    }


def _json_number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


async def follow_quality(engine: Engine, stop: asyncio.Event, *, interval_s: float = 10.0) -> None:
    """Keep the quality days current while ``envwatch serve`` runs."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(refresh_days, engine)
        except Exception as error:  # the store may be down: try again
            log.warning("quality pass failed: %s", error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
