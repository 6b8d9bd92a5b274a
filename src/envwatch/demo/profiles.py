"""What a simulated logger measures: daily profiles and scripted faults (pure).

``sample`` gives the values and data flags of a point's factors at a moment,
from the industry's typical level and daily swing, with noise, and with the
point's fault (if any) applied: the falsification and failure patterns the
rules engine must catch.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

O2_CODE = "a19001"
FLOW_CODES = frozenset({"a00000", "w00000"})
PH_CODE = "w01001"


class FaultKind(StrEnum):
    EXCEEDANCE = "exceedance"  # pollutants at 1.3-1.8x their limit
    CONSTANT = "constant"  # values frozen
    ZEROS = "zeros"  # zeros while running
    PINNED = "pinned"  # just under the limit (92-98 %), suspiciously stable
    O2_DILUTION = "o2_dilution"  # air blown in: O2 near 19 %, raw concentrations low
    FLAG_ABUSE = "flag_abuse"  # exceedance hidden under M/C/D flags
    OFFLINE = "offline"  # no connection
    RESEND = "resend"  # every frame sent twice
    GARBAGE = "garbage"  # noise bytes between frames
    UNDECLARED_MARKS = "undeclared_marks"  # calibration marks with no maintenance declared
    PARAMETER_CHANGE = "parameter_change"  # the analysers' slope turned down in secret
    TREATMENT_OFF = "treatment_off"  # a treatment circuit idles while production runs


# Faults of pollutant loggers; TREATMENT_OFF belongs to treatment meters.
LOGGER_FAULTS = tuple(kind for kind in FaultKind if kind is not FaultKind.TREATMENT_OFF)


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    start: datetime
    end: datetime | None = None

    def active(self, when: datetime) -> bool:
        return self.start <= when and (self.end is None or when < self.end)


@dataclass(frozen=True, slots=True)
class Reading:
    value: float
    flag: str = "N"


def daily_level(mean: float, swing: float, when: datetime) -> float:
    """The typical value at ``when``: lowest before dawn, highest in the afternoon."""
    hours = when.hour + when.minute / 60
    return mean * (1 + swing * math.sin(2 * math.pi * (hours - 9) / 24))


def sample(
    factors: dict[str, tuple[float, float]],
    limits: dict[str, float],
    when: datetime,
    rng: random.Random,
    *,
    fault: Fault | None = None,
    frozen: dict[str, Reading] | None = None,
    reference_o2: float | None = None,
) -> dict[str, Reading]:
    """The readings of ``factors`` (code -> (level, swing)) at ``when``.

    ``limits`` are the permit limits by code (at ``reference_o2``, if given:
    faults aim at the O2-corrected value, as a falsifier would); ``frozen`` is
    what a CONSTANT fault keeps repeating (filled on first use).
    """
    kind = fault.kind if fault is not None and fault.active(when) else None
    if kind is FaultKind.CONSTANT and frozen:
        return dict(frozen)
    readings: dict[str, Reading] = {}
    for code, (mean, swing) in factors.items():
        value = daily_level(mean, swing, when) * rng.uniform(0.95, 1.05)
        if code == PH_CODE:
            value = mean + rng.uniform(-0.15, 0.15)
        readings[code] = Reading(round(value, 3))
    if kind is None:
        return readings
    if kind is FaultKind.CONSTANT:
        assert frozen is not None
        frozen.update(readings)
        return readings
    polluting = [code for code in readings if code in limits]
    o2 = readings.get(O2_CODE)
    # Measured value per corrected value: the falsifier aims at what is judged.
    to_measured = (
        (21 - o2.value) / (21 - reference_o2)
        if reference_o2 is not None and o2 is not None and o2.value < _SIMULATED_O2_CEILING
        else 1.0
    )
    if kind is FaultKind.EXCEEDANCE or kind is FaultKind.FLAG_ABUSE:
        flag = rng.choice("MCD") if kind is FaultKind.FLAG_ABUSE else "N"
        for code in polluting:
            value = limits[code] * rng.uniform(1.3, 1.8) * to_measured
            readings[code] = Reading(round(value, 3), flag)
    elif kind is FaultKind.UNDECLARED_MARKS:
        for code, reading in readings.items():
            readings[code] = Reading(reading.value, "C")
    elif kind is FaultKind.PARAMETER_CHANGE:
        for code in polluting:
            readings[code] = Reading(round(readings[code].value * TAMPERED_SLOPE, 3))
    elif kind is FaultKind.ZEROS:
        for code in polluting:
            readings[code] = Reading(0.0)
    elif kind is FaultKind.PINNED:
        for code in polluting:
            value = limits[code] * rng.uniform(0.92, 0.98) * to_measured
            readings[code] = Reading(round(value, 3))
    elif kind is FaultKind.O2_DILUTION and O2_CODE in readings:
        diluted_o2 = rng.uniform(18.5, 19.5)
        dilution = (21 - diluted_o2) / (21 - readings[O2_CODE].value)
        readings[O2_CODE] = Reading(round(diluted_o2, 2))
        for code in polluting:
            readings[code] = Reading(round(readings[code].value * dilution, 3))
    return readings


# An analyser's slope (HJ 212 i13008) as installed, and as a PARAMETER_CHANGE
# fault turns it down: every reading falls by the same share.
INSTALLED_SLOPE = 1.0
TAMPERED_SLOPE = 0.8


def analyser_slope(when: datetime, fault: Fault | None) -> float:
    tampered = fault is not None and fault.kind is FaultKind.PARAMETER_CHANGE and fault.active(when)
    return TAMPERED_SLOPE if tampered else INSTALLED_SLOPE


# Above this O2 [%] a simulated logger reports no corrected value, as the
# correction factor explodes near 21 %. (The rules engine has its own setting.)
_SIMULATED_O2_CEILING = 20.0


def o2_corrected(value: float, o2: float, reference_o2: float) -> float | None:
    """The concentration at the reference O2 [same unit]; None near 21 % O2."""
    if o2 >= _SIMULATED_O2_CEILING:
        return None
    return value * (21 - reference_o2) / (21 - o2)


@dataclass(frozen=True, slots=True)
class MeterProfile:
    """An electricity meter as the simulator drives it."""

    kind: str  # production, treatment or total
    rated_kw: float
    shift: tuple[int, int]
    """The enterprise's production hours [first, end) of each day."""


