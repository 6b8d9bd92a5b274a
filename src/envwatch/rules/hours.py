"""A device's hours of one pollutant as HJ 75 counts them (pure): the hour
the logger uploaded (2061) or, where it sent none, the hour computed from its
minute data (2051, valid with enough valid minutes) or, where it sent neither,
from its real-time data (2011, each reading covering the time to the next,
valid with enough coverage); an hour with no upload at all, inside the span
asked for, is invalid with cause ``missing``; the O2-corrected mean;
the hour's emission [kg] from the flow, in the units of the code table
(``rules/units.py``); and, for an invalid hour of a substituted pollutant,
the HJ 75 substitute beside the original, never instead of it, chosen by the
capture rate of the hour's calendar quarter and the cause of the gap."""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from envwatch.rules.model import O2_CODE, Period, Upload, Values
from envwatch.rules.o2 import o2_corrected
from envwatch.rules.parameters import RuleSet
from envwatch.rules.units import (
    Accounting,
    CubicMetres,
    Flow,
    Kilograms,
    accounting_of,
    period_volume,
)
from envwatch.rules.validity import (
    InvalidCause,
    Sample,
    Validity,
    capture_rate,
    cause_of,
    next_quarter,
    period_mean,
    quarter_of,
    realtime_samples,
    substitute_emission,
)

REALTIME = "2011"
MINUTE_DATA = "2051"
HOURLY = "2061"
NO_DATA = "none"
SECONDS_PER_HOUR = 3600
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Hour:
    start: datetime
    source: str  # uploaded (2061) / computed (from 2051) / realtime (from 2011) / none
    validity: Validity
    mean: float | None
    """The measured hourly mean [the factor's unit] (None when the hour is not valid)."""
    o2: float | None
    corrected: float | None
    volume_m3: CubicMetres | None
    emission_kg: Kilograms | None
    substituted_kg: Kilograms | None = None
    substitution: str | None = None
    cause: InvalidCause | None = None
    """Why the hour is invalid (None when it is not)."""


def _hour_of(moment: datetime) -> datetime:
    if not (moment.minute or moment.second or moment.microsecond):
        return moment  # already on the hour (hourly data): no new object
    return moment.replace(minute=0, second=0, microsecond=0)


def _hour_volume(
    uploads: Sequence[Upload], accounting: Accounting | None, seconds_each: float
) -> CubicMetres | None:
    """The volume [m³] through the outlet in the hour, from the flow that
    carries the pollutant (flue gas for air, wastewater for water)."""
    if accounting is None:
        return None
    flows = [values for u in uploads if (values := u.values.get(accounting.flow.code)) is not None]
    return period_volume(flows, accounting.flow, seconds_each, SECONDS_PER_HOUR)


def _one_volume(values: Values | None, flow: Flow) -> CubicMetres | None:
    """``period_volume`` of one hourly record over its hour, without its lists."""
    if values is None:
        return None
    if values.cou is not None:
        rate = flow.m3(values.cou) / SECONDS_PER_HOUR
    elif values.level is not None:
        rate = flow.m3_per_second(values.level)
    else:
        return None
    # As sum([rate]) / 1 * seconds: the sum starts at 0 (so -0.0 becomes 0.0).
    return CubicMetres((0 + rate) * SECONDS_PER_HOUR)


def _emission(
    accounting: Accounting | None, mean: float | None, volume: CubicMetres | None
) -> Kilograms | None:
    return None if accounting is None else accounting.emission(mean, volume)


