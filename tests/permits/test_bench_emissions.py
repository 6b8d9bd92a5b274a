"""Smoke test of ``bench/emissions.py --quick``: it runs and prints its figures'
shape. No timing thresholds here: the goals are in the benchmark's output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "emissions.py"


def test_the_emissions_benchmark_prints_its_figures() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                          text=True, check=True, timeout=300)  # fmt: skip
    report = json.loads(done.stdout)
    assert (report["devices"], report["days"]) == (8, 30)
    # 8 devices × their pollutants × 720 hours, and direct discharge besides.
    assert report["materialise"]["device_hours"] >= 8 * 720
    assert report["materialise"]["hours_per_s"] > 0
    assert report["annual_totals"]["enterprises"] == 120
    assert set(report["targets"]) == {"materialise_year_s", "annual_totals_query_s"}
