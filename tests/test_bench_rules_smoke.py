"""Smoke test of ``bench/rules.py --quick --no-saqc``: it runs, scores every
injected pattern and measures streaming and replay. No timing thresholds:
timing goals live in the benchmark's own output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "rules.py"


def test_the_rules_benchmark_runs_and_scores_every_pattern() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--no-saqc"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    report = json.loads(done.stdout)
    ours = report["envwatch"]
    assert set(ours["per_pattern"]) == {"constant", "zeros", "negative", "gap", "spike"}
    for pattern, figures in ours["per_pattern"].items():
        assert figures["injected"] > 0, pattern
        assert 0 <= figures["recall"] <= 1 and 0 <= figures["precision"] <= 1, pattern
    assert ours["streaming"]["points"] > 30_000
    assert ours["replay"]["points"] > 0 and ours["replay"]["findings"] > 0
    assert "saqc" not in report
    columnar = ours["columnar_replay"]
    assert columnar["same_as_streaming"] and columnar["findings"] > 0
    assert set(columnar["per_pattern"]) == {"constant", "zeros", "negative", "gap", "spike"}
    assert columnar["per_pattern"]["gap"]["recall"] > 0  # offline, in column form
    # Every rule judged on the columns: none by the engine from the rows.
    assert {"exceedance", "offline", "spike"} <= set(columnar["vectorised_rules"])
    assert not columnar["engine_devices"] and not columnar["streamed_devices"]
    assert columnar["max_rss_mib"] > 0
    # Read from value blocks; the compaction and the row path reported beside.
    assert columnar["compaction"]["blocks"] > 0 and columnar["compaction"]["skipped"] == 0
    assert columnar["from_rows"]["same_findings_as_blocks"]
