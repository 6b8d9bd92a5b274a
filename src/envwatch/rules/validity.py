"""Valid hours and days, capture rate and substitution (pure), rules.md §1.2, §1.4.

The thresholds (45 valid minutes, which flags count as valid, the
substitution windows) are parameters from ``rules.toml``, never literals here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Validity(StrEnum):
    VALID = "valid"
    INVALID = "invalid"  # too few valid minutes: feeds substitution, not judgement
    STOPPED = "stopped"  # the source was declared stopped (F) for most of the period


@dataclass(frozen=True, slots=True)
class Sample:
    """One value of a factor over ``minutes`` minutes (1 for minute data, 10 for
    10-minute 2051 data, 0.5 for 30 s real-time data)."""

    time: datetime
    value: float | None
    flag: str | None
    minutes: float = 1.0


def realtime_samples(
    readings: Sequence[tuple[datetime, float | None, str | None]],
    period_end: datetime,
    max_sample_minutes: float,
) -> list[Sample]:
    """Real-time readings (time, value, flag) of one period as samples: each
    covers the time until the next reading (the last until ``period_end``),
    at most ``max_sample_minutes``, so gaps in the data are gaps in the
    coverage HJ 75 counts, however often the logger sends."""
    ordered = sorted(readings, key=lambda reading: reading[0])
    samples = []
    for index, (time, value, flag) in enumerate(ordered):
        until = ordered[index + 1][0] if index + 1 < len(ordered) else period_end
        covered = max(0.0, min((until - time).total_seconds() / 60, max_sample_minutes))
        samples.append(Sample(time, value, flag, covered))
    return samples


@dataclass(frozen=True, slots=True)
class PeriodMean:
    validity: Validity
    mean: float | None
    valid_minutes: float
    samples: int


def period_mean(
    samples: Sequence[Sample],
    *,
    min_valid_minutes: float,
    valid_flags: Collection[str],
    stopped_flags: Collection[str] = ("F",),
) -> PeriodMean:
    """The arithmetic mean of the valid samples of a period (a clock hour), valid
    when they cover at least ``min_valid_minutes``. A missing flag counts as N."""
    valid = [s for s in samples if s.value is not None and (s.flag or "N") in valid_flags]
    valid_minutes = sum(s.minutes for s in valid)
    stopped_minutes = sum(s.minutes for s in samples if (s.flag or "N") in stopped_flags)
    if valid_minutes >= min_valid_minutes:
        mean = sum(s.value for s in valid if s.value is not None) / len(valid)
        return PeriodMean(Validity.VALID, mean, valid_minutes, len(samples))
    if stopped_minutes > valid_minutes and stopped_minutes * 2 >= sum(s.minutes for s in samples):
        return PeriodMean(Validity.STOPPED, None, valid_minutes, len(samples))
    return PeriodMean(Validity.INVALID, None, valid_minutes, len(samples))


def daily_mean(concentrations: Sequence[float], volumes: Sequence[float] | None = None) -> float:
    """The effective daily mean of wastewater (HJ 356): flow-weighted
    (Σ Cᵢ·Qᵢ / Σ Qᵢ, the day's load over its volume) when flows are measured,
    otherwise the arithmetic mean of the valid values."""
    if not concentrations:
        raise ValueError("no valid values")
    if volumes is not None and len(volumes) != len(concentrations):
        raise ValueError("one volume per concentration")
    if volumes is None or sum(volumes) <= 0:
        return sum(concentrations) / len(concentrations)
    return sum(c * q for c, q in zip(concentrations, volumes, strict=True)) / sum(volumes)


def capture_rate(hours: float, stopped_hours: float, invalid_hours: float) -> float | None:
    """Quarterly valid-data capture rate α (季度有效数据捕集率): stopped hours
    leave numerator and denominator. None when the source was stopped throughout."""
    running = hours - stopped_hours
    if running <= 0:
        return None
    return (running - invalid_hours) / running


class InvalidCause(StrEnum):
    """Why an hour is not valid. HJ 75's substitution tells only out-of-control
    hours from the rest; the other causes are recorded for the people who
    review the hours."""

    OUT_OF_CONTROL = "out_of_control"  # 失控: a failed zero/span/comparison check
    MAINTENANCE = "maintenance"  # M
    CALIBRATION = "calibration"  # C
    FAULT = "fault"  # D
    COMMS = "comms"  # B: communication failure
    MANUAL = "manual"  # S: a manually set value
    MISSING = "missing"  # no upload at all for the hour
    NO_VALUE = "no_value"  # an upload without a value of the factor
    TOO_FEW_MINUTES = "too_few_minutes"  # unmarked, but too little valid coverage
    OTHER = "other"  # a flag the cause table does not name


def cause_of(flags: Collection[str | None], causes: Mapping[str, InvalidCause]) -> InvalidCause:
    """The cause of an invalid period from the flags of its invalid samples:
    the most frequent flag the table names (out of control first, whatever
    its count); unmarked samples only: too few valid minutes."""
    named = [causes[flag] for flag in flags if flag is not None and flag in causes]
    if InvalidCause.OUT_OF_CONTROL in named:
        return InvalidCause.OUT_OF_CONTROL
    if named:
        return Counter(named).most_common(1)[0][0]
    if any(flag is not None and flag != "N" for flag in flags):
        return InvalidCause.OTHER
    return InvalidCause.TOO_FEW_MINUTES


def quarter_of(moment: datetime) -> datetime:
    """The start of the calendar quarter containing ``moment`` (HJ 75 counts
    the capture rate per quarter)."""
    return moment.replace(month=(moment.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0,
                          second=0, microsecond=0)  # fmt: skip


def next_quarter(start: datetime) -> datetime:
    """The start of the quarter after the one starting at ``start``."""
    month = start.month + 3
    return start.replace(year=start.year + (month > 12), month=(month - 1) % 12 + 1)


@dataclass(frozen=True, slots=True)
class SubstitutionTable:
    """HJ 75-2017's substitution of invalid hourly emissions [M]: the maximum of
    the last ``window`` valid hourly emissions, chosen by capture rate α and
    the number of consecutive invalid hours."""

    high_rate: float  # α at or above this: the short windows
    low_rate: float  # α below this: not covered, the data are unusable
    short_gap_hours: int  # N at or below this: the shortest window
    short_window: int
    long_window: int
    low_rate_window: int


@dataclass(frozen=True, slots=True)
class Substitution:
    value: float | None
    """The substituted hourly emission; None when the table does not cover the case."""
    window: int | None
    rule: str


def substitute_emission(
    table: SubstitutionTable,
    capture: float,
    consecutive_invalid_hours: int,
    valid_history: Sequence[float],
) -> Substitution:
    """The substitute for one invalid hour's emission. ``valid_history``: the
    valid hourly emissions before the invalid period (or before the last
    calibration, for out-of-control periods), oldest first. The original
    value is kept by the caller; this only says what replaces it and why."""
    if capture < table.low_rate:
        return Substitution(None, None, f"α={capture:.1%} < {table.low_rate:.0%}: unusable")
    if capture >= table.high_rate:
        window = (
            table.short_window
            if consecutive_invalid_hours <= table.short_gap_hours
            else table.long_window
        )
    else:
        window = table.low_rate_window
    recent = valid_history[-window:]
    if not recent:
        return Substitution(None, window, "no valid hours before the gap")
    return Substitution(max(recent), window, f"max of the last {window} valid hours")
