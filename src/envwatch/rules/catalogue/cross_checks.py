"""Cross-checks between channels (rules.md §2.3): O2 against flow (B6), flow
against concentration (B7), flue temperature against SO2 (B8), a fall after a
warning against flow (B11), declared stops against flow (B12)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from envwatch.rules.catalogue.base import (
    HOURLY,
    NON_POLLUTANTS,
    POINTS,
    REALTIME,
    Rule,
    Run,
    clock_text,
    compliance_value,
    flow_level,
    limit_evidence,
    name_of,
    register,
    running,
)
from envwatch.rules.catalogue.falsification import RunParams
from envwatch.rules.model import (
    FLUE_GAS_FLOW_CODE,
    O2_CODE,
    WATER_FLOW_CODE,
    Finding,
    PointContext,
    Severity,
    Upload,
)
from envwatch.rules.normal import NormalLevel
from envwatch.rules.parameters import Params, RuleSet


class O2DilutionParams(RunParams):
    o2_percent: float = Field(gt=0, lt=21)
    stopped_flags: frozenset[str] = Field(min_length=1)
    """Marks of a stopped source (F): its fans purge with air, O2 reads ambient."""


@register
class O2Dilution(Rule):
    """B6 稀释: O2 at or above a threshold while flue gas flows, outside
    periods marked stopped (a shut-down unit's fans purge it with air)."""

    id = "o2_dilution"
    kind = "falsification"
    reads = frozenset({REALTIME})
    version = 2
    params_model = O2DilutionParams
    severity = Severity.ALARM
    title_zh = "氧含量异常（疑似稀释）"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        o2 = upload.values.get(O2_CODE)
        if upload.cn != REALTIME or o2 is None or o2.level is None:
            return []
        params = self.params_for(rules, context, O2_CODE)
        run: Run = state.setdefault(O2_CODE, Run())
        stopped = any(v.flag in params.stopped_flags for v in upload.values.values())
        if o2.level < params.o2_percent or not running(upload) or stopped:
            run.clear()
            return []
        run.extend(upload, o2.level)
        if run.count < params.consecutive or run.reported:
            return []
        run.reported = True
        assert run.start is not None
        return [
            self.finding(
                upload,
                O2_CODE,
                run.start,
                upload.data_time,
                f"烟气含氧量自{clock_text(run.start)}起连续{run.count}个实时值不低于"
                f"{params.o2_percent:g}%（最新{o2.level:g}%），烟气仍在排放，疑似稀释排放",
                {"o2_values": run.values, "frames": run.frames},
                params,
            )
        ]


class DeclaredStoppedParams(RunParams):
    flags: frozenset[str] = Field(min_length=1)
    min_flow: float = Field(ge=0)
    """Until the point's normal running flow is learned: a flow above this runs."""
    running_share: float = Field(gt=0, lt=1)
    """A flow above this share of the point's normal running flow runs (a
    shut-down unit's fans purge it with far less)."""
    normal_days: int = Field(ge=1)
    """Normal running flow: the median hourly mean flow of the unmarked hours
    over this many recent days ..."""
    normal_min_hours: int = Field(ge=1)
    """... once this many are learned."""
    air_o2_percent: float = Field(gt=0, le=21)
    """O2 at or above this: the fans move ambient air (a purge), not flue gas."""


@dataclass
class NormalFlow(NormalLevel):
    """A point's normal running flow, learned from its own unmarked readings."""

    def add(self, when: datetime, flow: float, params: DeclaredStoppedParams) -> None:
        self.learn(when, flow, days=params.normal_days, min_hours=params.normal_min_hours)

    def threshold(self, params: DeclaredStoppedParams) -> float:
        """The flow above which the point runs."""
        if self.level is None:
            return params.min_flow
        return params.running_share * self.level


@register
class DeclaredStopped(Rule):
    """B12 标停未停: data marked stopped (F) while the flow says the source runs:
    above a share of the point's normal running flow (learned from its own
    unmarked data), and, for flue gas, not ambient air (a purge)."""

    id = "declared_stopped"
    kind = "falsification"
    reads = frozenset({REALTIME})
    version = 2
    params_model = DeclaredStoppedParams
    severity = Severity.ALARM
    title_zh = "标停未停"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != REALTIME:
            return []
        params = self.params_for(rules, context, None)
        flow = next(
            (upload.values[c].level for c in (FLUE_GAS_FLOW_CODE, WATER_FLOW_CODE)
             if c in upload.values and upload.values[c].level is not None),
            None,
        )  # fmt: skip
        marked = [code for code, v in upload.values.items()
                  if code not in NON_POLLUTANTS and v.flag in params.flags]  # fmt: skip
        normal: NormalFlow = state.setdefault("normal", NormalFlow())
        flags = {v.flag or "N" for v in upload.values.values()}
        if flow is not None and flow > 0 and flags <= rules.validity.valid_flags:
            normal.add(upload.data_time, flow, params)
        o2 = upload.values.get(O2_CODE)
        purge = o2 is not None and o2.level is not None and o2.level >= params.air_o2_percent
        run: Run = state.setdefault("run", Run())
        threshold = normal.threshold(params)
        if not marked or flow is None or flow <= threshold or purge:
            run.clear()
            return []
        run.extend(upload, flow)
        if run.count < params.consecutive or run.reported:
            return []
        run.reported = True
        assert run.start is not None
        return [
            self.finding(
                upload,
                None,
                run.start,
                upload.data_time,
                f"自{clock_text(run.start)}起{run.count}个实时数据标记为停运（{','.join(sorted(marked))}），"
                f"而烟气或废水流量仍为{flow:g}（高于运行判定值{threshold:g}），疑似标停未停",
                {
                    "flows": run.values,
                    "marked": sorted(marked),
                    "normal_flow": normal.level,
                    "threshold": round(threshold, 4),
                    "frames": run.frames,
                },
                params,
            )
        ]


class StillFlowParams(RunParams):
    min_change: float = Field(ge=0)


@register
class ConcentrationWithoutFlow(Rule):
    """B7 流量浓度不匹配: wastewater concentrations keep changing while the
    flow stays at zero (the Shanghai 2023 case: the sampler idle, numbers made up)."""

    id = "concentration_without_flow"
    kind = "falsification"
    reads = frozenset({REALTIME})
    version = 1
    params_model = StillFlowParams
    severity = Severity.WARNING
    title_zh = "流量与浓度不匹配"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        flow = upload.values.get(WATER_FLOW_CODE)
        if upload.cn != REALTIME or flow is None or flow.level is None:
            return []
        params = self.params_for(rules, context, WATER_FLOW_CODE)
        run: Run = state.setdefault("run", Run())
        previous: dict[str, float] = state.get("previous", {})
        current = {code: v.level for code, v in upload.values.items()
                   if code not in NON_POLLUTANTS and v.level is not None}  # fmt: skip
        state["previous"] = current
        changed = any(
            abs(value - previous[code]) > params.min_change
            for code, value in current.items()
            if code in previous
        )
        if flow.level > 0 or not changed:
            run.clear()
            return []
        run.extend(upload, 0.0)
        if run.count < params.consecutive or run.reported:
            return []
        run.reported = True
        assert run.start is not None
        return [
            self.finding(
                upload,
                WATER_FLOW_CODE,
                run.start,
                upload.data_time,
                f"自{clock_text(run.start)}起废水流量为零，而浓度数据仍连续{run.count}次变化，"
                "疑似采样或分析设备未运行而数据造假",
                {"concentrations": current, "frames": run.frames},
                params,
            )
        ]


class DropAfterWarningParams(Params):
    share_of_limit: float = Field(gt=0, le=1)
    consecutive: int = Field(ge=1)
    minutes: float = Field(gt=0)
    drop_share: float = Field(gt=0, lt=1)


@register
class DropAfterWarning(Rule):
    """B11 预警后骤降: a concentration that falls by more than half in one step
    from near its limit (the early-warning condition), its very next reading,
    while the flow does not fall with it: the process did not change, the
    figures did. A fall over several readings is a process responding."""

    id = "drop_after_warning"
    kind = "falsification"
    reads = frozenset({REALTIME})
    version = 1
    params_model = DropAfterWarningParams
    severity = Severity.WARNING
    title_zh = "预警后浓度骤降"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != REALTIME:
            return []
        flow = flow_level(upload)
        findings = []
        for code, values in upload.values.items():
            limit = context.limit(code)
            if limit is None:
                continue
            params = self.params_for(rules, context, code)
            value, _ = compliance_value(upload, code, values, limit, rules)
            if value is None or (values.flag or "N") not in rules.validity.valid_flags:
                continue
            series = state.setdefault(code, {"run": 0, "warned": None})
            if value >= params.share_of_limit * limit.value:
                series["run"] += 1
                if series["run"] >= params.consecutive:
                    series["warned"] = (upload.data_time, value, flow, upload.frame_id)
                continue
            series["run"] = 0
            warned: tuple[datetime, float, float | None, int | None] | None = series["warned"]
            if warned is None:
                continue
            # Judged once, on the first value back under the warning level: a cliff
            # from the last warning value is implausible for a process, while a
            # control response (more ammonia to the SCR) falls over several readings.
            series["warned"] = None
            if upload.data_time - warned[0] > timedelta(minutes=params.minutes):
                continue
            if warned[2] is None or flow is None:
                continue  # without a flow the fall cannot be told from a load change
            fell = value <= (1 - params.drop_share) * warned[1]
            flow_held = flow > (1 - params.drop_share) * warned[2]
            if not (fell and flow_held):
                continue
            findings.append(
                self.finding(
                    upload,
                    code,
                    warned[0],
                    upload.data_time,
                    f"{name_of(code)}于{clock_text(warned[0])}接近限值（{warned[1]:.2f}{limit.unit}）后，"
                    f"{(upload.data_time - warned[0]).total_seconds() / 60:.0f}分钟内骤降至"
                    f"{value:.2f}{limit.unit}（降幅{1 - value / warned[1]:.0%}），"
                    f"而流量未相应下降（{warned[2]:g}→{flow:g}），疑似人为干预监测数据",
                    {
                        "warned_value": round(warned[1], 4),
                        "value": round(value, 4),
                        "flow_before": warned[2],
                        "flow_after": flow,
                        **limit_evidence(context, code),
                        "frames": [warned[3], upload.frame_id],
                    },
                    params,
                )
            )
        return findings


FLUE_TEMPERATURE_CODE = "a01012"
SO2_CODE = "a21026"


class WetDesulfurisationParams(Params):
    applies: bool
    """Whether the outlet's flue gas passes a wet desulfuriser (set per industry)."""
    max_temperature: float = Field(gt=0)
    low_share_of_limit: float = Field(gt=0, le=1)
    consecutive: int = Field(ge=1)


@register
class WetDesulfurisationTemperature(Rule):
    """B8 湿法脱硫烟温: flue gas hotter than a wet desulfuriser lets it out (it
    leaves saturated, around 50 °C) while SO2 stays low: the gas bypassed the
    desulfuriser, and the analyser does not show it."""

    id = "wet_fgd_temperature"
    kind = "falsification"
    reads = frozenset({HOURLY})
    devices = POINTS
    version = 1
    params_model = WetDesulfurisationParams
    severity = Severity.WARNING
    title_zh = "湿法脱硫烟温异常"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        temperature = upload.values.get(FLUE_TEMPERATURE_CODE)
        so2 = upload.values.get(SO2_CODE)
        limit = context.limit(SO2_CODE)
        if upload.cn != HOURLY or temperature is None or so2 is None or limit is None:
            return []
        params = self.params_for(rules, context, SO2_CODE)
        if not params.applies or context.reheated or temperature.level is None:
            return []  # reheated flue gas (MGGH) leaves hot by design
        value, used = compliance_value(upload, SO2_CODE, so2, limit, rules)
        run: Run = state.setdefault("run", Run())
        hot_and_low = (
            temperature.level > params.max_temperature
            and value is not None
            and value < params.low_share_of_limit * limit.value
            and running(upload)
        )
        if not hot_and_low:
            run.clear()
            return []
        run.extend(upload, temperature.level)
        if run.count < params.consecutive or run.reported:
            return []
        run.reported = True
        assert run.start is not None and value is not None
        return [
            self.finding(
                upload,
                SO2_CODE,
                run.start,
                upload.data_time + timedelta(hours=1),
                f"湿法脱硫出口烟温自{clock_text(run.start)}起连续{run.count}小时高于"
                f"{params.max_temperature:g}℃（最新{temperature.level:g}℃），而二氧化硫仅"
                f"{value:.2f}{limit.unit}，疑似烟气旁路或监测数据失真",
                {
                    "temperatures": run.values,
                    **used,
                    **limit_evidence(context, SO2_CODE),
                    "frames": run.frames,
                },
                params,
            )
        ]
