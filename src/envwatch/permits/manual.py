"""Manual monitoring results (手工监测) in the permit accounting (pure),
rules.md §5.1: the method order is certified automatic data, then compliant
manual monitoring, then coefficients; an item the permit requires to be
monitored automatically but that no device monitors is direct discharge
(按直排核算), which a manual result does not replace.

So a manual result of an outlet and pollutant fills:

* an item without automatic monitoring (the self-monitoring plan marks it
  manual, or it is not in the plan): every hour it represents;
* an item a device monitors: only the hours the automatic data leave
  unaccounted (method ``missing``: invalid and not substituted per HJ 75,
  capture rate below 75 %, or a valid hour without flow), never a measured
  or substituted hour.

A result represents the hours from its sampling start to the next result's
(of the same outlet and pollutant), at most the interval its plan frequency
gives (4/year: a quarter of 8760 hours) or, for an automatic item or one
outside the plan, ``[manual] coverage_hours`` of ``permits.toml``; never an
hour in which the outlet stopped (a device there says ``F``), nor one not
yet begun. The hour's volume is the device's flow of that hour where one
measures it, else the flow measured with the sample (or the sample's volume
over its period), else the plan's design flow; without any the hour is not
accounted.

Units: the concentration as the laboratory reports it (``mg/m³``, ``µg/m³``,
``mg/L``, ``µg/L``; ASCII spellings ``mg/m3``, ``ug/m3``, ``mg/l`` too) is
converted to the pollutant's unit (``rules/units.py``), so 20 mg/m³ in
500 000 m³ is 10 kg, and 30 mg/L in 100 m³ is 3 kg."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from envwatch.permits.accounting import EmissionHour, Method
from envwatch.rules.units import KG_PER_M3_AT_UNIT_CONCENTRATION, CubicMetres, accounting_of

HOUR = timedelta(hours=1)
HOURS_PER_YEAR = 8760
PERIODS_PER_YEAR = {"hour": 8760, "day": 365, "week": 52, "month": 12, "quarter": 4,
                    "halfyear": 2, "year": 1}  # fmt: skip
"""The plan frequencies' periods (``importing.FREQUENCY_PATTERN``)."""

UNIT_SPELLINGS = {
    "mg/m3": "mg/m³", "mg/nm3": "mg/m³", "mg/nm³": "mg/m³",
    "ug/m3": "µg/m³", "μg/m3": "µg/m³", "μg/m³": "µg/m³", "µg/m3": "µg/m³", "ug/m³": "µg/m³",
    "mg/l": "mg/L", "ug/l": "µg/L", "μg/l": "µg/L", "µg/l": "µg/L",
}  # fmt: skip
"""Spellings laboratories and spreadsheets use, to the units of ``rules/units.py``."""


def manual_device(outlet_id: int) -> str:
    """The pseudo-device of an outlet's manual results in ``hourly_emission``."""
    return f"manual:{outlet_id}"


def unit_of(text: str) -> str | None:
    """``text`` as a concentration unit of ``rules/units.py``; None if unknown."""
    stripped = text.strip()
    if stripped in KG_PER_M3_AT_UNIT_CONCENTRATION:
        return stripped
    return UNIT_SPELLINGS.get(stripped.lower())


def in_pollutant_unit(pollutant: str, value: float, unit: str) -> float:
    """``value`` [unit] in the pollutant's own concentration unit; ValueError
    if the pollutant has no mass emission or the unit does not fit its medium."""
    accounting = accounting_of(pollutant)
    if accounting is None:
        raise ValueError(f"{pollutant} has no mass emission to account")
    known = unit_of(unit)
    target = accounting.concentration_unit
    if known is None or known.split("/")[1] != target.split("/")[1]:
        raise ValueError(f"unit {unit!r} does not fit {pollutant} (its unit is {target})")
    return value * KG_PER_M3_AT_UNIT_CONCENTRATION[known] / KG_PER_M3_AT_UNIT_CONCENTRATION[target]


