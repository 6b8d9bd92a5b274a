"""A device's hours of one pollutant as HJ 75 counts them (pure): the hour
the logger uploaded (2061) or, where it sent none, the hour computed from its
minute data (2051, valid with enough valid minutes) or, where it sent neither,
from its real-time data (2011, each reading covering the time to the next,
valid with enough coverage); the O2-corrected mean;
the hour's emission from the flow; and, for an invalid hour of a substituted
pollutant, the HJ 75 substitute beside the original, never instead of it."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from envwatch.rules.model import FLUE_GAS_FLOW_CODE, O2_CODE, WATER_FLOW_CODE, Upload
from envwatch.rules.o2 import o2_corrected
from envwatch.rules.parameters import RuleSet
from envwatch.rules.validity import (
    Sample,
    Validity,
    capture_rate,
    period_mean,
    realtime_samples,
    substitute_emission,
)

REALTIME = "2011"
MINUTE_DATA = "2051"
HOURLY = "2061"
SECONDS_PER_HOUR = 3600
KG_PER_MG = 1e-6


@dataclass(frozen=True, slots=True)
class Hour:
    start: datetime
    source: str  # uploaded (2061) / computed (from 2051) / realtime (computed from 2011)
    validity: Validity
    mean: float | None
    """The measured hourly mean (None when the hour is not valid)."""
    o2: float | None
    corrected: float | None
    volume_m3: float | None
    emission_kg: float | None
    substituted_kg: float | None = None
    substitution: str | None = None


def _hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _hour_volume(uploads: Sequence[Upload], seconds_each: float) -> float | None:
    """m³ through the outlet in the hour: the mean flow rate of the uploads (each
    one's Cou over its period, else its flow) times an hour."""
    for code in (FLUE_GAS_FLOW_CODE, WATER_FLOW_CODE):
        rates = [
            flow.cou / seconds_each if flow.cou is not None else flow.level
            for u in uploads
            if (flow := u.values.get(code)) is not None
        ]
        known = [rate for rate in rates if rate is not None]
        if known:
            return statistics.fmean(known) * SECONDS_PER_HOUR
    return None


def _emission(mean: float | None, volume: float | None) -> float | None:
    return None if mean is None or volume is None else mean * volume * KG_PER_MG


def hours_of(
    uploads: Sequence[Upload],
    pollutant: str,
    rules: RuleSet,
    *,
    reference_o2: float | None = None,
    minute_interval: float = 10.0,
) -> list[Hour]:
    """The hours of ``pollutant`` in ``uploads`` (one device's 2011, 2051 and
    2061), in order."""
    uploaded = {_hour_of(u.data_time): u for u in uploads if u.cn == HOURLY}
    minutes: dict[datetime, list[Upload]] = {}
    realtime: dict[datetime, list[Upload]] = {}
    for upload in uploads:
        if upload.cn == MINUTE_DATA:
            minutes.setdefault(_hour_of(upload.data_time), []).append(upload)
        elif upload.cn == REALTIME:
            realtime.setdefault(_hour_of(upload.data_time), []).append(upload)
    max_sample = rules.for_point("exceedance").realtime_max_sample_minutes  # type: ignore[attr-defined]
    hours = []
    for start in sorted(set(uploaded) | set(minutes) | set(realtime)):
        if start in uploaded:
            hours.append(_uploaded(uploaded[start], start, pollutant, rules, reference_o2))
        elif start in minutes:
            hours.append(
                _computed(minutes[start], start, pollutant, rules,
                          reference_o2=reference_o2, minute_interval=minute_interval)
            )  # fmt: skip
        else:
            hours.append(_from_realtime(realtime[start], start, pollutant, rules,
                                        reference_o2=reference_o2,
                                        max_sample=max_sample))  # fmt: skip
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
    upload: Upload, start: datetime, pollutant: str, rules: RuleSet, reference_o2: float | None
) -> Hour:
    values = upload.values.get(pollutant)
    flag = (values.flag if values else None) or "N"
    if values is None or values.level is None:
        validity = Validity.INVALID
    elif flag in rules.validity.valid_flags:
        validity = Validity.VALID
    elif flag == "F":
        validity = Validity.STOPPED
    else:
        validity = Validity.INVALID
    mean = values.level if values is not None and validity is Validity.VALID else None
    o2_values = upload.values.get(O2_CODE)
    o2 = o2_values.level if o2_values is not None else None
    volume = _hour_volume([upload], SECONDS_PER_HOUR)
    corrected = _corrected(mean, o2, reference_o2, rules)
    return Hour(start, "uploaded", validity, mean, o2, corrected, volume, _emission(mean, volume))


def _computed(
    records: Sequence[Upload],
    start: datetime,
    pollutant: str,
    rules: RuleSet,
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
    volume = _hour_volume(records, minute_interval * 60)
    mean = hour.mean if hour.validity is Validity.VALID else None
    corrected = _corrected(mean, o2, reference_o2, rules)
    return Hour(start, "computed", hour.validity, mean, o2, corrected, volume,
                _emission(mean, volume))  # fmt: skip


def _from_realtime(
    records: Sequence[Upload],
    start: datetime,
    pollutant: str,
    rules: RuleSet,
    *,
    reference_o2: float | None,
    max_sample: float,
) -> Hour:
    end = start + timedelta(hours=1)
    readings = [(r.data_time, r.values[pollutant].rtd, r.values[pollutant].flag)
                for r in records if pollutant in r.values]  # fmt: skip
    samples = realtime_samples(readings, end, max_sample)
    hour = period_mean(samples, min_valid_minutes=rules.validity.min_valid_minutes,
                       valid_flags=rules.validity.valid_flags)  # fmt: skip
    o2_levels = [o2 for r in records if O2_CODE in r.values
                 and (o2 := r.values[O2_CODE].rtd) is not None]  # fmt: skip
    o2 = statistics.fmean(o2_levels) if o2_levels else None
    volume = _hour_volume(records, SECONDS_PER_HOUR)  # real-time flow: a rate, no Cou
    mean = hour.mean if hour.validity is Validity.VALID else None
    corrected = _corrected(mean, o2, reference_o2, rules)
    return Hour(start, "realtime", hour.validity, mean, o2, corrected, volume,
                _emission(mean, volume))  # fmt: skip


def with_substitutes(hours: Sequence[Hour], pollutant: str, rules: RuleSet) -> list[Hour]:
    """``hours`` with HJ 75 substitutes for the emissions of invalid hours (of the
    substituted pollutants), the capture rate taken over ``hours``."""
    if pollutant not in rules.substitution.pollutants:
        return list(hours)
    stopped = sum(1 for h in hours if h.validity is Validity.STOPPED)
    invalid = sum(1 for h in hours if h.validity is Validity.INVALID)
    capture = capture_rate(len(hours), stopped, invalid)
    table = rules.substitution.table()
    result: list[Hour] = []
    history: list[float] = []
    index = 0
    while index < len(hours):
        hour = hours[index]
        if hour.validity is not Validity.INVALID:
            if hour.emission_kg is not None:
                history.append(hour.emission_kg)
            result.append(hour)
            index += 1
            continue
        end = index
        while end < len(hours) and hours[end].validity is Validity.INVALID:
            end += 1
        substitute = substitute_emission(table, capture or 0.0, end - index, history)
        for gap in hours[index:end]:
            result.append(replace(gap, substituted_kg=substitute.value,
                                  substitution=substitute.rule))  # fmt: skip
        index = end
    return result