def hours_of(
    uploads: Sequence[Upload],
    pollutant: str,
    rules: RuleSet,
    *,
    reference_o2: float | None = None,
    minute_interval: float = 10.0,
    since: datetime | None = None,
    until: datetime | None = None,
    out_of_control: Sequence[Period] = (),
) -> list[Hour]:
    """The hours of ``pollutant`` in ``uploads`` (one device's 2011, 2051 and
    2061), in order. With ``since`` and ``until``: every clock hour of
    [since, until) too, those without any upload invalid with cause ``missing``.
    Hours starting in an ``out_of_control`` period (失控: from the last
    passing calibration to the failed check) are invalid whatever their flags."""
    uploaded = {_hour_of(u.data_time): u for u in uploads if u.cn == HOURLY}
    minutes: dict[datetime, list[Upload]] = {}
    realtime: dict[datetime, list[Upload]] = {}
    for upload in uploads:
        if upload.cn == MINUTE_DATA:
            minutes.setdefault(_hour_of(upload.data_time), []).append(upload)
        elif upload.cn == REALTIME:
            realtime.setdefault(_hour_of(upload.data_time), []).append(upload)
    max_sample = rules.for_point("exceedance").realtime_max_sample_minutes  # type: ignore[attr-defined]
    accounting = accounting_of(pollutant)
    starts = set(uploaded) | set(minutes) | set(realtime)
    if since is not None and until is not None:
        hour = _hour_of(since) + (HOUR if _hour_of(since) < since else timedelta(0))
        while hour < until:
            starts.add(hour)
            hour += HOUR
    hours = []
    for start in sorted(starts):
        if start in uploaded:
            hour_ = _uploaded(uploaded[start], start, pollutant, rules, accounting,
                              reference_o2=reference_o2)  # fmt: skip
        elif start in minutes:
            hour_ = _computed(minutes[start], start, pollutant, rules, accounting,
                              reference_o2=reference_o2,
                              minute_interval=minute_interval)  # fmt: skip
        elif start in realtime:
            hour_ = _from_realtime(realtime[start], start, pollutant, rules, accounting,
                                   reference_o2=reference_o2, max_sample=max_sample)  # fmt: skip
        else:
            hour_ = Hour(start, NO_DATA, Validity.INVALID, None, None, None, None, None,
                         cause=InvalidCause.MISSING)  # fmt: skip
        if (
            out_of_control
            and hour_.validity is not Validity.STOPPED
            and any(p.covers(start) for p in out_of_control)
        ):
            hour_ = replace(hour_, validity=Validity.INVALID, mean=None, corrected=None,
                            emission_kg=None, cause=InvalidCause.OUT_OF_CONTROL)  # fmt: skip
        hours.append(hour_)
    return hours


