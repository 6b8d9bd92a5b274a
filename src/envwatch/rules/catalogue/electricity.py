"""Electricity cross-checks (rules.md §3): production against treatment circuits,
meters themselves, night production and heavy-pollution-weather warnings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from envwatch.rules.catalogue.base import (
    METERS,
    Rule,
    Run,
    clock_text,
    register,
)
from envwatch.rules.model import (
    Finding,
    PointContext,
    Severity,
    Upload,
    Values,
)
from envwatch.rules.normal import NormalLevel
from envwatch.rules.parameters import Params, RuleSet
from envwatch.rules.shifts import DAY_MINUTES, declared_minutes

POWER = "power_kw"
ENERGY = "energy_kwh"
"""A meter's cumulative energy register, where it reports one."""


class TreatmentRunningParams(Params):
    """When a treatment circuit counts as running (rules.md §3.3, [I])."""

    production_on_share: float = Field(gt=0, lt=1)
    """k_on: production above this share of its rated power runs."""
    treatment_idle_share: float = Field(gt=0, lt=1)
    """k_idle: treatment below this share of its own normal running power idles."""
    treatment_off_share: float = Field(gt=0, lt=1)
    """Until its normal running power is learned: treatment below this share of
    its rated power is off (a variable-speed drive may run far below its rating)."""
    normal_days: int = Field(ge=1)
    """Normal running power: the median of the hourly mean power of the hours
    the circuit ran while its production ran, over this many recent days."""
    normal_min_hours: int = Field(ge=1)
    running_floor_share: float = Field(gt=0, lt=1)
    """An hour counts towards normal running power when its mean is above this
    share of the rated power (so idling hours teach nothing)."""


@dataclass
class NormalPower(NormalLevel):
    """A circuit's normal running power, learned from its own readings."""

    def add(self, when: datetime, kw: float, rated: float, params: TreatmentRunningParams) -> None:
        """A reading taken while the circuit's production ran (idling hours,
        below a share of the rated power, teach nothing)."""
        self.learn(when, kw, days=params.normal_days, min_hours=params.normal_min_hours,
                   floor=params.running_floor_share * rated)  # fmt: skip

    def running(self, kw: float, rated: float, params: TreatmentRunningParams) -> bool | None:
        """Whether ``kw`` is a running treatment circuit; None: cannot say."""
        if self.level is not None:
            return kw >= params.treatment_idle_share * self.level
        if rated > 0:
            return kw >= params.treatment_off_share * rated
        return None


def production_runs(kw: float, rated: float, params: TreatmentRunningParams) -> bool:
    return rated > 0 and kw > params.production_on_share * rated


@dataclass
class ProductionSeen:
    """A production circuit's last reading."""

    seen_at: datetime
    on: bool


def linked_production_runs(
    production: Mapping[int, ProductionSeen],
    serves: tuple[int, ...],
    at: datetime,
    fresh: timedelta,
) -> bool:
    """Whether a production circuit the treatment serves (all of the enterprise's
    where no link is declared) was seen running lately."""
    return any(
        seen.on and at - seen.seen_at <= fresh
        for meter_id, seen in production.items()
        if not serves or meter_id in serves
    )


class TreatmentOffParams(TreatmentRunningParams):
    minutes: float = Field(gt=0)