def producing(shift: tuple[int, int], when: datetime) -> bool:
    first, end = shift
    return first <= when.hour < end


# Share of rated power drawn by a simulated circuit: while production runs,
# when it stands still, and by a treatment circuit switched off (or idling).
_RUNNING_LOAD = {"production": (0.65, 0.85), "treatment": (0.55, 0.75), "total": (0.6, 0.8)}
_STANDSTILL_LOAD = (0.02, 0.05)
_TREATMENT_OFF_LOAD = (0.0, 0.01)
# A three-phase 380 V circuit at power factor 0.9: I = P / (sqrt(3) * U * cos phi).
_LINE_VOLTAGE_KV = 0.38
_POWER_FACTOR = 0.9


def meter_power(
    meter: MeterProfile, when: datetime, rng: random.Random, fault: Fault | None = None
) -> float:
    """The power [kW] a circuit draws at ``when``."""
    running = producing(meter.shift, when)
    low, high = (
        _RUNNING_LOAD.get(meter.kind, _RUNNING_LOAD["total"]) if running else (_STANDSTILL_LOAD)
    )
    if (
        running
        and meter.kind == "treatment"
        and fault is not None
        and fault.kind is FaultKind.TREATMENT_OFF
        and fault.active(when)
    ):
        low, high = _TREATMENT_OFF_LOAD
    return round(meter.rated_kw * rng.uniform(low, high), 2)


def line_current(power_kw: float) -> float:
    """The current [A] of a three-phase circuit drawing ``power_kw``."""
    return round(power_kw / (math.sqrt(3) * _LINE_VOLTAGE_KV * _POWER_FACTOR), 2)
