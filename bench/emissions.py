"""Permit emissions benchmark (排污审计): materialise a year of hourly
emissions for the demo city's monitoring points and time the annual totals.

The demo registry (``envwatch seed demo``) in a scratch SQLite file; every
device at an outlet gets a year of hourly uploads (2061) of its factors and
its flow, with marked and missing hours as real data have (2 % maintenance,
1 % fault, 1 % never sent), written straight to the measurement table. Then:

* ``materialise``: the whole table from scratch (``Materialiser.rebuild``),
  as hours (device × pollutant × hour) per second;
* ``incremental``: one more day of every device arriving as frames and one
  pass of the materialiser following them (what ``serve`` does);
* ``annual_totals``: the ``envwatch permits emissions`` figures of every
  enterprise for the year, and the slowest single enterprise's query.

Targets of issue 14: a year of the demo city under 60 s; the annual totals
query under 1 s. Prints one JSON object. ``--quick``: 8 devices, 30 days.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from envwatch.demo.seed import seed_demo
from envwatch.glossary import factor
from envwatch.permits.materialise import Materialiser, rebuild_workers
from envwatch.permits.report import year_totals
from envwatch.rules.units import FLOW_CODE_BY_MEDIUM, accounting_of
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.db import make_engine, upgrade
from envwatch.store.schema import (
    ArchivedFrame,
    Enterprise,
    HourlyEmission,
    Measurement,
    MonitoringPoint,
    PointFactor,
)

YEAR = 2026
START = datetime(YEAR, 1, 1)
LEVELS = {"a21026": 20.0, "a21002": 40.0, "a34013": 5.0, "w01018": 40.0, "w21003": 3.0,
          "w21011": 0.3, "w21001": 10.0}  # fmt: skip
FLOWS = {"a00000": 120.0, "w00000": 30.0}  # m³/s of flue gas, L/s of wastewater


def devices(engine: Engine, limit: int | None) -> list[tuple[str, list[str], str]]:
    """(MN, accounted factors, flow code) of the devices at outlets."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(MonitoringPoint.mn, PointFactor.pollutant)
            .join(PointFactor, PointFactor.mn == MonitoringPoint.mn)
            .where(MonitoringPoint.outlet_id.is_not(None))
            .order_by(MonitoringPoint.mn)
        ).all()
    by_mn: dict[str, list[str]] = {}
    for mn, code in rows:
        if accounting_of(code) is not None:
            by_mn.setdefault(mn, []).append(code)
    found = []
    for mn, codes in by_mn.items():
        known = factor(codes[0])
        assert known is not None
        found.append((mn, codes, FLOW_CODE_BY_MEDIUM[known.medium]))
    return found[:limit] if limit else found


