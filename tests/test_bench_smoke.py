"""Smoke test of ``bench/codec.py --quick``: it runs and prints the figures' shape.

No timing thresholds here: timing goals live in the benchmark's own output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "codec.py"
FRAMES = ("rt_2011", "hourly_2061")
MODES = ("strict", "lenient")
FIGURE_KEYS = {
    "iterations",
    "runs",
    "best_fps",
    "median_fps",
    "best_us_per_frame",
    "median_us_per_frame",
}


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    parsed = json.loads(done.stdout)
    assert isinstance(parsed, dict)
    return parsed


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def test_top_level_keys(report: dict[str, Any]) -> None:
    expected = {
        "quick",
        "python",
        "platform",
        "frames",
        "decode_frame",
        "decode_stream",
        "encode",
        "interpret",
        "crc16",
        "memory",
        "target_decode_fps",
        "meets_target",
    }
    assert expected <= report.keys()
    assert report["quick"] is True
    assert report["target_decode_fps"] == 50_000
    assert isinstance(report["meets_target"], bool)
    assert report["python"] == ".".join(map(str, sys.version_info[:3]))


def test_frame_sizes(report: dict[str, Any]) -> None:
    realtime = report["frames"]["rt_2011"]
    hourly = report["frames"]["hourly_2061"]
    assert realtime["cn"] == "2011"
    assert realtime["factors"] == 10
    assert 350 <= realtime["frame_bytes"] <= 500
    assert hourly["cn"] == "2061"
    assert hourly["factors"] >= 6
    assert 500 <= hourly["frame_bytes"] <= 1024 + 12
    assert hourly["segment_bytes"] <= 1024
    for frame in (realtime, hourly):
        assert frame["segment_bytes"] == frame["frame_bytes"] - 12


@pytest.mark.parametrize("measure", ["decode_frame", "decode_stream"])
def test_decode_figures(report: dict[str, Any], measure: str) -> None:
    for frame in FRAMES:
        for mode in MODES:
            figures = report[measure][frame][mode]
            assert figures.keys() >= FIGURE_KEYS
            for key in FIGURE_KEYS:
                assert _positive(figures[key]), (measure, frame, mode, key)


@pytest.mark.parametrize("measure", ["encode", "interpret"])
def test_per_frame_figures(report: dict[str, Any], measure: str) -> None:
    for frame in FRAMES:
        figures = report[measure][frame]
        assert figures.keys() >= FIGURE_KEYS
        assert _positive(figures["best_fps"])
        assert _positive(figures["median_fps"])


def test_crc_and_memory(report: dict[str, Any]) -> None:
    crc = report["crc16"]
    assert crc["segment_bytes"] == report["frames"]["rt_2011"]["segment_bytes"]
    assert _positive(crc["best_us_per_op"])
    assert _positive(crc["median_us_per_op"])
    for name in ("stream_frames", "stream_10mb"):
        memory = report["memory"][name]
        assert memory["frames"] > 0
        assert _positive(memory["peak_bytes"])
        assert _positive(memory["peak_kib"])
        assert _positive(memory["peak_mib"])
