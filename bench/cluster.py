"""Cluster benchmark: frames acknowledged and stored per second with 1, 2 and 4
gateway+writer pairs on one nats-server and one PostgreSQL, beside the single
process (``envwatch gateway --db postgresql``), and the CPU each role spends
per frame [µs], the figures docs/capacity.md derives machines from.

Loggers (in this process) keep a window of uploads in flight on each
connection, so the figure is the cluster's, not the loggers' round trips.
On a 2-core machine the pairs share two cores with NATS, PostgreSQL and the
loggers: absolute scaling is capped; the per-role costs carry over.

Prints one JSON object. ``--quick`` for a short smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nats
from sqlalchemy import func, select, text
from tests.cluster.harness import (
    NatsServer,
    find_nats_server,
    free_port,
    start_role,
    stop,
    upload,
)
from tests.gateway.helpers import register

from envwatch.hj212 import DecodedFrame, Decoder
from envwatch.store.db import (
    create_scratch_database,
    drop_scratch_database,
    make_engine,
    scratch_server_url,
    upgrade,
)
from envwatch.store.schema import ArchivedFrame

ADMIN = scratch_server_url()
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its live children [s]."""
    total = 0.0
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                pids.append(int(entry.name))
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


async def pipelined_logger(
    mn: str, port: int, window: int, stop_at: float, acked: list[int]
) -> None:
    """Keep ``window`` uploads in flight; resend those unanswered for 3 s (as
    a logger does: an answer withheld means not stored)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    decoder = Decoder()
    number = 0
    try:
        while time.monotonic() < stop_at:
            pending: dict[str, bytes] = {}
            for _ in range(window):
                number += 1
                qn, frame = upload(mn, number, str(10 + number % 7))
                pending[qn] = frame
            writer.write(b"".join(pending.values()))
            await writer.drain()
            while pending:
                try:
                    data = await asyncio.wait_for(reader.read(65536), 3)
                except TimeoutError:
                    acked[1] += len(pending)
                    writer.write(b"".join(pending.values()))
                    continue
                if not data:
                    return
                for item in decoder.feed(data):
                    if isinstance(item, DecodedFrame) and item.packet.qn in pending:
                        del pending[item.packet.qn]
                        acked[0] += 1
    finally:
        writer.close()


def traffic(ports: list[int], mns: list[str], seconds: float, window: int) -> tuple[int, int]:
    """Frames acknowledged, and frames resent."""
    acked = [0, 0]

    async def run() -> None:
        stop_at = time.monotonic() + seconds
        await asyncio.gather(*(
            pipelined_logger(mn, ports[n % len(ports)], window, stop_at, acked)
            for n, mn in enumerate(mns)
        ))  # fmt: skip

    asyncio.run(run())
    return acked[0], acked[1]


def stored(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.execute(
            select(func.count())
            .select_from(ArchivedFrame)
            .where(ArchivedFrame.verdict == "accepted")
        ).scalar_one()
    engine.dispose()
    return int(count)


def rules_caught_up(url: str, mns: list[str], partitions: int, timeout: float) -> None:
    """Until every partition's rules cursor is past its devices' newest frame."""
    from envwatch.cluster.frames import partition_of  # noqa: PLC0415

    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                cursors: dict[str, int] = dict(connection.execute(text(
                    "SELECT name, last_frame_id FROM processing_cursor")).all())  # fmt: skip
                newest = connection.execute(text(
                    "SELECT mn, max(id) FROM archived_frame GROUP BY mn")).all()  # fmt: skip
            if all(cursors.get(f"rules:p{partition_of(mn, partitions)}", 0) >= last
                   for mn, last in newest):  # fmt: skip
                return
            time.sleep(0.5)
    finally:
        engine.dispose()


def stored_bytes(url: str) -> int:
    """Bytes of the archive, measurements and chain heads with their indexes."""
    engine = make_engine(url)
    with engine.connect() as connection:
        size = connection.execute(
            text(
                "SELECT sum(pg_total_relation_size(t)) FROM unnest(ARRAY['archived_frame', "
                "'measurement', 'chain_head']) AS t"
            )
        ).scalar_one()
    engine.dispose()
    return int(size)


async def stream_drained(nats_url: str, partitions: int, timeout: float) -> bool:
    client = await nats.connect(nats_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            consumers = await client.jetstream().consumers_info("ENVWATCH_FRAMES")
            if len(consumers) == partitions and all(
                c.num_pending == 0 and c.num_ack_pending == 0 for c in consumers
            ):
                return True
            await asyncio.sleep(0.2)
        return False
    finally:
        await client.close()


def run_config(pairs: int, seconds: float, devices: int, window: int) -> dict[str, Any]:
    """``pairs`` gateway+writer pairs (0: the single process on PostgreSQL)."""
    url = create_scratch_database(ADMIN, "envwatch_bench_cluster")
    nats_server: NatsServer | None = None
    processes = []
    try:
        upgrade(url)
        engine = make_engine(url)
        mns = [f"3715020000000{n:05d}000000" for n in range(devices)]
        register(engine, *[(mn, "123456") for mn in mns])
        engine.dispose()
        env = {
            "ENVWATCH_DEVICE_RATE_PER_S": "1000000",
            "ENVWATCH_DEVICE_RATE_BURST": "1000000",
            "ENVWATCH_CLUSTER_PARTITIONS": "8",
            "ENVWATCH_CLUSTER_PUBLISH_TIMEOUT_S": "5",
        }
        ports = [free_port() for _ in range(max(1, pairs))]
        gateways, writers, workers = [], [], []
        if pairs == 0:
            gateways.append(start_single(url, ports[0], env))
        else:
            binary = find_nats_server()
            assert binary is not None
            nats_server = NatsServer(binary, Path(tempfile.mkdtemp(prefix="bench-js-")))
            nats_server.start()
            gateways = [start_role("gateway", nats_server.url, url, port=p, env=env) for p in ports]
            writers = [start_role("writer", nats_server.url, url, env=env) for _ in range(pairs)]
            if pairs == 1:  # the rule worker's cost, beside one pair
                workers.append(start_role("worker", nats_server.url, url, env=env))
        processes = [*gateways, *writers, *workers]
        time.sleep(2.0)  # writers take their partitions
        before = {p.pid: cpu_seconds(p.pid) for p in processes}
        nats_before = (
            cpu_seconds(nats_server.process.pid) if nats_server and nats_server.process else 0
        )
        started = time.monotonic()
        acked, resent = traffic(ports, mns, seconds, window)
        acked_s = time.monotonic() - started
        if nats_server is not None:
            asyncio.run(stream_drained(nats_server.url, 8, 120))
        stored_s = time.monotonic() - started
        if workers:
            rules_caught_up(url, mns, 8, 300)
        frames = stored(url)
        disk = stored_bytes(url)
        cpu = {p.pid: cpu_seconds(p.pid) - before[p.pid] for p in processes}
        nats_cpu = (cpu_seconds(nats_server.process.pid) - nats_before
                    if nats_server and nats_server.process else 0.0)  # fmt: skip
        gateway_cpu = sum(cpu[p.pid] for p in gateways)
        writer_cpu = sum(cpu[p.pid] for p in writers)
        return {
            "pairs": pairs,
            "acknowledged": acked,
            "resent": resent,
            "stored": frames,
            "acknowledged_per_s": round(acked / acked_s, 1),
            "stored_per_s": round(frames / stored_s, 1),
            "postgres_bytes_per_frame": round(disk / max(1, frames), 1),
            "cpu_us_per_frame": {
                "gateway" if pairs else "single_process": round(
                    1e6 * gateway_cpu / max(1, frames), 1
                ),
                **(
                    {
                        "writer": round(1e6 * writer_cpu / max(1, frames), 1),
                        "nats_server": round(1e6 * nats_cpu / max(1, frames), 1),
                    }
                    if pairs
                    else {}
                ),
                **(
                    {"worker": round(1e6 * sum(cpu[p.pid] for p in workers) / max(1, frames), 1)}
                    if workers
                    else {}
                ),
            },
        }
    finally:
        for process in processes:
            stop(process)
        if nats_server is not None:
            nats_server.stop()
        drop_scratch_database(ADMIN, url)


def start_single(url: str, port: int, env: dict[str, str]) -> Any:
    import subprocess  # noqa: PLC0415

    from tests.cluster.harness import role_env, wait_port  # noqa: PLC0415

    process = subprocess.Popen(
        [sys.executable, "-m", "envwatch", "gateway", "--db", url, "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=role_env(env),
    )  # fmt: skip
    wait_port(port)
    return process


def bytes_per_frame() -> dict[str, float]:
    """Stored size of one 2061 upload: its JSON message on the stream."""
    from envwatch.cluster.frames import encode_frame  # noqa: PLC0415
    from envwatch.store.archive import ReceivedFrame  # noqa: PLC0415

    _, raw = upload("3715020000000000010000000", 1, "12.5")
    from datetime import UTC, datetime  # noqa: PLC0415

    frame = ReceivedFrame(datetime.now(UTC), "127.0.0.1:5000", raw, "accepted", mn="x" * 24)
    return {"raw_bytes": len(raw), "stream_message_bytes": len(encode_frame(frame))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    seconds = 1.5 if args.quick else 8.0
    devices = 16 if args.quick else 64
    window = 10
    configs = [0, 1] if args.quick else [0, 1, 2, 4]
    results = []
    for pairs in configs:
        results.append(run_config(pairs, seconds, devices, window))
        print(json.dumps(results[-1]), file=sys.stderr)
    print(json.dumps({
        "benchmark": "cluster",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": seconds, "devices": devices, "window": window,
        "runs": results,
        "sizes": bytes_per_frame(),
        "note": "loggers, NATS and PostgreSQL share the machine's cores with the roles",
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
