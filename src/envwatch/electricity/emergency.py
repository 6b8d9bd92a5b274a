"""Compliance of an emergency list's production lines during a heavy-pollution-
weather warning, line by line and day by day (pure; rules.md §3.4).

A line's energy in the warning hours of a day is compared with its baseline:
the same hours of the previous non-warning days with data (a day on which a
warning covered those hours is skipped, and the search goes further back),
and with the measure its enterprise's emergency list requires at the level:

* ``stop`` (停产) and ``staggered`` (错峰生产: the line's staggered schedule
  keeps it off through a warning): every hour at or under k_on of its rated
  power (without a rating, k_on of its baseline hour); one hour above is
  not complied, that hour is the evidence;
* ``cut:x`` (限产 x): energy ≤ (1 − x) × baseline × (1 + tolerance);
* ``transport`` (运输管控: no heavy diesel lorries in or out, rules.md §3.4),
  alone or added to a production measure (``cut:0.3+transport``): envwatch
  holds no gate or vehicle data, so a transport limit is *not measurable by
  electricity*: alone it is judged ``not_measurable``; with a production
  measure the electricity judges that measure and the evidence says the
  transport part was not measured (``"transport": "not_measurable"``).

The parameters (k_on, the tolerance, how many baseline days) are those of
the electricity rules in ``rules/rules.toml``; statuses are ``complied``,
``not_complied`` (with evidence), ``no_data`` (why, as evidence) and
``exempt`` (the enterprise's list exempts it, e.g. 民生保障) and
``not_measurable`` (only a transport limit, which electricity cannot show).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

HOUR: Final = timedelta(hours=1)
MIN_HOUR_COVERAGE: Final = 0.5
"""An hour has data when readings cover at least this share of it."""
LOOKBACK_FACTOR: Final = 3
"""How far back the baseline may look for its days: this many times the days it wants."""


@dataclass(frozen=True, slots=True)
class Measure:
    """What a line must do at a warning level."""

    kind: str
    """stop, cut, staggered, or transport (a transport limit alone)."""
    share: float = 0.0
    """For a cut: the share of the baseline to cut (0.3: 30 %)."""
    transport: bool = False
    """Transport limits (运输管控) too, or (kind ``transport``) only them."""

    @property
    def production(self) -> str:
        """The production part: ``stop``, ``cut:0.3``, ``staggered`` or ``none``."""
        if self.kind == "transport":
            return "none"
        return f"cut:{self.share:g}" if self.kind == "cut" else self.kind

    @property
    def text(self) -> str:
        if self.kind == "transport":
            return "transport"
        return self.production + ("+transport" if self.transport else "")


_CUT = re.compile(r"^(?:cut[: ]?|限产|减产)\s*(\d+(?:\.\d+)?)\s*(%?)$", re.IGNORECASE)
_WORDS: Final = {"停产": "stop", "stop": "stop", "错峰生产": "staggered", "staggered": "staggered"}
TRANSPORT_WORDS: Final = ("运输管控", "transport")
_JOIN = re.compile(r"\s*[+＋、,，]\s*")


def _production_measure(text: str) -> Measure:
    if text.lower() in _WORDS:
        return Measure(_WORDS[text.lower()])
    match = _CUT.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a measure: 停产 / 限产30% / 错峰生产 / 运输管控, or one with "
            "+运输管控 (stop / cut:0.3 / staggered / transport)"
        )
    value = float(match.group(1))
    # "30%" and "30" are per cent; "0.3" a share.
    share = value / 100 if match.group(2) or value > 1 else value
    if not 0 < share < 1:
        raise ValueError(f"{text!r}: a cut is a share between 0 and 100 %")
    return Measure("cut", round(share, 4))


def parse_measure(text: str) -> Measure | None:
    """``停产``/``stop``, ``限产30%``/``cut:0.3``/``cut 30%``, ``错峰生产``/``staggered``,
    ``运输管控``/``transport``, or a production measure with transport limits
    (``限产30%+运输管控``, ``cut:0.3+transport``); empty or ``无``/``none``: no
    measure. Raises ``ValueError`` naming the problem."""
    text = text.strip()
    if text.lower() in ("", "无", "none"):
        return None
    parts = [part for part in _JOIN.split(text) if part]
    transport = [part for part in parts if part.lower() in TRANSPORT_WORDS]
    production = [part for part in parts if part.lower() not in TRANSPORT_WORDS]
    if len(transport) > 1 or len(production) > 1:
        raise ValueError(f"{text!r}: at most one production measure and one 运输管控 (transport)")
    if not production:
        return Measure("transport", transport=True)
    measure = _production_measure(production[0])
    return Measure(measure.kind, measure.share, transport=bool(transport))


def production_part(text: str) -> str:
    """The production part of a stored measure text (``cut:0.3+transport`` →
    ``cut:0.3``; ``transport`` → ``none``), for the streaming rules."""
    measure = parse_measure(text) if text else None
    return measure.production if measure is not None else "none"


def hourly_energy(
    readings: Sequence[tuple[datetime, float]], max_gap: timedelta
) -> dict[datetime, float]:
    """kWh per hour (hour start) from power readings (time, kW) in time order:
    each reading holds until the next one, for ``max_gap`` at most; an hour
    covered for less than ``MIN_HOUR_COVERAGE`` has no value."""
    covered: dict[datetime, float] = {}
    energy: dict[datetime, float] = {}
    for (start, kw), (following, _) in itertools.pairwise(readings):
        end = min(following, start + max_gap)
        moment = start
        while moment < end:
            hour = moment.replace(minute=0, second=0, microsecond=0)
            piece_end = min(end, hour + HOUR)
            seconds = (piece_end - moment).total_seconds()
            covered[hour] = covered.get(hour, 0.0) + seconds
            energy[hour] = energy.get(hour, 0.0) + kw * seconds / 3600
            moment = piece_end
    # The covered part's mean power over the whole hour.
    return {
        hour: energy[hour] * 3600 / seconds
        for hour, seconds in covered.items()
        if seconds >= MIN_HOUR_COVERAGE * 3600
    }


def line_energy(meters: Iterable[Mapping[datetime, float]]) -> dict[datetime, float]:
    """A line's kWh per hour: the sum of its meters', where every meter has the hour."""
    meters = list(meters)
    if not meters:
        return {}
    hours = set(meters[0]).intersection(*meters[1:])
    return {hour: sum(m[hour] for m in meters) for hour in hours}


@dataclass(frozen=True, slots=True)
class ComplianceParams:
    production_on_share: float
    """k_on: above this share of its rated power a production line runs."""
    tolerance: float
    baseline_days: int
    min_baseline_days: int
    max_gap_minutes: float
    """A reading holds until the next one, for this long at most."""


@dataclass(frozen=True, slots=True)
class LineVerdict:
    status: str
    """complied, not_complied, no_data or exempt."""
    measured_kwh: float | None
    baseline_kwh: float | None
    evidence: dict[str, Any]


def baseline(
    energy: Mapping[datetime, float],
    hours: Sequence[datetime],
    warning_hours: Collection[datetime],
    params: ComplianceParams,
) -> tuple[float | None, list[str]]:
    """The mean energy of ``hours`` on the previous non-warning days with data
    for all of them (up to ``baseline_days`` of them), and those days; None
    when fewer than ``min_baseline_days`` are found."""
    totals: list[float] = []
    days: list[str] = []
    for back in range(1, params.baseline_days * LOOKBACK_FACTOR + 1):
        same = [hour - timedelta(days=back) for hour in hours]
        if any(hour in warning_hours for hour in same):
            continue  # an earlier warning day is no baseline
        if not all(hour in energy for hour in same):
            continue
        totals.append(sum(energy[hour] for hour in same))
        days.append(f"{same[0]:%Y-%m-%d}")
        if len(totals) == params.baseline_days:
            break
    if len(totals) < params.min_baseline_days:
        return None, days
    return sum(totals) / len(totals), days


def judge_line(
    *,
    hours: Sequence[datetime],
    energy: Mapping[datetime, float],
    warning_hours: Collection[datetime],
    measure: Measure | None,
    rated_kw: float | None,
    exempt: bool,
    params: ComplianceParams,
) -> LineVerdict:
    """One line on one day of a warning: ``hours`` are the warning's whole
    hours that day, ``energy`` the line's kWh per hour (that day and the days
    before), ``warning_hours`` every hour a warning covered the enterprise."""
    with_data = [hour for hour in hours if hour in energy]
    measured = round(sum(energy[hour] for hour in with_data), 2) if with_data else None
    base, days = baseline(energy, with_data, warning_hours, params) if with_data else (None, [])
    base = round(base, 2) if base is not None else None
    evidence: dict[str, Any] = {"hours": len(hours), "hours_with_data": len(with_data),
                                "baseline_days": days}  # fmt: skip
    if exempt:
        return LineVerdict("exempt", measured, base, evidence)
    if measure is None:
        return LineVerdict("complied", measured, base, {**evidence, "reason": "no measure"})
    if measure.transport:
        evidence = {**evidence, "transport": "not_measurable"}
    if measure.kind == "transport":
        why = {**evidence, "reason": "a transport limit is not measurable by electricity"}
        return LineVerdict("not_measurable", measured, base, why)
    if not with_data:
        return LineVerdict("no_data", None, None, {**evidence, "reason": "no readings"})
    if measure.kind in ("stop", "staggered"):
        if rated_kw:
            limit = params.production_on_share * rated_kw
        elif base is not None:
            limit = params.production_on_share * base / len(with_data)
        else:
            why = {**evidence, "reason": "no rated power and no baseline"}
            return LineVerdict("no_data", measured, base, why)
        running = [hour for hour in with_data if energy[hour] > limit]
        evidence = {**evidence, "limit_kwh_per_hour": round(limit, 2),
                    "running_hours": [f"{hour:%H:%M}" for hour in running]}  # fmt: skip
        status = "not_complied" if running else "complied"
        return LineVerdict(status, measured, base, evidence)
    if base is None or measured is None:
        why = {**evidence, "reason": "too few non-warning days with data"}
        return LineVerdict("no_data", measured, None, why)
    allowed = (1 - measure.share) * base * (1 + params.tolerance)
    evidence = {**evidence, "allowed_kwh": round(allowed, 2),
                "share_of_baseline": round(measured / base, 3) if base else None}  # fmt: skip
    return LineVerdict("complied" if measured <= allowed else "not_complied",
                       measured, base, evidence)  # fmt: skip


def warning_hours(starts_at: datetime, ends_at: datetime) -> list[datetime]:
    """The whole hours of a warning period (hour starts)."""
    first = starts_at.replace(minute=0, second=0, microsecond=0)
    if first < starts_at:
        first += HOUR
    hours = []
    while first + HOUR <= ends_at:
        hours.append(first)
        first += HOUR
    return hours


def required_share(measure: Measure | None) -> float:
    """The share of its baseline a line must cut: all of it to stop."""
    if measure is None or measure.kind == "transport":
        return 0.0
    return measure.share if measure.kind == "cut" else 1.0


def assess(
    judged: Iterable[tuple[str, str, Measure | None, LineVerdict]],
    key: Callable[[str, str], str],
) -> list[dict[str, Any]]:
    """After a warning: per group (``key`` of county and grade), the line-days
    by status and, over the line-days with both energy and baseline, the
    reduction required (baseline × the measure's share) against the reduction
    achieved (baseline − energy), in kWh; exempt lines count apart."""
    groups: dict[str, dict[str, Any]] = {}
    for county, grade, measure, verdict in judged:
        group = groups.setdefault(key(county, grade), {
            "group": key(county, grade), "line_days": 0, "complied": 0, "not_complied": 0,
            "no_data": 0, "exempt": 0, "not_measurable": 0, "baseline_kwh": 0.0,
            "measured_kwh": 0.0, "required_reduction_kwh": 0.0,
            "achieved_reduction_kwh": 0.0})  # fmt: skip
        group["line_days"] += 1
        group[verdict.status] += 1
        if (verdict.status in ("exempt", "not_measurable") or verdict.measured_kwh is None
                or verdict.baseline_kwh is None):  # fmt: skip
            continue
        group["baseline_kwh"] += verdict.baseline_kwh
        group["measured_kwh"] += verdict.measured_kwh
        group["required_reduction_kwh"] += verdict.baseline_kwh * required_share(measure)
        group["achieved_reduction_kwh"] += verdict.baseline_kwh - verdict.measured_kwh
    for group in groups.values():
        for name in ("baseline_kwh", "measured_kwh", "required_reduction_kwh",
                     "achieved_reduction_kwh"):  # fmt: skip
            group[name] = round(group[name], 1)
        required = group["required_reduction_kwh"]
        group["achieved_share_of_required"] = (
            round(group["achieved_reduction_kwh"] / required, 3) if required else None
        )
    return [groups[name] for name in sorted(groups)]
