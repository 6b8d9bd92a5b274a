"""Falsified and abnormal data (rules.md §2.3, B1-B12)."""

from __future__ import annotations

import statistics
from collections import deque
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from envwatch.rules.catalogue.base import (
    HOURLY,
    NON_POLLUTANTS,
    REALTIME,
    Rule,
    Run,
    clock_text,
    compliance_value,
    limit_evidence,
    name_of,
    register,
    running,
)
from envwatch.rules.model import (
    FLUE_GAS_FLOW_CODE,
    O2_CODE,
    WATER_FLOW_CODE,
    Finding,
    PointContext,
    Severity,
    Upload,
)
from envwatch.rules.parameters import Params, RuleSet


class RunParams(Params):
    consecutive: int = Field(ge=2)


class ConstantParams(RunParams):
    epsilon: float = Field(ge=0)


class _RunRule(Rule):
    """A condition on each real-time value of a pollutant, held ``consecutive`` times."""

    condition_zh: ClassVar[str]

    def holds(self, value: float, run: Run, params: Any) -> bool:
        raise NotImplementedError

    def applies(self, upload: Upload, context: PointContext, code: str) -> bool:
        # A meter's readings have rules of their own (an idle circuit reads zero).
        return context.meter_id is None and code not in NON_POLLUTANTS and running(upload)

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != REALTIME:
            return []
        findings = []
        for code, values in upload.values.items():
            level = values.level
            run: Run = state.setdefault(code, Run())
            if level is None or not self.applies(upload, context, code):
                run.clear()
                continue
            params = self.params_for(rules, context, code)
            if not self.holds(level, run, params):
                run.clear()
                if not self.holds(level, run, params):
                    continue
            run.extend(upload, level)
            if run.count >= params.consecutive and not run.reported:
                run.reported = True
                assert run.start is not None
                findings.append(
                    self.finding(
                        upload,
                        code,
                        run.start,
                        upload.data_time,
                        f"{name_of(code)}自{clock_text(run.start)}起连续{run.count}个实时值"
                        f"{self.condition_zh}（{level:g}），而排放仍在进行",
                        {
                            "values": run.values,
                            "frames": run.frames,
                            **limit_evidence(context, code),
                        },
                        params,
                    )
                )
        return findings


@register
class Constant(_RunRule):
    """B1 恒值: real-time values frozen (within epsilon) while the source runs."""

    id = "constant"
    version = 1
    params_model = ConstantParams
    severity = Severity.WARNING
    title_zh = "恒值异常"
    condition_zh = "保持不变"

    def holds(self, value: float, run: Run, params: Any) -> bool:
        # Runs of zeros are the zero rule's: one fault, one finding.
        return value != 0 and (run.anchor is None or abs(value - run.anchor) <= params.epsilon)


@register
class Zero(_RunRule):
    """B2 零值: zeros while the source runs (flow above zero)."""

    id = "zero"
    version = 1
    params_model = RunParams
    severity = Severity.WARNING
    title_zh = "零值异常"
    condition_zh = "为零"

    def holds(self, value: float, run: Run, params: Any) -> bool:
        return value == 0


class NegativeParams(Params):
    pass


@register
class Negative(Rule):
    """B3 负值: a negative concentration."""

    id = "negative"
    version = 1
    params_model = NegativeParams
    severity = Severity.WARNING
    title_zh = "负值异常"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        findings = []
        for code, values in upload.values.items():
            level = values.level
            was_negative = state.get(code, False)
            state[code] = level is not None and level < 0 and code not in NON_POLLUTANTS
            if state[code] and not was_negative:
                assert level is not None
                findings.append(
                    self.finding(
                        upload,
                        code,
                        upload.data_time,
                        upload.data_time,
                        f"{name_of(code)}出现负值（{level:g}）",
                        {"value": level, "cn": upload.cn, "frames": [upload.frame_id]},
                        self.params_for(rules, context, code),
                    )
                )
        return findings


class PinnedParams(Params):
    window: int = Field(ge=2)
    band_low: float = Field(gt=0, lt=1)
    min_share: float = Field(gt=0, le=1)
    max_cv: float = Field(gt=0)
    min_hours: int = Field(ge=2)


@register
class Pinned(Rule):
    """B5 贴限: most valid hours just under the limit, with little variation."""

    id = "pinned"
    version = 1
    params_model = PinnedParams
    severity = Severity.WARNING
    title_zh = "贴限排放"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != HOURLY:
            return []
        findings = []
        for code, values in upload.values.items():
            limit = context.limit(code)
            if limit is None or (values.flag or "N") not in rules.validity.valid_flags:
                continue
            value, _ = compliance_value(upload, code, values, limit, rules)
            if value is None:
                continue
            params = self.params_for(rules, context, code)
            hours: deque[tuple[datetime, float, int | None]] = state.setdefault(
                code, deque(maxlen=params.window)
            )
            hours.append((upload.data_time, value, upload.frame_id))
            reported_key = f"{code}:reported"
            if len(hours) < params.min_hours:
                continue
            levels = [v for _, v, _ in hours]
            in_band = [v for v in levels if params.band_low * limit.value <= v < limit.value]
            share = len(in_band) / len(levels)
            # How flat the top is: the variation of the hours in the band.
            cv = statistics.pstdev(in_band) / statistics.fmean(in_band) if in_band else 1.0
            pinned = share >= params.min_share and cv < params.max_cv
            if not pinned:
                state[reported_key] = False
                continue
            if state.get(reported_key):
                continue
            state[reported_key] = True
            findings.append(
                self.finding(
                    upload,
                    code,
                    hours[0][0],
                    upload.data_time + timedelta(hours=1),
                    f"{name_of(code)}近{len(levels)}个有效小时中{share:.0%}落在限值"
                    f"{limit.value:g}{limit.unit}的{params.band_low:.0%}至100%之间，"
                    f"且这些小时的变异系数仅{cv:.1%}，疑似贴限排放",
                    {
                        "hourly_values": [round(v, 4) for v in levels],
                        "share": round(share, 4),
                        "cv": round(cv, 5),
                        **limit_evidence(context, code),
                        "frames": [f for _, _, f in hours],
                    },
                    params,
                )
            )
        return findings