def hours_without_own_data(
    uploads: Sequence[Upload], since: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    """The runs of clock hours in [since, until) with no 2051 or 2061 upload:
    where a device's hours must come from its real-time data."""
    covered = {_hour_of(u.data_time) for u in uploads if u.cn in (MINUTE_DATA, HOURLY)}
    runs: list[tuple[datetime, datetime]] = []
    hour = _hour_of(since)
    while hour < until:
        following = hour + timedelta(hours=1)
        if hour not in covered:
            if runs and runs[-1][1] == hour:
                runs[-1] = (runs[-1][0], following)
            else:
                runs.append((hour, following))
        hour = following
    return runs


def _corrected(
    mean: float | None, o2: float | None, reference_o2: float | None, rules: RuleSet
) -> float | None:
    if mean is None or o2 is None or reference_o2 is None:
        return mean if reference_o2 is None else None
    return o2_corrected(mean, o2, reference_o2, rules.validity.o2_ceiling_percent)


def _uploaded(
    upload: Upload,
    start: datetime,
    pollutant: str,
    rules: RuleSet,
    accounting: Accounting | None,
    *,
    reference_o2: float | None,
) -> Hour:
    values = upload.values.get(pollutant)
    flag = (values.flag if values else None) or "N"
    level = None if values is None else values.level
    cause = None
    if level is None:
        validity, cause = Validity.INVALID, InvalidCause.NO_VALUE
    elif flag in rules.validity.valid_flags:
        validity = Validity.VALID
    elif flag == "F":
        validity = Validity.STOPPED
    else:
        validity = Validity.INVALID
        cause = cause_of([flag], rules.validity.invalid_causes)
    mean = level if validity is Validity.VALID else None
    o2_values = upload.values.get(O2_CODE)
    o2 = o2_values.level if o2_values is not None else None
    if accounting is None:
        volume = None
    else:  # _hour_volume of the one upload, without building its list
        volume = _one_volume(upload.values.get(accounting.flow.code), accounting.flow)
    corrected = _corrected(mean, o2, reference_o2, rules)
    return Hour(start, "uploaded", validity, mean, o2, corrected, volume,
                _emission(accounting, mean, volume), cause=cause)  # fmt: skip


def _invalid_cause(
    samples: Sequence[Sample], validity: Validity, rules: RuleSet
) -> InvalidCause | None:
    if validity is not Validity.INVALID:
        return None
    if not any(s.value is not None for s in samples) and all(
        s.flag in (None, "N") for s in samples
    ):
        return InvalidCause.NO_VALUE
    invalid = [s.flag for s in samples if (s.flag or "N") not in rules.validity.valid_flags]
    return cause_of(invalid, rules.validity.invalid_causes)


def _computed(
    records: Sequence[Upload],
    start: datetime,
    pollutant: str,
    rules: RuleSet,
    accounting: Accounting | None,
    *,
    reference_o2: float | None,
    minute_interval: float,
) -> Hour:
    samples = [
        Sample(r.data_time, r.values[pollutant].level, r.values[pollutant].flag, minute_interval)
        for r in records
        if pollutant in r.values
    ]
    hour = period_mean(samples, min_valid_minutes=rules.validity.min_valid_minutes,
                       valid_flags=rules.validity.valid_flags)  # fmt: skip
    o2_levels = [o2 for r in records if O2_CODE in r.values
                 and (o2 := r.values[O2_CODE].level) is not None]  # fmt: skip
    o2 = statistics.fmean(o2_levels) if o2_levels else None
    volume = _hour_volume(records, accounting, minute_interval * 60)
    mean = hour.mean if hour.validity is Validity.VALID else None
    corrected = _corrected(mean, o2, reference_o2, rules)
    return Hour(start, "computed", hour.validity, mean, o2, corrected, volume,
                _emission(accounting, mean, volume),
                cause=_invalid_cause(samples, hour.validity, rules))  # fmt: skip


def _from_realtime(
    records: Sequence[Upload],
    start: datetime,
    pollutant: str,
    rules: RuleSet,
    accounting: Accounting | None,
    *,
    reference_o2: float | None,
    max_sample: float,
) -> Hour:
    end = start + HOUR
    readings = [(r.data_time, r.values[pollutant].rtd, r.values[pollutant].flag)
                for r in records if pollutant in r.values]  # fmt: skip
    samples = realtime_samples(readings, end, max_sample)
    hour = period_mean(samples, min_valid_minutes=rules.validity.min_valid_minutes,
                       valid_flags=rules.validity.valid_flags)  # fmt: skip
    o2_levels = [o2 for r in records if O2_CODE in r.values
                 and (o2 := r.values[O2_CODE].rtd) is not None]  # fmt: skip
    o2 = statistics.fmean(o2_levels) if o2_levels else None
    # Real-time flow is a rate (no Cou): the mean rate times the hour.
    volume = _hour_volume(records, accounting, SECONDS_PER_HOUR)
    mean = hour.mean if hour.validity is Validity.VALID else None
    corrected = _corrected(mean, o2, reference_o2, rules)
    return Hour(start, "realtime", hour.validity, mean, o2, corrected, volume,
                _emission(accounting, mean, volume),
                cause=_invalid_cause(samples, hour.validity, rules))  # fmt: skip


def quarterly_capture(hours: Sequence[Hour]) -> dict[datetime, float | None]:
    """The capture rate α of each calendar quarter the hours fall in (HJ 75):
    stopped hours leave numerator and denominator, every other invalid hour,
    absent ones included, counts against it. The hours should be all the
    quarter's hours (``hours_of`` with ``since`` and ``until``)."""
    counts: dict[datetime, list[int]] = {}
    for hour in hours:
        count = counts.setdefault(quarter_of(hour.start), [0, 0, 0])
        count[0] += 1
        count[1] += hour.validity is Validity.STOPPED
        count[2] += hour.validity is Validity.INVALID
    return {quarter: capture_rate(*count) for quarter, count in counts.items()}


def _look_back_from(
    hours: Sequence[Hour], first: int, out_of_control: Sequence[Period]
) -> datetime:
    """Where the valid history of the gap starting at ``hours[first]`` ends:
    for maintenance and other causes, the gap's start; out of control, the
    last passing calibration: the start of its declared period, else the
    last calibration-marked hour before the gap."""
    start = hours[first].start
    if hours[first].cause is not InvalidCause.OUT_OF_CONTROL:
        return start
    period = next((p for p in out_of_control if p.covers(start)), None)
    if period is not None:
        return min(period.start, start)
    for hour in reversed(hours[:first]):
        if hour.cause is InvalidCause.CALIBRATION:
            return hour.start
    return start


def with_substitutes(
    hours: Sequence[Hour],
    pollutant: str,
    rules: RuleSet,
    *,
    out_of_control: Sequence[Period] = (),
    keep: tuple[datetime, datetime] | None = None,
) -> list[Hour]:
    """``hours`` with HJ 75 substitutes for the emissions of invalid hours (of
    the substituted pollutants): α from each hour's calendar quarter, N the
    length of its run of invalid hours of the same kind (out of control or
    not), the look-back over every valid hour given before the gap (or before
    the last calibration). Give the device's history with the hours (the
    quarters and the look-back), then keep the hours wanted: with ``keep``
    only those starting in [keep[0], keep[1]), and only their substitutes
    computed (the same hours as filtering the whole result)."""
    first, last = 0, len(hours)
    if keep is not None:
        first = bisect.bisect_left(hours, keep[0], key=_start)
        last = bisect.bisect_left(hours, keep[1], lo=first, key=_start)
    if pollutant not in rules.substitution.pollutants:
        return list(hours[first:last])
    if first >= last:
        return []
    if keep is None:
        capture = quarterly_capture(hours)
    else:  # the kept hours' quarters, from all their hours given
        quarters = quarter_of(hours[first].start), next_quarter(quarter_of(hours[last - 1].start))
        low = bisect.bisect_left(hours, quarters[0], key=_start)
        high = bisect.bisect_left(hours, quarters[1], lo=low, key=_start)
        capture = quarterly_capture(hours[low:high])
    table = rules.substitution.table()
    longest = max(table.short_window, table.long_window, table.low_rate_window)
    valid = [(h.start, h.emission_kg) for h in hours[:last]
             if h.validity is Validity.VALID and h.emission_kg is not None]  # fmt: skip
    valid_starts = [start for start, _ in valid]
    emissions = [emission for _, emission in valid]
    result: list[Hour] = []
    index = first
    # A run of invalid hours reaching into the kept ones from before: from its start.
    while index > 0 and _same_gap(hours[index - 1], hours[index]):
        index -= 1
    while index < last:
        hour = hours[index]
        if hour.validity is not Validity.INVALID:
            result.append(hour)
            index += 1
            continue
        uncontrolled = hour.cause is InvalidCause.OUT_OF_CONTROL
        end = index
        while (
            end < len(hours)
            and hours[end].validity is Validity.INVALID
            and (hours[end].cause is InvalidCause.OUT_OF_CONTROL) == uncontrolled
        ):
            end += 1
        before = bisect.bisect_left(valid_starts, _look_back_from(hours, index, out_of_control))
        # Only the longest window's worth is ever looked at: a slice, not a copy of all.
        history = emissions[max(0, before - longest) : before]
        for gap in hours[max(index, first) : min(end, last)]:
            alpha = capture.get(quarter_of(gap.start))
            substitute = substitute_emission(table, alpha or 0.0, end - index, history)
            value = None if substitute.value is None else Kilograms(substitute.value)
            rule = (
                f"{substitute.rule} before the last calibration (失控)"
                if uncontrolled
                else substitute.rule
            )
            result.append(replace(gap, substituted_kg=value, substitution=rule))
        index = end
    return result


def _start(hour: Hour) -> datetime:
    return hour.start


def _same_gap(before: Hour, hour: Hour) -> bool:
    """Whether ``before`` and ``hour`` are of one run of invalid hours."""
    return (
        before.validity is Validity.INVALID
        and hour.validity is Validity.INVALID
        and (before.cause is InvalidCause.OUT_OF_CONTROL)
        == (hour.cause is InvalidCause.OUT_OF_CONTROL)
    )
