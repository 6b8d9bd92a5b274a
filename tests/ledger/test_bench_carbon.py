"""Smoke test of ``bench/carbon.py --quick``: it runs and prints its figures'
shape (timing goals live in the benchmark, never here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "carbon.py"


def test_the_carbon_benchmark_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert set(figures) == {"runs", "enterprises", "declared_months", "summary_s", "balances_s"}
    assert figures["enterprises"] > 100 and figures["declared_months"] > 0
