"""What the rules read and what they find (pure data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

O2_CODE = "a19001"
FLUE_GAS_FLOW_CODE = "a00000"
WATER_FLOW_CODE = "w00000"
PH_CODE = "w01001"


@dataclass(frozen=True, slots=True)
class Values:
    """One factor's values in one upload (HJ 212 suffixes; None where absent)."""

    rtd: float | None = None
    avg: float | None = None
    min: float | None = None
    max: float | None = None
    cou: float | None = None
    flag: str | None = None

    @property
    def level(self) -> float | None:
        """The upload's value: Rtd for real-time data, Avg for period data."""
        return self.rtd if self.rtd is not None else self.avg


@dataclass(frozen=True, slots=True)
class Upload:
    """A stored data upload of a monitoring point (or a meter's reading), or a
    field device's information (3020: ``info`` by ``i…`` code, for ``pol_id``)."""

    mn: str
    cn: str
    data_time: datetime  # China Standard Time, naive, as the logger states it
    values: Mapping[str, Values]
    frame_id: int | None = None
    info: Mapping[str, str] = field(default_factory=dict)
    pol_id: str | None = None
    received_at: datetime | None = None
    """When the frame arrived, China Standard Time (naive); None where unknown
    (readings that came in batches)."""


HOUR_PERIOD = "1h"
DAY_PERIOD = "24h"
INSTANT_PERIOD = "instant"
PERIODS = (HOUR_PERIOD, DAY_PERIOD, INSTANT_PERIOD)
"""Averaging periods of limits (``registry/limits.py``), in the order a rule
that asks for no period takes them."""


@dataclass(frozen=True, slots=True)
class Limit:
    value: float
    """The upper bound."""
    unit: str
    basis: str
    reference_o2: float | None = None
    period: str = HOUR_PERIOD
    """What the limit is judged on: an hourly mean, a daily mean or each value."""
    lower: float | None = None
    """The lower bound of a two-sided limit (pH 6-9)."""

    def breached_by(self, value: float) -> bool:
        """Above the limit or, for a two-sided one, below its lower bound
        (equality is compliant)."""
        return value > self.value or (self.lower is not None and value < self.lower)

    def margin(self, value: float) -> float:
        """How far ``value`` is beyond the limit, as a share of it (negative: within)."""
        over = value / self.value - 1 if self.value else 0.0
        if self.lower is not None and self.lower > 0:
            return max(over, 1 - value / self.lower)
        return over

    @property
    def text(self) -> str:
        """The limit as people write it: 50, or 6~9 for a two-sided one."""
        return f"{self.lower:g}~{self.value:g}" if self.lower is not None else f"{self.value:g}"


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end), China Standard Time, naive."""

    start: datetime
    end: datetime

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class PollutionWarning:
    """A heavy-pollution-weather warning in force where a device is."""

    level: str  # blue / yellow / orange / red
    period: Period
    reference: str = ""


@dataclass(frozen=True, slots=True)
class ListedLine:
    """A production line of the enterprise's emergency list (应急减排清单) the
    meter is on, in one season's version."""

    line: str
    valid_from: date
    valid_until: date
    """Exclusive."""
    measures: Mapping[str, str]
    """By warning level: ``stop``, ``cut:<share>`` or ``staggered`` (absent: none)."""


@dataclass(frozen=True, slots=True)
class CalibrationSchedule:
    """An analyser's recurring automatic calibration (自动校准), declared once:
    every day at ``start`` for ``minutes``, China Standard Time."""

    start: time
    minutes: float
    pollutant: str | None = None
    """The analyser's factor code; None: every analyser of the point."""

    def covers(self, moment: datetime, pollutant: str | None, slack_minutes: float = 0.0) -> bool:
        """Whether ``moment`` falls in one of the day's calibrations (of
        ``pollutant``'s analyser; None: of any), ``slack_minutes`` either side."""
        if self.pollutant is not None and pollutant is not None and pollutant != self.pollutant:
            return False
        for shift in (-1, 0, 1):  # a slot (and its slack) may cross midnight
            day = moment.date() + timedelta(days=shift)
            begins = datetime.combine(day, self.start) - timedelta(minutes=slack_minutes)
            ends = begins + timedelta(minutes=self.minutes + 2 * slack_minutes)
            if begins <= moment < ends:
                return True
        return False


def batch_meter_key(meter_id: int) -> str:
    """How the rules name a meter that has no MN (its readings come in batches)."""
    return f"meter:{meter_id}"