@register
class TreatmentOff(Rule):
    """B13 产治不同步: a treatment circuit off or idling, for a while, while a
    production circuit it serves runs (産治关联 from the registry; every
    production circuit of the enterprise where none is declared). Idling is
    judged against the circuit's own normal running power, learned from its
    readings, not against its nameplate."""

    id = "treatment_off"
    kind = "electricity"
    devices = METERS
    version = 2
    params_model = TreatmentOffParams
    severity = Severity.ALARM
    title_zh = "治污设施未同步运行"

    def scope(self, context: PointContext) -> str:
        return f"enterprise:{context.enterprise_id}"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        reading = upload.values.get(POWER)
        if context.meter_id is None or reading is None or reading.level is None:
            return []
        params = self.params_for(rules, context, None)
        rated = context.rated_kw or 0.0
        production: dict[int, ProductionSeen] = state.setdefault("production", {})
        if context.meter_kind == "production":
            production[context.meter_id] = ProductionSeen(
                upload.data_time, production_runs(reading.level, rated, params)
            )
            return []
        if context.meter_kind != "treatment":
            return []
        fresh = timedelta(minutes=params.minutes)
        producing = linked_production_runs(production, context.serves, upload.data_time, fresh)
        normal: NormalPower = state.setdefault("normal", {}).setdefault(
            context.meter_id, NormalPower()
        )
        running = normal.running(reading.level, rated, params)
        if producing:
            normal.add(upload.data_time, reading.level, rated, params)
        runs: dict[int, Run] = state.setdefault("treatment", {})
        run = runs.setdefault(context.meter_id, Run())
        if not producing or running is not False:
            run.clear()
            return []
        run.extend(upload, reading.level)
        assert run.start is not None
        lasted = upload.data_time - run.start
        if lasted < fresh or run.reported:
            return []
        run.reported = True
        if normal.level is not None:
            against = f"低于其正常运行功率{normal.level:g} kW的{params.treatment_idle_share:.0%}"
        else:
            against = f"低于额定功率{rated:g} kW的{params.treatment_off_share:.0%}"
        return [
            self.finding(
                upload,
                None,
                run.start,
                upload.data_time,
                f"所服务的生产设施运行期间，治污设施用电自{clock_text(run.start)}起持续"
                f"{lasted.total_seconds() / 60:.0f}分钟{against}（最新{reading.level:g} kW），"
                "疑似治污设施未开启或空转",
                {
                    "power_kw": run.values,
                    "rated_kw": rated,
                    "normal_kw": normal.level,
                    "serves": list(context.serves),
                    "meter_id": context.meter_id,
                    "frames": run.frames,
                },
                params,
            )
        ]


class MeterFrozenParams(Params):
    minutes: float = Field(gt=0)
    running_share: float = Field(gt=0, lt=1)
    """Power above this share of the rated power (any power without a rating)
    says the circuit runs."""


def register_of(values: Values | None) -> float | None:
    """An energy register's reading: Rtd of real-time data, Max of minute data."""
    if values is None:
        return None
    return values.rtd if values.rtd is not None else values.max


@register
class MeterFrozen(Rule):
    """B1 on a meter (rules.md §3.3): its energy register stands still while its
    power says the circuit runs; without a register, a power reading exactly
    constant above zero. A meter reading zero stands still with its circuit."""

    id = "meter_frozen"
    kind = "electricity"
    devices = METERS
    version = 2
    params_model = MeterFrozenParams
    severity = Severity.WARNING
    title_zh = "电表数据恒值"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        reading = upload.values.get(POWER)
        if context.meter_id is None or reading is None or reading.level is None:
            return []
        params = self.params_for(rules, context, None)
        rated = context.rated_kw or 0.0
        runs = reading.level > (params.running_share * rated if rated > 0 else 0.0)
        register = register_of(upload.values.get(ENERGY))
        # What must change while the circuit runs: the register where there is one.
        watched = register if register is not None else reading.level
        run: Run = state.setdefault("run", Run())
        if not runs or (run.anchor is not None and watched != run.anchor):
            run.clear()
        if not runs:
            return []
        run.extend(upload, watched)
        assert run.start is not None
        lasted = upload.data_time - run.start
        if lasted < timedelta(minutes=params.minutes) or run.reported:
            return []
        run.reported = True
        if register is not None:
            what = (
                f"电能表底数{register:g} kWh不变，而功率显示设备在运行（最新{reading.level:g} kW）"
            )
        else:
            what = f"功率读数保持{reading.level:g} kW不变"
        return [
            self.finding(
                upload,
                None,
                run.start,
                upload.data_time,
                f"电表自{clock_text(run.start)}起{lasted.total_seconds() / 3600:.1f}小时"
                f"{what}，疑似电表或采集故障",
                {
                    "power_kw": reading.level,
                    "energy_kwh": register,
                    "readings": run.count,
                    "meter_id": context.meter_id,
                    "frames": run.frames,
                },
                params,
            )
        ]


class NightProductionParams(Params):
    night_from_hour: int = Field(ge=0, le=23)
    night_until_hour: int = Field(ge=0, le=23)
    ratio: float = Field(gt=1)
    days: int = Field(ge=1)
    max_gap_minutes: float = Field(gt=0)
    declared_night_share: float = Field(gt=0, le=1)
    """An enterprise whose declared shifts cover this share of the night works
    by night openly (e.g. for the valley tariff): not judged."""


