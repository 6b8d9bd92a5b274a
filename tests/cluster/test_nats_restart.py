"""NATS restarted mid-run: while it is down the gateways acknowledge nothing
(the loggers resend), and nothing acknowledged is lost; then the writer
restarted as in a rolling restart (SIGTERM), also losing nothing."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import select

from envwatch.store.archive import verify
from envwatch.store.db import make_engine
from envwatch.store.schema import ArchivedFrame
from tests.cluster.harness import Acks, NatsServer, free_port, logger, start_role, stop
from tests.cluster.test_kill import drained
from tests.gateway.helpers import register

DEVICES = 8


def test_nats_down_means_no_acknowledgement(
    nats_server: NatsServer, cluster_db: str, tmp_path: Path
) -> None:
    engine = make_engine(cluster_db)
    mns = [f"010000A8900016F00017{n:04d}" for n in range(DEVICES)]
    register(engine, *[(mn, "123456") for mn in mns])
    env = {"ENVWATCH_DEVICE_RATE_PER_S": "100000"}
    log = tmp_path / "roles.log"
    port, metrics_port = free_port(), free_port()
    gateway = start_role("gateway", nats_server.url, cluster_db, port=port, log=log,
                         env={**env, "ENVWATCH_METRICS_PORT": str(metrics_port)})  # fmt: skip
    writers = [start_role("writer", nats_server.url, cluster_db, env=env, log=log)]
    acks = Acks()
    down: list[float] = []
    try:

        async def traffic() -> None:
            halt = asyncio.Event()
            loggers = [
                asyncio.create_task(logger(mn, [port], 0, acks, halt, faulty=False)) for mn in mns
            ]
            await asyncio.sleep(2)
            down.append(time.monotonic())
            nats_server.kill()  # SIGKILL: no goodbye to its clients
            await asyncio.sleep(2.5)
            nats_server.start()  # same port, same store
            down.append(time.monotonic())
            await asyncio.sleep(1.5)
            # A rolling restart of the writer: SIGTERM, stopped gracefully, a new one.
            assert await asyncio.to_thread(stop, writers[0])
            writers[0] = start_role("writer", nats_server.url, cluster_db, env=env, log=log)
            await asyncio.sleep(2)
            halt.set()
            await asyncio.gather(*loggers)

        asyncio.run(traffic())
        asyncio.run(drained(nats_server.url, cluster_db, partitions_with_rules=False))
        health = f"http://127.0.0.1:{metrics_port}"
        assert httpx.get(f"{health}/livez").status_code == 200
        assert httpx.get(f"{health}/readyz").status_code == 200
        exposed = httpx.get(f"{health}/metrics").text
        answered = re.search(r"^envwatch_frames_acknowledged_total (\S+)$", exposed, re.M)
        # Some answers may have reached a logger that had stopped waiting.
        assert answered is not None and float(answered[1]) >= len(acks.acked)
        unacknowledged = re.search(r"^envwatch_frames_unacknowledged_total (\S+)$", exposed, re.M)
        assert unacknowledged is not None and float(unacknowledged[1]) > 0
        assert "envwatch_ack_latency_seconds_bucket" in exposed
        stop(gateway)
        stop(writers[0])
        killed, restarted = down
        # An answer already on its way when the server died may still arrive.
        during = [t for _, _, t in acks.acked if killed + 0.5 < t < restarted]
        assert during == [], "no acknowledgement without JetStream"
        assert any(t > restarted for _, _, t in acks.acked), "acknowledging again after"
        assert acks.resends > 0
        with engine.connect() as connection:
            stored = Counter(
                (mn, qn)
                for mn, qn in connection.execute(
                    select(ArchivedFrame.mn, ArchivedFrame.qn).where(
                        ArchivedFrame.verdict == "accepted"
                    )
                )
            )
        assert [(mn, qn) for mn, qn, _ in acks.acked if stored[mn, qn] != 1] == []
        assert max(stored.values()) == 1
        assert verify(engine).broken == ()
    finally:
        stop(gateway)
        stop(writers[0])
        engine.dispose()
