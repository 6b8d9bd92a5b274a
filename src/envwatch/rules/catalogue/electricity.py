"""Electricity cross-checks (rules.md §3): production against treatment circuits,
meters themselves, night production and heavy-pollution-weather warnings."""

from __future__ import annotations

from dataclasses import dataclass
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
)
from envwatch.rules.parameters import Params, RuleSet


class TreatmentOffParams(Params):
    production_on_share: float = Field(gt=0, lt=1)
    treatment_idle_share: float = Field(gt=0, lt=1)
    minutes: float = Field(gt=0)


POWER = "power_kw"


@register
class TreatmentOff(Rule):
    """B13 产治不同步: a treatment circuit off or idling while production of the
    same enterprise runs, for a while."""

    id = "treatment_off"
    kind = "electricity"
    devices = METERS
    version = 1
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
        production: dict[int, tuple[datetime, bool]] = state.setdefault("production", {})
        if context.meter_kind == "production":
            on = rated > 0 and reading.level > params.production_on_share * rated
            production[context.meter_id] = (upload.data_time, on)
            return []
        if context.meter_kind != "treatment":
            return []
        fresh = timedelta(minutes=params.minutes)
        producing = any(on and upload.data_time - seen <= fresh for seen, on in production.values())
        runs: dict[int, Run] = state.setdefault("treatment", {})
        run = runs.setdefault(context.meter_id, Run())
        idle = rated > 0 and reading.level < params.treatment_idle_share * rated
        if not (producing and idle):
            run.clear()
            return []
        run.extend(upload, reading.level)
        assert run.start is not None
        lasted = upload.data_time - run.start
        if lasted < fresh or run.reported:
            return []
        run.reported = True
        return [
            self.finding(
                upload,
                None,
                run.start,
                upload.data_time,
                f"生产设施运行期间，治污设施用电自{clock_text(run.start)}起持续"
                f"{lasted.total_seconds() / 60:.0f}分钟低于额定功率的"
                f"{params.treatment_idle_share:.0%}（最新{reading.level:g} kW，额定{rated:g} kW），"
                "疑似治污设施未开启或空转",
                {
                    "power_kw": run.values,
                    "rated_kw": rated,
                    "meter_id": context.meter_id,
                    "frames": run.frames,
                },
                params,
            )
        ]


class MeterFrozenParams(Params):
    minutes: float = Field(gt=0)