@dataclass(frozen=True, slots=True)
class StationTraits:
    """What the registry says of an air station or a river section whose
    logger the device is (``quality/``)."""

    kind: str
    """air or water."""
    code: str
    longitude: float | None = None
    latitude: float | None = None
    target_class: str | None = None
    """A section's target class (GB 3838)."""
    lake: bool = False
    readings: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    """By factor code: the calculations' name (``PM2_5``, ``NH3_N``) and the
    factor turning the logger's unit into the calculations' unit."""


@dataclass(frozen=True, slots=True)
class PointContext:
    """What the registry says about a monitoring point (or a meter)."""

    mn: str
    enterprise_id: int | None
    industry: str | None
    outlet_kind: str | None  # air / water
    limits: Mapping[str, tuple[Limit, ...]] = field(default_factory=dict)
    """Limits in force by pollutant, by period and strictest first within one."""
    meter_id: int | None = None
    meter_kind: str | None = None  # production / treatment / total
    rated_kw: float | None = None
    county_code: str | None = None
    streams: bool = True
    """Whether it reports as it measures (HJ 212); a meter known only from
    batches of readings does not, and its silence is no outage."""
    maintenance: tuple[Period, ...] = ()
    """Maintenance windows declared for the device (运维时段)."""
    startups: tuple[Period, ...] = ()
    """Start-up and shut-down periods declared for the device (启停时段)."""
    calibrations: tuple[CalibrationSchedule, ...] = ()
    """Recurring automatic calibrations declared for its analysers (or confirmed
    by a person after ``rules/calibration.py`` learned them)."""
    emergencies: tuple[PollutionWarning, ...] = ()
    """Heavy-pollution-weather warnings declared for the device's county or city."""
    serves: tuple[int, ...] = ()
    """A treatment meter's production meters (产治关联); empty: every production
    meter of its enterprise (no link declared)."""
    performance_grade: str = ""
    """The enterprise's heavy-pollution-weather performance grade (A+, A, B, C, D)."""
    emergency_exempt: bool = False
    """The enterprise is exempt from emergency cuts (民生保障类 and the like)."""
    emergency_lines: tuple[ListedLine, ...] = ()
    """The emergency-list lines the meter is on, every season's version."""
    work_shifts: tuple[tuple[int, int], ...] = ()
    """The enterprise's declared production hours (``rules/shifts.py``)."""
    reheated: bool = False
    """Its flue gas is reheated after wet desulfurisation (MGGH): it leaves hot."""
    station: StationTraits | None = None
    """Set when the device is an air station's or a river section's logger."""

    def in_startup(self, start: datetime, end: datetime) -> Period | None:
        """A declared start-up or shut-down period overlapping [start, end)."""
        return next((p for p in self.startups if p.start < end and start < p.end), None)

    def in_maintenance(self, moment: datetime) -> Period | None:
        return next((window for window in self.maintenance if window.covers(moment)), None)

    def emergency_at(self, moment: datetime) -> PollutionWarning | None:
        return next((e for e in self.emergencies if e.period.covers(moment)), None)

    def listed_measure(self, moment: datetime, level: str) -> tuple[ListedLine, str] | None:
        """The line and the production measure its emergency list requires at ``level`` on
        ``moment``'s day (the newest version in force); None: the meter is on
        no line in force then."""
        day = moment.date()
        lines = [line for line in self.emergency_lines if line.valid_from <= day < line.valid_until]
        if not lines:
            return None
        line = max(lines, key=lambda found: found.valid_from)
        # Only the production part: a transport limit (``+transport``, or
        # ``transport`` alone) is not measurable by electricity.
        production = line.measures.get(level, "").split("+")[0]
        return line, "" if production == "transport" else production

    def limits_of(self, pollutant: str, period: str) -> tuple[Limit, ...]:
        """The limits of ``pollutant`` judged on ``period``, strictest first."""
        return tuple(limit for limit in self.limits.get(pollutant, ()) if limit.period == period)

    def limit(self, pollutant: str, period: str | None = None) -> Limit | None:
        """The strictest limit of ``period``; without one, of the first period
        (hourly, else daily, else instantaneous) the pollutant has limits for."""
        if period is not None:
            limits = self.limits_of(pollutant, period)
            return limits[0] if limits else None
        for candidate in PERIODS:
            limits = self.limits_of(pollutant, candidate)
            if limits:
                return limits[0]
        return None


class Severity(StrEnum):
    NOTICE = "notice"  # 提示
    WARNING = "warning"  # 预警
    ALARM = "alarm"  # 报警
    SEVERE = "severe"  # 严重


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found, with the evidence an enforcement officer needs."""

    mn: str
    pollutant: str | None
    rule: str
    rule_version: int
    window_start: datetime
    window_end: datetime
    severity: Severity
    explanation: str  # plain Chinese
    evidence: Mapping[str, Any]
    """Values and times used, the limit, the parameters, flags, frame ids."""
