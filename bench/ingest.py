"""Ingest benchmark: frames stored and acknowledged per second, end to end.

Drives the gateway (``envwatch gateway`` in its own process) over loopback
with many simulated loggers, each sending a 2011 upload with 6 factors and
waiting for its 9014 before the next, as real loggers do. Runs on SQLite and
on PostgreSQL (when reachable), and against a bare asyncio server that answers
every line with a fixed 9014 without decoding or storing: the floor.

Prints one JSON object. ``--quick`` for a short smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from envwatch.hj212 import Packet, encode_packet, frame_segment
from envwatch.store.db import (
    create_scratch_database,
    drop_scratch_database,
    make_engine,
    scratch_server_url,
    upgrade,
)
from envwatch.store.schema import County, Enterprise, MonitoringPoint

POSTGRES_ADMIN_URL = scratch_server_url()
FLOOR_REPLY = encode_packet(
    Packet(cn="9014", qn="20261129000000000", st="91", pw="123456", mn="0" * 24, flag="4")
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mn_of(index: int) -> str:
    return f"3715020000000{index:05d}000000"


FACTORS = (
    ("a34013", "4.12"), ("a21026", "18.3"), ("a21002", "31.9"),
    ("a19001", "6.52"), ("a00000", "181.2"), ("a01012", "48.1"),
)  # fmt: skip


def frame_maker(index: int) -> Iterator[bytes]:
    """Endless distinct 2011 uploads of logger ``index`` (QN and DataTime advance)."""
    cp = ";".join(f"{code}-Rtd={value},{code}-Flag=N" for code, value in FACTORS)
    template = (
        "QN={qn};ST=31;CN=2011;PW=123456;MN=" + mn_of(index) + ";Flag=5;"
        "CP=&&DataTime={data_time};" + cp + "&&"
    )
    start = datetime(2026, 1, 1)
    for number in itertools.count():
        moment = start + timedelta(seconds=30 * number)
        segment = template.format(
            qn=f"{moment:%Y%m%d%H%M%S}{number % 1000:03d}", data_time=f"{moment:%Y%m%d%H%M%S}"
        ).encode()
        yield frame_segment(segment)


def register(url: str, loggers: int) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            County.__table__.insert(),  # type: ignore[attr-defined]
            [{"code": "371502", "name_zh": "东昌府区"}],
        )
        connection.execute(
            Enterprise.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "id": 1,
                    "name": "基准测试示例企业",
                    "credit_code": "913715000000000001",
                    "county_code": "371502",
                }
            ],
        )
        connection.execute(
            MonitoringPoint.__table__.insert(),  # type: ignore[attr-defined]
            [
                {"mn": mn_of(i), "pw": "123456", "enterprise_id": 1, "st": "31"}
                for i in range(loggers)
            ],
        )
    engine.dispose()


async def drive(port: int, loggers: int, seconds: float) -> dict[str, Any]:
    """Each logger: send, wait for the answer line, repeat. Returns rate and latencies."""
    latencies: list[float] = []
    acked = 0
    deadline = time.monotonic() + seconds

    async def logger(index: int) -> None:
        nonlocal acked
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for frame in frame_maker(index):
                if time.monotonic() >= deadline:
                    break
                sent = time.monotonic()
                writer.write(frame)
                await writer.drain()
                line = await reader.readuntil(b"\r\n")
                assert line.startswith(b"##")
                latencies.append(time.monotonic() - sent)
                acked += 1
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(logger(i) for i in range(loggers)))
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "frames_acknowledged": acked,
        "seconds": round(elapsed, 3),
        "frames_per_second": round(acked / elapsed, 1),
        "ack_latency_ms": {
            "p50": round(1000 * statistics.median(latencies), 2) if latencies else None,
            "p99": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 2)
            if latencies
            else None,
        },
    }


def run_gateway_process(url: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "envwatch", "gateway", "--db", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "ENVWATCH_DEVICE_RATE_PER_S": "100000",
            "ENVWATCH_DEVICE_RATE_BURST": "100000",
            # Every simulated logger connects from this one address.
            "ENVWATCH_MAX_CONNECTIONS_PER_PEER": "100000",
        },
    )
    wait_for_port(port)
    return process


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


FLOOR_SERVER = f"""
import asyncio
REPLY = {FLOOR_REPLY!r}
async def handle(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\\r\\n")
            writer.write(REPLY)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()
import sys
asyncio.run(main(int(sys.argv[1])))
"""


def measure(url: str | None, loggers: int, seconds: float) -> dict[str, Any]:
    port = free_port()
    if url is None:
        process = subprocess.Popen([sys.executable, "-c", FLOOR_SERVER, str(port)])
        wait_for_port(port)
    else:
        upgrade(url)
        register(url, loggers)
        process = run_gateway_process(url, port)
    try:
        return asyncio.run(drive(port, loggers, seconds))
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--loggers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per server, on a fresh database each"
    )
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    loggers = 20 if args.quick else args.loggers
    seconds = 1.5 if args.quick else args.seconds
    result: dict[str, Any] = {
        "benchmark": "envwatch ingest (gateway end to end)",
        "quick": args.quick,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loggers": loggers,
        "seconds": seconds,
        "repeats": repeats,
        "frame_bytes": len(next(frame_maker(0))),
        "target_frames_per_second": 5000,
        "target_ratio_to_floor": 0.3,
    }
    # Servers take turns, so a slow spell of this shared machine does not
    # fall on one of them only; each figure is the median run.
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "sqlite": [], "postgresql": []}
    for repeat in range(repeats):
        runs["floor"].append(measure(None, loggers, seconds))
        with tempfile.TemporaryDirectory() as folder:
            sqlite_url = f"sqlite:///{Path(folder) / 'bench.db'}"
            runs["sqlite"].append(measure(sqlite_url, loggers, seconds))
        try:
            url = create_scratch_database(POSTGRES_ADMIN_URL, f"envwatch_bench_{repeat}")
        except OperationalError:
            result["postgresql"] = {"skipped": f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}"}
            continue
        try:
            runs["postgresql"].append(measure(url, loggers, seconds))
        finally:
            drop_scratch_database(POSTGRES_ADMIN_URL, url)
    for server, measured in runs.items():
        if not measured:
            continue
        measured.sort(key=lambda run: run["frames_per_second"])
        result[server] = {
            **measured[len(measured) // 2],
            "runs_frames_per_second": [run["frames_per_second"] for run in measured],
        }
    floor = result["floor"]["frames_per_second"]
    for backend in ("sqlite", "postgresql"):
        figures = result[backend]
        if "frames_per_second" in figures:
            figures["ratio_to_floor"] = round(figures["frames_per_second"] / floor, 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