@register
class NightProduction(Rule):
    """夜间生产 (rules.md §3.3): a production circuit drawing more at night than by
    day, on average over several days, at an enterprise that declared no night
    shift; judged as each day ends."""

    id = "night_production"
    kind = "electricity"
    devices = METERS
    version = 2
    params_model = NightProductionParams
    severity = Severity.NOTICE
    title_zh = "夜间生产异常"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        reading = upload.values.get(POWER)
        if context.meter_kind != "production" or reading is None or reading.level is None:
            return []
        params = self.params_for(rules, context, None)
        if context.work_shifts:
            start, end = params.night_from_hour * 60, params.night_until_hour * 60
            night = (end - start) % DAY_MINUTES or DAY_MINUTES
            declared = declared_minutes(context.work_shifts, start, end)
            if declared >= params.declared_night_share * night:
                return []
        day = upload.data_time.replace(hour=0, minute=0, second=0, microsecond=0)
        days: dict[datetime, list[float]] = state.setdefault("days", {})
        findings: list[Finding] = []
        if days and day > max(days):
            findings = self._judge(days, upload, context, params)
        previous: tuple[datetime, float] | None = state.get("previous")
        state["previous"] = (upload.data_time, reading.level)
        if previous is None:
            return findings
        seconds = (upload.data_time - previous[0]).total_seconds()
        if not 0 < seconds <= params.max_gap_minutes * 60:
            return findings
        hour = previous[0].hour
        start, end = params.night_from_hour, params.night_until_hour
        night = hour >= start or hour < end if start > end else start <= hour < end
        # [night energy, night seconds, day energy, day seconds] per day
        totals = days.setdefault(previous[0].replace(hour=0, minute=0, second=0), [0.0] * 4)
        offset = 0 if night else 2
        totals[offset] += previous[1] * seconds
        totals[offset + 1] += seconds
        for old in [d for d in days if d < day - timedelta(days=params.days)]:
            del days[old]
        return findings

    def _judge(
        self,
        days: dict[datetime, list[float]],
        upload: Upload,
        context: PointContext,
        params: NightProductionParams,
    ) -> list[Finding]:
        last = max(days)
        window = [d for d in days if d > last - timedelta(days=params.days)]
        if len(window) < params.days:
            return []
        night = sum(days[d][0] for d in window) / max(1.0, sum(days[d][1] for d in window))
        daytime = sum(days[d][2] for d in window) / max(1.0, sum(days[d][3] for d in window))
        if daytime <= 0 or night <= params.ratio * daytime:
            return []
        return [
            self.finding(
                upload,
                None,
                min(window),
                last + timedelta(days=1),
                f"近{len(window)}天生产用电夜间平均功率{night:.1f} kW，为白天{daytime:.1f} kW的"
                f"{night / daytime:.1f}倍，疑似夜间偷排或错峰生产",
                {
                    "night_kw": round(night, 3),
                    "day_kw": round(daytime, 3),
                    "meter_id": context.meter_id,
                    "frames": [upload.frame_id],
                },
                params,
            )
        ]


class StartStopSyncParams(TreatmentRunningParams):
    lead_minutes: float = Field(gt=0)
    fresh_minutes: float = Field(gt=0)


@dataclass
class MeterState:
    mn: str
    on: bool
    changed_at: datetime | None
    """When the meter last turned on or off (None: as first seen)."""
    seen_at: datetime
    frame_id: int | None = None


@dataclass
class TreatmentSync:
    """A treatment circuit and the run of the production it serves."""

    meter: MeterState
    serves: tuple[int, ...]
    normal: NormalPower = field(default_factory=NormalPower)
    producing: bool = False
    started: datetime | None = None
    start_checked: bool = False