@register
class MeterFrozen(Rule):
    """B1 on a meter (rules.md §3.3): its power reading exactly constant for hours."""

    id = "meter_frozen"
    kind = "electricity"
    devices = METERS
    version = 1
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
        run: Run = state.setdefault("run", Run())
        if run.anchor is not None and reading.level != run.anchor:
            run.clear()
        run.extend(upload, reading.level)
        assert run.start is not None
        lasted = upload.data_time - run.start
        if lasted < timedelta(minutes=params.minutes) or run.reported:
            return []
        run.reported = True
        return [
            self.finding(
                upload,
                None,
                run.start,
                upload.data_time,
                f"电表功率读数自{clock_text(run.start)}起{lasted.total_seconds() / 3600:.1f}小时"
                f"保持{reading.level:g} kW不变，疑似电表或采集故障",
                {
                    "power_kw": reading.level,
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


@register
class NightProduction(Rule):
    """夜间生产 (rules.md §3.3): a production circuit drawing more at night than by
    day, on average over several days; judged as each day ends."""

    id = "night_production"
    kind = "electricity"
    devices = METERS
    version = 1
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


class StartStopSyncParams(Params):
    production_on_share: float = Field(gt=0, lt=1)
    treatment_on_share: float = Field(gt=0, lt=1)
    lead_minutes: float = Field(gt=0)
    fresh_minutes: float = Field(gt=0)


@register
class StartStopSync(Rule):
    """同启同停 (rules.md §3.3): treatment must start no later than a few minutes
    after production starts, and must not stop before production stops."""

    id = "start_stop_sync"
    kind = "electricity"
    devices = METERS
    version = 1
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
        share = (
            params.production_on_share
            if context.meter_kind == "production"
            else params.treatment_on_share
        )
        on = rated > 0 and reading.level > share * rated
        meters: dict[int, MeterState] = state.setdefault(context.meter_kind, {})
        meter = meters.get(context.meter_id)
        if meter is None:
            meter = meters[context.meter_id] = MeterState(context.mn, on, None, upload.data_time)
        elif meter.on != on:
            meter.on, meter.changed_at = on, upload.data_time
        meter.seen_at, meter.frame_id = upload.data_time, upload.frame_id
        fresh = timedelta(minutes=params.fresh_minutes)
        production = [
            m for m in state.get("production", {}).values() if upload.data_time - m.seen_at <= fresh
        ]
        treatment: dict[int, MeterState] = state.get("treatment", {})
        producing = any(m.on for m in production)
        findings: list[Finding] = []
        started: datetime | None = state.get("started")
        if producing and not state.get("producing", False):
            # A start only when production was seen off before (not at the first reading).
            changed = [m.changed_at for m in production if m.on and m.changed_at is not None]
            state["started"] = started = min(changed) if changed else None
            state["start_checked"] = set()
        elif not producing and state.get("producing", False):
            findings += self._stopped(state, treatment, upload, params)
        state["producing"] = producing
        lead = timedelta(minutes=params.lead_minutes)
        if producing and started is not None and upload.data_time - started >= lead:
            findings += self._late_starts(state, treatment, started, upload, params)
        return findings

    def _late_starts(
        self,
        state: Any,
        treatment: dict[int, MeterState],
        started: datetime,
        upload: Upload,
        params: StartStopSyncParams,
    ) -> list[Finding]:
        checked: set[int] = state["start_checked"]
        lead = timedelta(minutes=params.lead_minutes)
        findings = []
        for meter_id, meter in treatment.items():
            if meter_id in checked or meter.seen_at < started + lead:
                continue  # not yet seen after the lead time
            checked.add(meter_id)
            turned_on = meter.changed_at
            if meter.on and (turned_on is None or turned_on <= started + lead):
                continue
            late = f"于{clock_text(turned_on)}才启动" if meter.on and turned_on else "仍未启动"
            findings.append(
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
            )
        return findings

    def _stopped(
        self,
        state: Any,
        treatment: dict[int, MeterState],
        upload: Upload,
        params: StartStopSyncParams,
    ) -> list[Finding]:
        """Production just stopped: a treatment circuit that stopped well before it."""
        stopped_at = upload.data_time
        started: datetime | None = state.get("started")
        lead = timedelta(minutes=params.lead_minutes)
        findings = []
        for meter in treatment.values():
            early = meter.changed_at
            if meter.on or early is None or stopped_at - early <= lead:
                continue
            if started is not None and early < started:
                continue  # off since before this run of production: a late start, not an early stop
            findings.append(
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
            )
        return findings


@dataclass
class MeterState:
    mn: str
    on: bool
    changed_at: datetime | None
    """When the meter last turned on or off (None: as first seen)."""
    seen_at: datetime
    frame_id: int | None = None


class EmergencyConsumptionParams(Params):
    required_cut: dict[str, float]
    """By warning level: the share production must cut (0 where none is required)."""
    tolerance: float = Field(ge=0)
    baseline_days: int = Field(ge=1)
    min_baseline_days: int = Field(ge=1)
    min_hours: int = Field(ge=1)
    max_gap_minutes: float = Field(gt=0)


@register
class EmergencyConsumption(Rule):
    """应急减排未落实 (rules.md §3.4): during a heavy-pollution-weather warning, a
    production circuit's energy against its baseline (the same hours of the
    previous non-warning days) cut by less than the level requires. Judged as
    each hour of the warning ends; once per warning and meter."""

    id = "emergency_consumption"
    kind = "electricity"
    devices = METERS
    version = 1
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
        cut = params.required_cut.get(warning.level, 0.0) if warning else 0.0
        if warning is None or cut <= 0:
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
                    "meter_id": context.meter_id,
                    "frames": [upload.frame_id],
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
