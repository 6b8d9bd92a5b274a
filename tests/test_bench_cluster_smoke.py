"""Smoke test of ``bench/cluster.py --quick``: it runs, every acknowledged
frame is stored, and the per-role costs are there (no timing thresholds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy.exc import OperationalError

from envwatch.store.db import create_scratch_database, drop_scratch_database
from tests.cluster.harness import find_nats_server
from tests.conftest import POSTGRES_ADMIN_URL, service_missing

BENCH = Path(__file__).resolve().parents[1] / "bench" / "cluster.py"


def test_cluster_bench_quick() -> None:
    if find_nats_server() is None:
        service_missing("nats-server not installed (apt-get install nats-server)")
    try:
        drop_scratch_database(
            POSTGRES_ADMIN_URL, create_scratch_database(POSTGRES_ADMIN_URL, "envwatch_probe")
        )
    except OperationalError as error:
        service_missing(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}")
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, check=True,
        timeout=300,
    )  # fmt: skip
    report = json.loads(done.stdout)
    runs = {run["pairs"]: run for run in report["runs"]}
    assert set(runs) == {0, 1}
    for run in runs.values():
        assert run["acknowledged"] > 0
        assert run["stored"] >= run["acknowledged"], "every acknowledged frame stored"
    assert set(runs[1]["cpu_us_per_frame"]) == {"gateway", "writer", "nats_server", "worker"}
    assert all(value > 0 for value in runs[1]["cpu_us_per_frame"].values())
    assert report["sizes"]["stream_message_bytes"] > report["sizes"]["raw_bytes"]
