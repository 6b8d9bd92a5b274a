"""Partitions benchmark: what monthly partitioning costs the PostgreSQL store.

Writes the same batches of uploads (a frame and 6 measurements each, one
batch per ``Archive.write_batch``, data spread over three months) into two
scratch PostgreSQL databases: one at revision 0039 (plain tables, unique
(chain, seq), foreign key from measurements) and one at the head (monthly
partitions, compare-and-set chain heads, no foreign key). Runs alternate
between them so a slow spell of the shared machine falls on both. Then times
the frames page's query (a device's frames in one day) and a device's
measurements in one day on each.

Prints one JSON object. ``--quick`` for a short smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.db import (
    create_scratch_database,
    drop_scratch_database,
    make_engine,
    scratch_server_url,
    upgrade,
)
from envwatch.store.partitions import maintain

POSTGRES_ADMIN_URL = scratch_server_url()
FACTORS = ("a21026", "a21002", "a34013", "a19001", "a01012", "a00000")
DEVICES = 500
# This month and the next two: the months the partitions are kept ahead for.
START = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
DAY = START + timedelta(days=32)


def batch(number: int, size: int, total: int) -> list[ReceivedFrame]:
    """Batch ``number`` of ``size`` uploads; all ``total`` spread evenly over three months."""
    frames = []
    for index in range(size):
        serial = number * size + index
        mn = f"MN{serial % DEVICES:05d}"
        at = START + timedelta(days=91) * serial / total
        data_time = at.replace(tzinfo=None, second=0, microsecond=0) + timedelta(hours=8)
        frames.append(
            ReceivedFrame(
                received_at=at,
                peer="127.0.0.1:5000",
                raw=f"##bench {mn} {serial}".encode() * 8,
                verdict="accepted",
                mn=mn,
                cn="2011",
                qn=f"{serial:017d}",
                measurements=tuple(
                    MeasurementRow(mn, "2011", data_time, code, rtd=float(serial % 97), flag="N")
                    for code in FACTORS
                ),
            )
        )
    return frames


def write(engine: Engine, batches: list[list[ReceivedFrame]]) -> float:
    archive = Archive(engine)
    started = time.perf_counter()
    for frames in batches:
        archive.write_batch(frames)
    return sum(len(frames) for frames in batches) / (time.perf_counter() - started)


QUERIES = {
    "device_frames_in_a_day": (
        "SELECT received_at, seq FROM archived_frame WHERE chain = 'MN00007' "
        f"AND received_at >= '{DAY:%Y-%m-%d} 00:00+00' "
        f"AND received_at < '{DAY + timedelta(days=1):%Y-%m-%d} 00:00+00' "
        "ORDER BY seq DESC LIMIT 50"
    ),
    "device_measurements_in_a_day": (
        "SELECT data_time, pollutant, rtd FROM measurement WHERE mn = 'MN00007' AND cn = '2011' "
        f"AND data_time >= '{DAY:%Y-%m-%d}' AND data_time < '{DAY + timedelta(days=1):%Y-%m-%d}'"
    ),
}


def query_ms(engine: Engine, sql: str, repeats: int) -> float:
    timings = []
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        for _ in range(3):  # caches warm (catalogue, partitions' relations)
            connection.execute(text(sql)).all()
        for _ in range(repeats):
            started = time.perf_counter()
            connection.execute(text(sql)).all()
            timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    batches_n = 4 if args.quick else args.batches
    size = 100 if args.quick else args.batch_size
    result: dict[str, Any] = {
        "benchmark": "envwatch PostgreSQL store, plain (0039) against monthly partitions (head)",
        "quick": args.quick,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "frames": batches_n * size,
        "measurements_per_frame": len(FACTORS),
        "batch": size,
    }
    # The uploads cover three months (the range the partitions split).
    batches = [batch(number, size, batches_n * size) for number in range(batches_n)]
    urls: dict[str, str] = {}
    try:
        for kind, revision in (("plain", "0039"), ("partitioned", "head")):
            urls[kind] = create_scratch_database(POSTGRES_ADMIN_URL, f"envwatch_bench_{kind}")
            upgrade(urls[kind], revision)
        made = make_engine(urls["partitioned"])
        result["partitions"] = maintain(made, ahead=3, detach_before={})["create"]
        made.dispose()
    except OperationalError:
        result["skipped"] = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}"
        print(json.dumps(result, indent=2))
        return
    try:
        engines = {kind: make_engine(url) for kind, url in urls.items()}
        rates: dict[str, list[float]] = {kind: [] for kind in engines}
        # Alternate in slices: each database gets every other slice of batches.
        slices = 4
        for part in range(slices):
            chunk = batches[part::slices]
            for kind in ("plain", "partitioned") if part % 2 == 0 else ("partitioned", "plain"):
                rates[kind].append(write(engines[kind], chunk))
        repeats = 3 if args.quick else 25
        for kind, engine in engines.items():
            result[kind] = {
                "frames_per_second": round(statistics.median(rates[kind]), 1),
                "runs_frames_per_second": [round(rate, 1) for rate in rates[kind]],
                "query_ms": {name: query_ms(engine, sql, repeats) for name, sql in QUERIES.items()},
            }
        result["partitioned_to_plain"] = round(
            result["partitioned"]["frames_per_second"] / result["plain"]["frames_per_second"], 3
        )
        for engine in engines.values():
            engine.dispose()
    finally:
        for url in urls.values():
            drop_scratch_database(POSTGRES_ADMIN_URL, url)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
