"""The labelled synthetic fleet of the rules benchmark (pure Python, no envwatch
imports, so the SaQC side can build the very same fleet in its own venv).

Each device has one pollutant at 1-minute resolution over ``minutes`` minutes
with a daily cycle and noise; most devices get one fault at a known place.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

PATTERNS = ("constant", "zeros", "negative", "gap", "spike")
# Patterns only envwatch's cross-channel rules cover (a fleet of their own, so
# SaQC's fleet stays the five single-channel patterns).
CROSS_PATTERNS = ("marks", "drop")
LIMIT = 200.0
CLEAN_SHARE = 0.2


@dataclass(frozen=True)
class Fault:
    pattern: str
    start: int  # minute index
    length: int


@dataclass(frozen=True)
class Device:
    index: int
    mn: str
    values: list[float | None]  # None: no upload that minute (a gap)
    fault: Fault | None
    flags: dict[int, str]  # by minute, where not "N"


LENGTHS = {"constant": 90, "zeros": 45, "negative": 5, "gap": 90, "spike": 1, "marks": 30,
           "drop": 15}  # fmt: skip


def fault_for(
    index: int, rng: random.Random, minutes: int, patterns: tuple[str, ...]
) -> Fault | None:
    if rng.random() < CLEAN_SHARE:
        return None
    pattern = patterns[index % len(patterns)]
    length = LENGTHS[pattern]
    start = rng.randrange(minutes // 4, minutes - 2 * length - 60)
    return Fault(pattern, start, length)


def device(
    index: int, minutes: int, seed: int = 20261129, patterns: tuple[str, ...] = PATTERNS
) -> Device:
    rng = random.Random(seed * 100_003 + index)
    level = rng.uniform(10.0, 60.0)
    swing = rng.uniform(0.1, 0.3)
    phase = rng.uniform(0, 2 * math.pi)
    values: list[float | None] = [
        round(level * (1 + swing * math.sin(2 * math.pi * m / 1440 + phase))
              * (1 + rng.gauss(0, 0.03)), 3)
        for m in range(minutes)
    ]  # fmt: skip
    fault = fault_for(index, rng, minutes, patterns)
    flags: dict[int, str] = {}
    if fault is not None:
        span = range(fault.start, fault.start + fault.length)
        if fault.pattern == "constant":
            frozen = values[fault.start]
            for m in span:
                values[m] = frozen
        elif fault.pattern == "zeros":
            for m in span:
                values[m] = 0.0
        elif fault.pattern == "negative":
            for m in span:
                values[m] = -round(rng.uniform(0.5, 5.0), 3)
        elif fault.pattern == "gap":
            for m in span:
                values[m] = None
        elif fault.pattern == "spike":
            base = values[fault.start]
            assert base is not None
            values[fault.start] = round(base * rng.uniform(4.0, 6.0), 3)
        elif fault.pattern == "marks":  # calibration marks nobody declared
            for m in span:
                flags[m] = "C"
        elif fault.pattern == "drop":  # near the limit for 5 minutes, then back at once
            for m in range(fault.start, fault.start + 5):
                values[m] = round(LIMIT * rng.uniform(0.85, 0.95), 3)
    return Device(index, f"BENCH{index:019d}", values, fault, flags)


def fleet(devices: int, minutes: int, patterns: tuple[str, ...] = PATTERNS) -> list[Device]:
    return [device(index, minutes, patterns=patterns) for index in range(devices)]


O2_FLUE, O2_AIR = 9.5, 20.6
"""The O2 [%] of a flue, and of air (above rule o2_dilution's threshold)."""


def o2_of(device: Device, minute: int) -> float:
    """An O2 channel for the fleet (the equivalence tests): a flue's, turned
    to air over each fault, so every fault also carries a dilution."""
    fault = device.fault
    if fault is not None and fault.start <= minute < fault.start + fault.length:
        return O2_AIR
    return O2_FLUE