def hour_rows(
    mn: str, codes: list[str], flow: str, at: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    draw = rng.random()
    if draw < 0.01:
        return []  # never sent
    flag = "M" if draw < 0.03 else "D" if draw < 0.04 else "N"
    rows = [{"mn": mn, "cn": "2061", "data_time": at, "pollutant": code,
             "avg": LEVELS.get(code, 10.0) * rng.uniform(0.6, 1.4), "flag": flag}
            for code in codes]  # fmt: skip
    rows.append({"mn": mn, "cn": "2061", "data_time": at, "pollutant": flow,
                 "avg": FLOWS[flow] * rng.uniform(0.8, 1.2), "flag": "N"})  # fmt: skip
    return rows


def load_year(engine: Engine, fleet: list[tuple[str, list[str], str]], days: int) -> int:
    """Write ``days`` of hourly data of every device straight to the table."""
    rng = random.Random(7)
    written = 0
    for mn, codes, flow in fleet:
        with engine.begin() as connection:
            frame_id = connection.execute(insert(ArchivedFrame).values(
                chain="bench", seq=written, received_at=datetime.now(UTC), peer="bench",
                raw=b"", verdict="accepted", error_code=None, mn=mn, cn="2061", qn=None,
                prev_hash="", hash="", data_time=START,
            ).returning(ArchivedFrame.id)).scalar_one()  # fmt: skip
            rows = []
            for hour in range(days * 24):
                for row in hour_rows(mn, codes, flow, START + timedelta(hours=hour), rng):
                    row["frame_id"] = frame_id
                    rows.append(row)
            connection.execute(insert(Measurement), rows)
            written += len(rows)
    return written


def one_more_day(engine: Engine, fleet: list[tuple[str, list[str], str]], days: int) -> None:
    """A day after the year's data arriving as frames, as the gateway stores them."""
    rng = random.Random(8)
    frames = []
    for mn, codes, flow in fleet:
        for hour in range(24):
            at = START + timedelta(days=days, hours=hour)
            rows = hour_rows(mn, codes, flow, at, rng) or hour_rows(mn, codes, flow, at, rng)
            frames.append(ReceivedFrame(
                datetime.now(UTC), "bench", b"##", "accepted", mn=mn, cn="2061",
                measurements=tuple(MeasurementRow(r["mn"], "2061", at, r["pollutant"],
                                                  avg=r["avg"], flag=r["flag"]) for r in rows),
            ))  # fmt: skip
    Archive(engine).write_batch(frames)


def children_cpu_s() -> float:
    """CPU seconds of the finished child processes (the rebuild's workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="8 devices, 30 days")
    parser.add_argument("--devices", type=int, default=None, help="at most this many devices")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", type=int, default=0,
                        help="processes of the rebuild (default: one per core)")  # fmt: skip
    args = parser.parse_args()
    limit, days = (8, 30) if args.quick else (args.devices, args.days)
    workers = args.workers or rebuild_workers()
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        seed_demo(engine)
        fleet = devices(engine, limit)
        started = time.perf_counter()
        rows = load_year(engine, fleet, days)
        load_s = time.perf_counter() - started
        materialiser = Materialiser.create(engine)
        now = START + timedelta(days=days)  # direct discharge up to the data's end
        started, cpu = time.perf_counter(), time.process_time() + children_cpu_s()
        materialiser.rebuild(now=now, workers=workers)
        materialise_s = time.perf_counter() - started
        materialise_cpu_s = time.process_time() - cpu + children_cpu_s()
        with engine.connect() as connection:
            hours = connection.execute(select(func.count()).select_from(HourlyEmission)).scalar()
            measured = connection.execute(select(func.count()).select_from(HourlyEmission).where(
                HourlyEmission.mn.not_like("outlet:%"))).scalar()  # fmt: skip
        one_more_day(engine, fleet, days)
        started, cpu = time.perf_counter(), time.process_time()
        materialiser.catch_up(now + timedelta(days=1))
        incremental_s = time.perf_counter() - started
        incremental_cpu_s = time.process_time() - cpu
        with engine.connect() as connection:
            enterprises = list(connection.execute(select(Enterprise.id)).scalars())
            slowest = 0.0
            started, cpu = time.perf_counter(), time.process_time()
            for enterprise in enterprises:
                one = time.perf_counter()
                year_totals(connection, enterprise, YEAR, materialiser.parameters)
                slowest = max(slowest, time.perf_counter() - one)
            totals_s = time.perf_counter() - started
            totals_cpu_s = time.process_time() - cpu
        engine.dispose()
    print(json.dumps({
        "benchmark": "emissions",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "database": "sqlite",
        "devices": len(fleet),
        "days": days,
        "measurement_rows": rows,
        "load_s": round(load_s, 2),
        "materialise": {"hours": hours, "device_hours": measured,
                        "workers": workers, "seconds": round(materialise_s, 2),
                        "cpu_s": round(materialise_cpu_s, 2),
                        "hours_per_s": round((hours or 0) / materialise_s)},
        "incremental": {"devices": len(fleet), "hours_each": 24,
                        "seconds": round(incremental_s, 2),
                        "cpu_s": round(incremental_cpu_s, 2)},
        "annual_totals": {"enterprises": len(enterprises), "all_s": round(totals_s, 3),
                          "all_cpu_s": round(totals_cpu_s, 3),
                          "slowest_enterprise_s": round(slowest, 4)},
        "targets": {"materialise_year_s": 60, "annual_totals_query_s": 1},
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