def sample_flow(
    flow_m3h: float | None, volume_m3: float | None, sampled_from: datetime,
    sampled_to: datetime | None,
) -> float | None:  # fmt: skip
    """The sample's flow [m³/h]: as measured, else its volume over its period."""
    if flow_m3h is not None:
        return flow_m3h
    if volume_m3 is not None and sampled_to is not None and sampled_to > sampled_from:
        return volume_m3 / ((sampled_to - sampled_from) / HOUR)
    return None


def frequency_hours(frequency: str | None) -> int | None:
    """The hours between two results a plan frequency asks for (4/year: 2190);
    None for ``continuous``, no frequency or an unknown one."""
    match = None if frequency is None else re.fullmatch(r"(\d+)/(\w+)", frequency)
    if match is None or match[2] not in PERIODS_PER_YEAR or int(match[1]) == 0:
        return None
    return -(-HOURS_PER_YEAR // (int(match[1]) * PERIODS_PER_YEAR[match[2]]))


@dataclass(frozen=True, slots=True)
class Sample:
    """A manual result as the accounting uses it."""

    sampled_from: datetime
    concentration: float
    """[the pollutant's unit] (``in_pollutant_unit``)."""
    flow_m3h: float | None
    """[m³/h] ``sample_flow``."""
    report: str


@dataclass(frozen=True, slots=True)
class Window:
    """The hours [start, end) a sample represents."""

    sample: Sample
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class OutletHour:
    """What the automatic data say of one hour at the outlet."""

    method: str | None
    """The method of the pollutant's device row (None: no device row)."""
    stopped: bool
    """A device at the outlet says the source stopped (F)."""
    flow_m3: float | None
    """[m³] the volume a device measured in the hour."""


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def windows(samples: Sequence[Sample], coverage_hours: int, until: datetime) -> list[Window]:
    """Each sample's hours: from its sampling hour to the next sample's, at most
    ``coverage_hours``, never from ``until`` (the current hour) on."""
    ordered = sorted(samples, key=lambda s: s.sampled_from)
    found = []
    for index, sample in enumerate(ordered):
        start = _hour(sample.sampled_from)
        end = min(start + coverage_hours * HOUR, _hour(until))
        if index + 1 < len(ordered):
            end = min(end, _hour(ordered[index + 1].sampled_from))
        if end > start:
            found.append(Window(sample, start, end))
    return found


def manual_hours(
    outlet_id: int,
    pollutant: str,
    window: Window,
    *,
    automatic: bool,
    outlet_hours: Mapping[datetime, OutletHour],
    design_flow_m3h: float | None,
) -> list[EmissionHour]:
    """The hours of ``window`` its sample accounts: every hour of an item no
    device monitors (``automatic`` False), else only the device's ``missing``
    hours; never a stopped hour; each with the volume the module names."""
    accounting = accounting_of(pollutant)
    if accounting is None:
        return []
    sample = window.sample
    rule = f"手工监测（报告{sample.report}，采样{sample.sampled_from:%Y-%m-%d %H:%M}）"
    if automatic:
        rule += "：补自动监测无效时段"
    hours = []
    start = window.start
    while start < window.end:
        known = outlet_hours.get(start)
        hour, start = start, start + HOUR
        if known is not None and known.stopped:
            continue
        if automatic and (known is None or known.method != str(Method.MISSING)):
            continue
        if known is not None and known.flow_m3 is not None:
            volume: float | None = known.flow_m3
        else:
            volume = sample.flow_m3h if sample.flow_m3h is not None else design_flow_m3h
        emission = accounting.emission(sample.concentration,
                                       None if volume is None else CubicMetres(volume))  # fmt: skip
        if emission is None:
            continue
        hours.append(EmissionHour(
            manual_device(outlet_id), pollutant, hour, "manual", None, sample.concentration,
            volume, float(emission), float(emission), Method.MANUAL, rule,
        ))  # fmt: skip
    return hours
