"""Smoke test of ``bench/analysis.py --quick``: it runs and prints its
figures' shape (timing goals live in the benchmark, never here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "analysis.py"


def test_the_analysis_benchmark_runs() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                          text=True, check=False, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert set(figures) >= {"slices_s", "slice_rows", "snapshot_s", "report_with_pdf_s",
                            "drill_s", "alerts", "emission_hours"}  # fmt: skip
    assert figures["alerts"] > 0 and figures["drill_rows"] > 0
    assert figures["slice_rows"]["alerts_by_county"] >= 8
    assert figures["slice_rows"]["air_by_county_month"] > 0
    assert figures["pdf_bytes"] > 10_000
