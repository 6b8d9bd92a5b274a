"""Electricity cross-checks (rules.md §3): production against treatment circuits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from envwatch.rules.catalogue.base import (
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