class O2DilutionParams(RunParams):
    o2_percent: float = Field(gt=0, lt=21)


@register
class O2Dilution(Rule):
    """B6 稀释: O2 at or above a threshold while flue gas flows."""

    id = "o2_dilution"
    version = 1
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
        if o2.level < params.o2_percent or not running(upload):
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


class FlagAbuseParams(Params):
    flags: frozenset[str] = Field(min_length=1)


@register
class FlagAbuse(Rule):
    """B10a 标记滥用: values marked M/C/D whose unmarked value exceeds the limit."""

    id = "flag_abuse"
    version = 1
    params_model = FlagAbuseParams
    severity = Severity.ALARM
    title_zh = "标记滥用"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        findings = []
        for code, values in upload.values.items():
            limit = context.limit(code)
            if limit is None:
                continue
            params = self.params_for(rules, context, code)
            run: Run = state.setdefault(code, Run())
            value, used = compliance_value(upload, code, values, limit, rules)
            if values.flag not in params.flags or value is None or value <= limit.value:
                run.clear()
                continue
            run.extend(upload, round(value, 4))
            if run.reported:
                continue
            run.reported = True
            findings.append(
                self.finding(
                    upload,
                    code,
                    upload.data_time,
                    upload.data_time,
                    f"{name_of(code)}数据被标记为“{values.flag}”，而其数值"
                    f"{value:.2f}{limit.unit}超过限值{limit.value:g}{limit.unit}，疑似以标记掩盖超标",
                    {
                        **used,
                        "value": round(value, 4),
                        "flag": values.flag,
                        "cn": upload.cn,
                        **limit_evidence(context, code),
                        "frames": [upload.frame_id],
                    },
                    params,
                )
            )
        return findings


class SpikeParams(Params):
    window: int = Field(ge=5)
    threshold: float = Field(gt=0)
    min_relative: float = Field(ge=0)


@register
class Spike(Rule):
    """突变 spike: one real-time value far from the recent median, by a robust
    z-score (median absolute deviation) and by a share of the median, with the
    next value back at the baseline."""

    id = "spike"
    version = 1
    params_model = SpikeParams
    severity = Severity.NOTICE
    title_zh = "数据突变"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != REALTIME or context.meter_id is not None or not running(upload):
            return []
        findings = []
        for code, values in upload.values.items():
            level = values.level
            if level is None or code in NON_POLLUTANTS:
                continue
            params = self.params_for(rules, context, code)
            recent: deque[float] = state.setdefault(code, deque(maxlen=params.window))
            pending_key = f"{code}:pending"
            # A candidate is a spike only if the next value is back at the
            # baseline: a lasting shift (zeros, a stop) is other rules' business.
            pending: tuple[Upload, float, float, float] | None = state.pop(pending_key, None)
            shift_key = f"{code}:shift"
            if pending is not None:
                candidate, value, median, spread = pending
                state[shift_key] = abs(level - median) > params.threshold * spread
                if not state[shift_key]:
                    findings.append(
                        self.finding(
                            candidate,
                            code,
                            candidate.data_time,
                            upload.data_time,
                            f"{name_of(code)}实时值{value:g}偏离近{params.window}个值的中位数"
                            f"{median:g}达{abs(value - median) / spread:.1f}倍稳健标准差，"
                            "随即恢复，数据突变",
                            {
                                "value": value,
                                "median": median,
                                "robust_sd": round(spread, 6),
                                "next_value": level,
                                "frames": [candidate.frame_id, upload.frame_id],
                            },
                            params,
                        )
                    )
            elif len(recent) == params.window:
                median = statistics.median(recent)
                spread = 1.4826 * statistics.median(abs(v - median) for v in recent)
                deviation = abs(level - median)
                outlier = (
                    spread > 0
                    and deviation > params.threshold * spread
                    and deviation > params.min_relative * abs(median)
                )
                if outlier and not state.get(shift_key):
                    state[pending_key] = (upload, level, median, spread)
                elif not outlier:
                    state[shift_key] = False
            recent.append(level)
        return findings


class DeclaredStoppedParams(RunParams):
    flags: frozenset[str] = Field(min_length=1)
    min_flow: float = Field(ge=0)


@register
class DeclaredStopped(Rule):
    """B12 标停未停: data marked stopped (F) while the flow says the source runs."""

    id = "declared_stopped"
    version = 1
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
        run: Run = state.setdefault("run", Run())
        if not marked or flow is None or flow <= params.min_flow:
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
                f"而烟气或废水流量仍为{flow:g}，疑似标停未停",
                {"flows": run.values, "marked": sorted(marked), "frames": run.frames},
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
