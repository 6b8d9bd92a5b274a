"""Smoke test of ``bench/zoning.py --quick``: it runs (its own assertions hold
the index to a scan, for points and for sites) and prints the figures' shape.
No timing thresholds here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "zoning.py"


def test_the_zoning_benchmark_runs_quick() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                          text=True, check=True, timeout=300)  # fmt: skip
    figures = json.loads(done.stdout)
    assert set(figures) == {"units", "points", "index_build_s", "lookups_per_s_index",
                            "lookups_per_s_scan", "sites", "site_checks_per_s_index"}  # fmt: skip
    assert figures["units"] == 50 and figures["sites"] == 200
    assert all(figures[k] > 0 for k in ("lookups_per_s_index", "site_checks_per_s_index"))
