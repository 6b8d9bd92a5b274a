"""Smoke test of ``bench/rectification.py --quick``: it runs and prints its figures' keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "rectification.py"


def test_the_rectification_bench_prints_its_figures() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                          text=True, check=True, timeout=300)  # fmt: skip
    figures = json.loads(done.stdout)
    assert {"import_s", "import_rows_per_s", "action_with_200kB_pdf_ms", "sweep_s", "escalated",
            "hotspots_s", "hotspots"} <= set(figures)  # fmt: skip
    assert figures["problems"] == 50 and figures["escalated"] == 49