@register
class StartStopSync(Rule):
    """同启同停 (rules.md §3.3): a treatment circuit must start no later than a
    few minutes after the production it serves starts, and must not stop
    before that production stops (links and running as ``treatment_off``)."""

    id = "start_stop_sync"
    kind = "electricity"
    devices = METERS
    version = 2
    params_model = StartStopSyncParams
    severity = Severity.WARNING
    title_zh = "产治设施启停不同步"

    def scope(self, context: PointContext) -> str:
        return f"enterprise:{context.enterprise_id}"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        reading = upload.values.get(POWER)
        if context.meter_id is None or reading is None or reading.level is None:
            return []
        if context.meter_kind not in {"production", "treatment"}:
            return []
        params = self.params_for(rules, context, None)
        rated = context.rated_kw or 0.0
        production: dict[int, MeterState] = state.setdefault("production", {})
        treatment: dict[int, TreatmentSync] = state.setdefault("treatment", {})
        if context.meter_kind == "production":
            self._seen(production, context.meter_id, context.mn,
                       production_runs(reading.level, rated, params), upload)  # fmt: skip
        else:
            sync = treatment.get(context.meter_id)
            normal = sync.normal if sync is not None else NormalPower()
            on = normal.running(reading.level, rated, params)
            if on is None:
                return []
            meter = self._seen({} if sync is None else {context.meter_id: sync.meter},
                               context.meter_id, context.mn, on, upload)  # fmt: skip
            if sync is None:
                sync = treatment[context.meter_id] = TreatmentSync(meter, context.serves, normal)
            sync.serves = context.serves
            if sync.producing:
                normal.add(upload.data_time, reading.level, rated, params)
        findings: list[Finding] = []
        for sync in treatment.values():
            findings += self._judge(sync, production, upload, params)
        return findings

    @staticmethod
    def _seen(
        meters: dict[int, MeterState], meter_id: int, mn: str, on: bool, upload: Upload
    ) -> MeterState:
        meter = meters.get(meter_id)
        if meter is None:
            meter = meters[meter_id] = MeterState(mn, on, None, upload.data_time)
        elif meter.on != on:
            meter.on, meter.changed_at = on, upload.data_time
        meter.seen_at, meter.frame_id = upload.data_time, upload.frame_id
        return meter

    def _judge(
        self,
        sync: TreatmentSync,
        production: dict[int, MeterState],
        upload: Upload,
        params: StartStopSyncParams,
    ) -> list[Finding]:
        fresh = timedelta(minutes=params.fresh_minutes)
        served = [
            m
            for meter_id, m in production.items()
            if (not sync.serves or meter_id in sync.serves)
            and upload.data_time - m.seen_at <= fresh
        ]
        producing = any(m.on for m in served)
        findings: list[Finding] = []
        if producing and not sync.producing:
            # A start only when production was seen off before (not at the first reading).
            changed = [m.changed_at for m in served if m.on and m.changed_at is not None]
            sync.started = min(changed) if changed else None
            sync.start_checked = False
        elif not producing and sync.producing:
            findings += self._stopped(sync, upload, params)
        sync.producing = producing
        lead = timedelta(minutes=params.lead_minutes)
        started = sync.started
        if (
            producing
            and started is not None
            and not sync.start_checked
            and upload.data_time - started >= lead
            and sync.meter.seen_at >= started + lead
        ):
            sync.start_checked = True
            findings += self._late_start(sync.meter, started, upload, params)
        return findings

    def _late_start(
        self, meter: MeterState, started: datetime, upload: Upload, params: StartStopSyncParams
    ) -> list[Finding]:
        lead = timedelta(minutes=params.lead_minutes)
        turned_on = meter.changed_at
        if meter.on and (turned_on is None or turned_on <= started + lead):
            return []
        late = f"于{clock_text(turned_on)}才启动" if meter.on and turned_on else "仍未启动"
        return [
            self.finding(
                upload,
                None,
                started,
                meter.seen_at,
                f"生产设施于{clock_text(started)}启动，治污设施{params.lead_minutes:g}分钟内"
                f"未同步启动（{late}），不符合产治同启同停要求",
                {
                    "production_started_at": clock_text(started),
                    "treatment_on": meter.on,
                    "treatment_changed_at": None
                    if meter.changed_at is None
                    else clock_text(meter.changed_at),
                    "frames": [upload.frame_id, meter.frame_id],
                },
                params,
                mn=meter.mn,
            )
        ]

    def _stopped(
        self, sync: TreatmentSync, upload: Upload, params: StartStopSyncParams
    ) -> list[Finding]:
        """Production just stopped: a treatment circuit that stopped well before it."""
        stopped_at = upload.data_time
        meter = sync.meter
        early = meter.changed_at
        lead = timedelta(minutes=params.lead_minutes)
        if meter.on or early is None or stopped_at - early <= lead:
            return []
        if sync.started is not None and early < sync.started:
            return []  # off since before this run of production: a late start, not an early stop
        return [
            self.finding(
                upload,
                None,
                early,
                stopped_at,
                f"治污设施于{clock_text(early)}停运，早于生产设施停运（{clock_text(stopped_at)}）"
                f"{(stopped_at - early).total_seconds() / 60:.0f}分钟，不符合产治同启同停要求",
                {
                    "treatment_stopped_at": clock_text(early),
                    "production_stopped_at": clock_text(stopped_at),
                    "frames": [meter.frame_id, upload.frame_id],
                },
                params,
                mn=meter.mn,
            )
        ]


