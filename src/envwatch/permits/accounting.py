"""A device's hourly emissions as the permit accounting counts them (pure),
rules.md §5.1: the HJ 75 hours of ``rules/hours.py`` (the measured emission
of every valid hour from ``rules/units.py``, the substitute of an invalid
hour of SO2, NOx and particulate beside its original) become one accounted
emission per hour with its method; an outlet and pollutant the permit
requires to be monitored automatically but that no device monitors is
accounted as direct discharge (按直排核算) with the reason.

Units: air ``C [mg/m³] × V [m³] × 1e-6`` kg (so 20 mg/m³ × 500 000 m³ in an
hour is 10 kg, 0.01 t); water ``C [mg/L] × V [m³] × 1e-3`` kg (the t-form of
rules.md §5.1 is ``Q × C × 1e-6``), whose daily sum is the daily volume times
the flow-weighted daily mean."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from envwatch.rules.hours import Hour
from envwatch.rules.units import CubicMetres, accounting_of
from envwatch.rules.validity import Validity

HOUR = timedelta(hours=1)


class Method(StrEnum):
    """How an hour's emission was obtained (rules.md §5.1 method order)."""

    MEASURED = "measured"  # a valid hour of certified automatic monitoring
    SUBSTITUTED = "substituted"  # an invalid hour filled per HJ 75-2017
    DIRECT = "direct"  # 按直排核算: required automatic monitoring that is missing
    MANUAL = "manual"  # 手工监测
    STOPPED = "stopped"  # the source stopped (F): nothing emitted
    MISSING = "missing"  # invalid and not covered by a substitution: not accounted


ACCOUNTED = (Method.MEASURED, Method.SUBSTITUTED, Method.DIRECT, Method.MANUAL)
"""The methods whose emissions add up to the actual total."""


@dataclass(frozen=True, slots=True)
class EmissionHour:
    mn: str
    pollutant: str
    hour: datetime
    validity: str
    cause: str | None
    concentration: float | None
    flow_m3: float | None
    measured_kg: float | None
    """The emission the measurement gives: the original, beside any substitute."""
    emission_kg: float | None
    """The emission accounted; None when nothing accounts for the hour."""
    method: Method
    rule: str | None


def method_of(hour: Hour) -> tuple[Method, float | None, str | None]:
    """How one HJ 75 hour (with substitutes) is accounted: the method, the
    emission accounted [kg] and the rule."""
    if hour.validity is Validity.VALID and hour.emission_kg is not None:
        return Method.MEASURED, float(hour.emission_kg), None
    if hour.validity is Validity.STOPPED:
        return Method.STOPPED, 0.0, None
    if hour.substituted_kg is not None:
        return Method.SUBSTITUTED, float(hour.substituted_kg), hour.substitution
    # A valid hour without flow has no emission either: counted as missing.
    rule = hour.substitution or ("no flow" if hour.validity is Validity.VALID else None)
    return Method.MISSING, None, rule


def accounted(mn: str, pollutant: str, hour: Hour) -> EmissionHour:
    """One HJ 75 hour (``rules/hours.py``, with substitutes) as accounted."""
    method, emission, rule = method_of(hour)
    return EmissionHour(
        mn, pollutant, hour.start, str(hour.validity),
        None if hour.cause is None else str(hour.cause),
        hour.mean, None if hour.volume_m3 is None else float(hour.volume_m3),
        None if hour.emission_kg is None else float(hour.emission_kg),
        emission, method, rule,
    )  # fmt: skip


def accounted_hours(mn: str, pollutant: str, hours: Iterable[Hour]) -> list[EmissionHour]:
    return [accounted(mn, pollutant, hour) for hour in hours]


def direct_device(outlet_id: int) -> str:
    """The pseudo-device of an outlet's direct discharge in ``hourly_emission``."""
    return f"outlet:{outlet_id}"


def direct_hours(
    outlet_id: int,
    pollutant: str,
    *,
    untreated_concentration: float | None,
    design_flow_m3h: float | None,
    since: datetime,
    until: datetime,
    reason: str,
) -> list[EmissionHour]:
    """The clock hours of [since, until) of an outlet's pollutant accounted as
    direct discharge: the untreated concentration times the design flow of
    one hour, in the pollutant's units. Without either declared the hours
    stand with no emission and say so."""
    accounting = accounting_of(pollutant)
    volume = None if design_flow_m3h is None else CubicMetres(design_flow_m3h)
    emission = None if accounting is None else accounting.emission(untreated_concentration, volume)
    rule = reason if emission is not None else f"{reason}（未申报产生浓度或设计流量）"
    hours: list[EmissionHour] = []
    start = since.replace(minute=0, second=0, microsecond=0)
    if start < since:
        start += HOUR
    while start < until:
        hours.append(EmissionHour(
            direct_device(outlet_id), pollutant, start, "direct", None, untreated_concentration,
            volume, None, None if emission is None else float(emission), Method.DIRECT, rule,
        ))  # fmt: skip
        start += HOUR
    return hours


def daily_totals(hours: Sequence[EmissionHour]) -> dict[datetime, dict[str, float]]:
    """Per day (00:00 China Standard Time): the accounted emission [kg] by method."""
    days: dict[datetime, dict[str, float]] = {}
    for hour in hours:
        if hour.emission_kg is None or hour.method not in ACCOUNTED:
            continue
        day = days.setdefault(hour.hour.replace(hour=0), {})
        day[hour.method] = day.get(hour.method, 0.0) + hour.emission_kg
    return days
