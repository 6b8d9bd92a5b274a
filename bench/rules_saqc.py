"""The SaQC side of bench/rules.py: runs in .venv-saqc (saqc, pandas, numpy),
builds the same fleet from rules_fleet.py and prints JSON: per pattern the
devices whose injected fault SaQC flagged, the flagged runs outside faults,
and the points checked per second."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import saqc

sys.path.insert(0, str(Path(__file__).parent))
from rules_fleet import fleet


# The SaQC test for each pattern both tools cover, with envwatch's thresholds.
def constant(qc: Any) -> Any:
    return qc.flagConstants("x", thresh=0.0, window="20min")


def zeros(qc: Any) -> Any:
    return qc.flagRange("x", min=1e-9, max=1e9)


def negative(qc: Any) -> Any:
    return qc.flagRange("x", min=0.0, max=1e9)


def gap(qc: Any) -> Any:
    return qc.flagMissing("x")


def spike(qc: Any) -> Any:
    return qc.flagZScore("x", method="modified", window="31min", thresh=8.0)


TESTS: dict[str, Callable[[Any], Any]] = {
    "constant": constant, "zeros": zeros, "negative": negative, "gap": gap, "spike": spike,
}  # fmt: skip


def runs(mask: Any) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], mask, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2], strict=True))


def main() -> None:
    devices, minutes = int(sys.argv[1]), int(sys.argv[2])
    index = pd.date_range("2026-01-01", periods=minutes, freq="1min")
    detected = dict.fromkeys(TESTS, 0)
    injected = dict.fromkeys(TESTS, 0)
    true_runs = dict.fromkeys(TESTS, 0)
    false_runs = dict.fromkeys(TESTS, 0)
    seconds = 0.0
    for device in fleet(devices, minutes):
        values = np.array([np.nan if v is None else v for v in device.values], dtype=float)
        frame = pd.DataFrame({"x": values}, index=index)
        if device.fault is not None:
            injected[device.fault.pattern] += 1
        for pattern, test in TESTS.items():
            started = time.perf_counter()
            flags = test(saqc.SaQC(frame)).flags["x"].to_numpy()
            seconds += time.perf_counter() - started
            for start, end in runs(flags > -np.inf):
                fault = device.fault
                hit = (
                    fault is not None
                    and fault.pattern == pattern
                    and start < fault.start + fault.length
                    and end > fault.start
                )
                if hit:
                    true_runs[pattern] += 1
                else:
                    false_runs[pattern] += 1
            fault = device.fault
            if fault is not None and fault.pattern == pattern:
                span = flags[fault.start : fault.start + fault.length]
                detected[pattern] += bool((span > -np.inf).any())
    points = devices * minutes * len(TESTS)
    per_pattern = {}
    for pattern in TESTS:
        runs_found = true_runs[pattern] + false_runs[pattern]
        per_pattern[pattern] = {
            "recall": round(detected[pattern] / injected[pattern], 4)
            if injected[pattern]
            else None,
            "precision": round(true_runs[pattern] / runs_found, 4) if runs_found else None,
            "injected": injected[pattern],
        }
    report = {
        "saqc_version": saqc.__version__,
        "points_checked": points,
        "seconds": round(seconds, 3),
        "points_per_second": round(points / seconds),
        "per_pattern": per_pattern,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