class EmergencyConsumptionParams(Params):
    required_cut: dict[str, float]
    """By warning level: the share production must cut (0 where none is required)."""
    cut_by_grade: dict[str, dict[str, float]] = Field(default_factory=dict)
    """By performance grade (绩效分级), the cut of each level where it differs
    (A-grade firms choose their own measures: no cut to check)."""
    tolerance: float = Field(ge=0)
    baseline_days: int = Field(ge=1)
    min_baseline_days: int = Field(ge=1)
    min_hours: int = Field(ge=1)
    max_gap_minutes: float = Field(gt=0)


@register
class EmergencyConsumption(Rule):
    """应急减排未落实 (rules.md §3.4): during a heavy-pollution-weather warning, a
    production circuit's energy against its baseline (the same hours of the
    previous non-warning days) cut by less than its enterprise's grade requires
    at that level (none for exempt enterprises); where the meter is on a line
    of the enterprise's emergency list (应急减排清单), the cut that list
    requires instead (a line that must stop is ``emergency_stop``'s). Judged
    as each hour of the warning ends; once per warning and meter."""

    id = "emergency_consumption"
    kind = "electricity"
    devices = METERS
    version = 3
    params_model = EmergencyConsumptionParams
    severity = Severity.ALARM
    title_zh = "重污染天气应急减排未落实"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        reading = upload.values.get(POWER)
        if context.meter_kind != "production" or reading is None or reading.level is None:
            return []
        params = self.params_for(rules, context, None)
        hours: dict[datetime, float] = state.setdefault("hours", {})  # kWh per hour
        hour = upload.data_time.replace(minute=0, second=0, microsecond=0)
        findings: list[Finding] = []
        previous: tuple[datetime, float] | None = state.get("previous")
        state["previous"] = (upload.data_time, reading.level)
        if previous is not None:
            seconds = (upload.data_time - previous[0]).total_seconds()
            if 0 < seconds <= params.max_gap_minutes * 60:
                before = previous[0].replace(minute=0, second=0, microsecond=0)
                hours[before] = hours.get(before, 0.0) + previous[1] * seconds / 3600
            last = state.get("hour")
            if last is not None and hour > last:
                findings += self._judge(state, last, upload, context, params)
        state["hour"] = hour
        keep = hour - timedelta(days=params.baseline_days + 1)
        for old in [h for h in hours if h < keep]:
            del hours[old]
        return findings

    def _judge(
        self,
        state: Any,
        hour: datetime,
        upload: Upload,
        context: PointContext,
        params: EmergencyConsumptionParams,
    ) -> list[Finding]:
        warning = context.emergency_at(hour)
        if warning is None or context.emergency_exempt:
            return []
        listed = context.listed_measure(hour, warning.level)
        if listed is not None:
            cut = listed_cut(listed[1])
            if cut is None:
                return []  # a line that must stop: emergency_stop judges it at once
        else:
            cuts = params.cut_by_grade.get(context.performance_grade, params.required_cut)
            cut = cuts.get(warning.level, 0.0)
        if cut <= 0:
            return []
        hours: dict[datetime, float] = state["hours"]
        baseline = []
        for days_back in range(1, params.baseline_days + 1):
            same = hour - timedelta(days=days_back)
            if same in hours and context.emergency_at(same) is None:
                baseline.append(hours[same])
        if len(baseline) < params.min_baseline_days:
            return []
        tallies: dict[datetime, WarningTally] = state.setdefault("warnings", {})
        tally = tallies.setdefault(warning.period.start, WarningTally())
        tally.energy_kwh += hours.get(hour, 0.0)
        tally.baseline_kwh += sum(baseline) / len(baseline)
        tally.hours += 1
        allowed = (1 - cut) * tally.baseline_kwh * (1 + params.tolerance)
        if tally.hours < params.min_hours or tally.energy_kwh <= allowed or tally.reported:
            return []
        tally.reported = True
        level_zh = LEVELS_ZH.get(warning.level, warning.level)
        reference = f"（{warning.reference}）" if warning.reference else ""
        return [
            self.finding(
                upload,
                None,
                warning.period.start,
                hour + timedelta(hours=1),
                f"重污染天气{level_zh}预警期间{reference}，该生产设施{tally.hours}小时用电"
                f"{tally.energy_kwh:.0f} kWh，为非预警日同时段基准{tally.baseline_kwh:.0f} kWh的"
                f"{tally.energy_kwh / tally.baseline_kwh:.0%}，未达到减产{cut:.0%}的要求",
                {
                    "level": warning.level,
                    "reference": warning.reference,
                    "energy_kwh": round(tally.energy_kwh, 2),
                    "baseline_kwh": round(tally.baseline_kwh, 2),
                    "hours": tally.hours,
                    "required_cut": cut,
                    "listed_line": listed[0].line if listed is not None else None,
                    "performance_grade": context.performance_grade,
                    "meter_id": context.meter_id,
                    "frames": [upload.frame_id],
                },
                params,
            )
        ]


