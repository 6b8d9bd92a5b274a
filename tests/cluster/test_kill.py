"""The cluster on this machine: 3 gateways, 2 writers and 2 workers on one
nats-server and one PostgreSQL, simulated loggers spread over the gateways.
A gateway, a writer and a worker are killed (SIGKILL) mid-run and restarted:
every acknowledged frame is stored exactly once, the hash chains verify, and
the findings equal a single-process pass over the same archive."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import nats
from sqlalchemy import delete, select, text

from envwatch.processing.worker import Processor
from envwatch.rules.catalogue import PARAM_MODELS
from envwatch.rules.parameters import DEFAULT_RULES_FILE, load_rule_set
from envwatch.store.archive import verify
from envwatch.store.db import make_engine
from envwatch.store.schema import ArchivedFrame, FindingRecord
from tests.cluster.harness import (
    Acks,
    NatsServer,
    free_port,
    kill_9,
    logger,
    role_env,
    start_role,
    stop,
)
from tests.gateway.helpers import register

DEVICES = 24
PARTITIONS = 4


def rules_without_silence(tmp_path: Path) -> Path:
    """The default rules with silence (offline) out of reach: whether a device
    is silent depends on the clock of the data seen with it, which a partition
    and the single process see differently; every other rule is per device."""
    rules = DEFAULT_RULES_FILE.read_text(encoding="utf-8").replace(
        "after_minutes = 30.0", "after_minutes = 1000000.0"
    )
    assert "after_minutes = 1000000.0" in rules
    path = tmp_path / "rules.toml"
    path.write_text(rules, encoding="utf-8")
    return path


async def drained(
    nats_url: str, engine_url: str, timeout: float = 60.0, *, partitions_with_rules: bool = True
) -> None:
    """Until every writer consumer has nothing pending and every rules
    partition has processed its stored frames."""
    engine = make_engine(engine_url)
    client = await nats.connect(nats_url)
    js = client.jetstream()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            consumers = await js.consumers_info("ENVWATCH_FRAMES")
            writers = [c for c in consumers if c.name.startswith("writer-")]
            stream = await js.stream_info("ENVWATCH_FRAMES")
            with engine.connect() as connection:
                positions: dict[str, int] = dict(connection.execute(text(
                    "SELECT name, last_frame_id FROM processing_cursor")).all())  # fmt: skip
                newest = connection.execute(text(
                    "SELECT mn, max(id) FROM archived_frame GROUP BY mn")).all()  # fmt: skip
            from envwatch.cluster.frames import partition_of  # noqa: PLC0415

            stored = max((positions.get(f"ingest:p{p}", 0) for p in range(PARTITIONS)), default=0)
            rules_done = not partitions_with_rules or all(
                positions.get(f"rules:p{partition_of(mn, PARTITIONS)}", 0) >= last
                for mn, last in newest
            )
            if (
                len(writers) == PARTITIONS
                and all(c.num_pending == 0 and c.num_ack_pending == 0 for c in writers)
                and stored == stream.state.last_seq
                and rules_done
            ):
                return
            await asyncio.sleep(0.5)
        raise AssertionError("the cluster did not catch up")
    finally:
        await client.close()
        engine.dispose()


def cluster_status(nats_url: str, db: str) -> dict[str, Any]:
    """What ``envwatch cluster status`` prints."""
    done = subprocess.run(
        [sys.executable, "-m", "envwatch", "cluster", "status", "--nats", nats_url, "--db", db],
        check=True, capture_output=True, env=role_env(),
    )  # fmt: skip
    result = json.loads(done.stdout)
    assert isinstance(result, dict)
    return result


def test_kill_9_each_role_mid_run(nats_server: NatsServer, cluster_db: str, tmp_path: Path) -> None:
    engine = make_engine(cluster_db)
    mns = [f"010000A8900016F00016{n:04d}" for n in range(DEVICES)]
    register(engine, *[(mn, "123456") for mn in mns])
    rules_file = rules_without_silence(tmp_path)
    env = {
        "ENVWATCH_RULES_FILE": str(rules_file),
        "ENVWATCH_DEVICE_RATE_PER_S": "100000",
        "ENVWATCH_CLUSTER_LIVE_CLOCK": "false",
        # Takeovers rebuild the rules' state from a warm-up covering every
        # rule's look-back (copied_day's seven days), as the single pass has it all.
        "ENVWATCH_RULES_WARM_UP_H": "192",
    }
    log = tmp_path / "roles.log"
    url = nats_server.url
    ports = [free_port() for _ in range(3)]
    gateways = [start_role("gateway", url, cluster_db, port=p, env=env, log=log) for p in ports]
    writers = [start_role("writer", url, cluster_db, env=env, log=log) for _ in range(2)]
    workers = [start_role("worker", url, cluster_db, env=env, log=log) for _ in range(2)]
    acks = Acks()
    try:

        async def traffic() -> None:
            halt = asyncio.Event()
            loggers = [
                asyncio.create_task(logger(mn, ports, n % 3, acks, halt, faulty=n % 2 == 0))
                for n, mn in enumerate(mns)
            ]
            await asyncio.sleep(3)
            before = len(acks.acked)
            # No warning: mid-publish, mid-batch, mid-pass.
            kill_9(gateways[0])
            kill_9(writers[0])
            kill_9(workers[0])
            await asyncio.sleep(2)
            gateways[0] = start_role("gateway", url, cluster_db, port=ports[0], env=env, log=log)
            writers[0] = start_role("writer", url, cluster_db, env=env, log=log)
            workers[0] = start_role("worker", url, cluster_db, env=env, log=log)
            await asyncio.sleep(3)
            halt.set()
            await asyncio.gather(*loggers)
            assert before > DEVICES and len(acks.acked) > before + DEVICES, (
                "traffic must flow before the kills and after the restarts"
            )

        asyncio.run(traffic())
        asyncio.run(drained(url, cluster_db))
        # Leases are renewed every third of their life: on a loaded machine one may
        # lapse for a moment before its holder renews it; look again then.
        for _ in range(10):
            status = cluster_status(url, cluster_db)
            held = {role["lease"] for role in status["roles"]}
            members = Counter(lease.split(":")[1] for lease in held if lease.startswith("member:"))
            wanted = {
                "desk",
                *(f"{r}:p{p}" for r in ("writer", "worker") for p in range(PARTITIONS)),
            }
            if wanted <= held and members == {"gateway": 3, "writer": 2, "worker": 2}:
                break
            time.sleep(1)
        assert wanted <= held
        assert members == {"gateway": 3, "writer": 2, "worker": 2}
        assert status["stream"]["messages"] >= len(acks.acked)
        assert {c["name"]: c["lag"] for c in status["consumers"]} == {
            f"writer-{p}": 0 for p in range(PARTITIONS)
        }
        for process in [*gateways, *writers, *workers]:
            assert stop(process), "a role must stop gracefully on SIGTERM"
        assert acks.resends > 0, "the killed gateway's loggers had to resend"

        with engine.connect() as connection:
            stored = Counter(
                (mn, qn)
                for mn, qn in connection.execute(
                    select(ArchivedFrame.mn, ArchivedFrame.qn).where(
                        ArchivedFrame.verdict == "accepted"
                    )
                )
            )
            cluster_findings = set(
                connection.execute(
                    select(FindingRecord.rule, FindingRecord.mn, FindingRecord.pollutant,
                           FindingRecord.window_start, FindingRecord.window_end)
                ).all()
            )  # fmt: skip
        acknowledged = [(mn, qn) for mn, qn, _ in acks.acked]
        assert len(acknowledged) == len(set(acknowledged))
        missing = [pair for pair in acknowledged if stored[pair] != 1]
        assert missing == [], "every acknowledged frame stored exactly once"
        assert max(stored.values()) == 1, "a resend inside the window is stored once"
        assert verify(engine).broken == ()
        assert cluster_findings, "the faulty devices must have been found"

        # The same archive through one single-process processor.
        with engine.begin() as connection:
            connection.execute(delete(FindingRecord))
        single = Processor.create(engine, load_rule_set(PARAM_MODELS, rules_file))
        single.cursor, single.batch_cursor = "single", "single:batches"
        while single.run_once():
            pass
        with engine.connect() as connection:
            replayed = set(
                connection.execute(
                    select(FindingRecord.rule, FindingRecord.mn, FindingRecord.pollutant,
                           FindingRecord.window_start, FindingRecord.window_end)
                ).all()
            )  # fmt: skip
        assert cluster_findings == replayed
    finally:
        for process in [*gateways, *writers, *workers]:
            stop(process)
        engine.dispose()