def listed_cut(measure: str) -> float | None:
    """The share an emergency-list measure cuts: 0 for none, None for a stop
    (or staggered production, which keeps the line off through a warning)."""
    if measure.startswith("cut:"):
        return float(measure[4:])
    return None if measure in ("stop", "staggered") else 0.0


class EmergencyStopParams(Params):
    production_on_share: float = Field(gt=0, lt=1)
    """k_on: above this share of its rated power a production line runs (rules.md §3.4)."""
    confirm_readings: int = Field(ge=1)
    """Consecutive readings above k_on before the line counts as running (one
    reading may be a start-up transient or a meter's glitch)."""


@register
class EmergencyStop(Rule):
    """应急停产未落实 (rules.md §3.4): during a heavy-pollution-weather warning, a
    production circuit on a line that the enterprise's emergency list stops at
    that level (停产, or 错峰生产) draws production power, above k_on of its
    rating. Non-compliant at once: found on the reading that confirms it, so
    the desk opens the alert within its next pass; once per warning and meter."""

    id = "emergency_stop"
    kind = "electricity"
    devices = METERS
    version = 1
    params_model = EmergencyStopParams
    severity = Severity.ALARM
    title_zh = "重污染天气应急停产未落实"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        reading = upload.values.get(POWER)
        if context.meter_kind != "production" or reading is None or reading.level is None:
            return []
        warning = context.emergency_at(upload.data_time)
        listed = context.listed_measure(upload.data_time, warning.level) if warning else None
        rated = context.rated_kw or 0.0
        if (warning is None or listed is None or context.emergency_exempt or rated <= 0
                or listed[1] not in ("stop", "staggered")):  # fmt: skip
            state.pop("running", None)
            return []
        params = self.params_for(rules, context, None)
        limit = params.production_on_share * rated
        if reading.level <= limit:
            state.pop("running", None)
            return []
        reported: set[datetime] = state.setdefault("reported", set())
        if warning.period.start in reported:
            return []
        running: list[tuple[datetime, float, int | None]] = state.setdefault("running", [])
        running.append((upload.data_time, reading.level, upload.frame_id))
        if len(running) < params.confirm_readings:
            return []
        reported.add(warning.period.start)
        line, measure = listed
        level_zh = LEVELS_ZH.get(warning.level, warning.level)
        reference = f"（{warning.reference}）" if warning.reference else ""
        since = running[0][0]
        return [
            self.finding(
                upload,
                None,
                warning.period.start,
                upload.data_time,
                f"重污染天气{level_zh}预警期间{reference}，应急减排清单要求"
                f"{'停产' if measure == 'stop' else '错峰生产（停产）'}的生产线“{line.line}”"
                f"自{clock_text(since)}起仍在用电，功率{reading.level:.0f} kW，"
                f"超过额定功率{rated:.0f} kW的{params.production_on_share:.0%}",
                {
                    "level": warning.level,
                    "reference": warning.reference,
                    "line": line.line,
                    "measure": measure,
                    "power_kw": reading.level,
                    "rated_kw": rated,
                    "limit_kw": round(limit, 2),
                    "running_since": since.isoformat(),
                    "meter_id": context.meter_id,
                    "frames": [frame for _, _, frame in running if frame is not None],
                },
                params,
            )
        ]


@dataclass
class WarningTally:
    """A production circuit's energy during one warning so far, and its baseline."""

    energy_kwh: float = 0.0
    baseline_kwh: float = 0.0
    hours: int = 0
    reported: bool = False


LEVELS_ZH = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
