"""Falsified and abnormal data (rules.md §2.3, B1-B12)."""

from __future__ import annotations

import math
import statistics
from collections import deque
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from envwatch.hj212.model import DEVICE_INFO_COMMAND
from envwatch.rules.catalogue.base import (
    HOURLY,
    NON_POLLUTANTS,
    POINTS,
    REALTIME,
    Rule,
    Run,
    clock_text,
    compliance_value,
    day_of,
    flow_level,
    limit_evidence,
    name_of,
    register,
    running,
    valid_hourly_values,
)
from envwatch.rules.model import (
    HOUR_PERIOD,
    Finding,
    PointContext,
    Severity,
    Upload,
)
from envwatch.rules.parameters import Params, RuleSet
from envwatch.rules.statistics import (
    binomial_tail,
    chance_of_equal,
    interquartile_range,
    ks_two_sample,
)


class RunParams(Params):
    consecutive: int = Field(ge=2)


class ConstantParams(RunParams):
    epsilon: float = Field(ge=0)
    cycle_minutes: float = Field(ge=0)
    """The analyser's measurement cycle: 0 for a continuous analyser (every
    reading a result); a batch analyser (COD, NH3-N) holds each result this long."""
    cycles: int = Field(ge=2)
    """A batch analyser's value is constant once the same result spans this many cycles."""


class _RunRule(Rule):
    """A condition on each real-time value of a pollutant, held ``consecutive`` times."""

    reads = frozenset({REALTIME})
    devices = POINTS

    condition_zh: ClassVar[str]

    def holds(self, value: float, run: Run, params: Any) -> bool:
        raise NotImplementedError

    def applies(self, upload: Upload, context: PointContext, code: str, rules: RuleSet) -> bool:
        # A meter's readings have rules of their own (an idle circuit reads zero).
        return context.meter_id is None and code not in NON_POLLUTANTS and running(upload)

    def complete(self, run: Run, upload: Upload, params: Any) -> bool:
        """Whether ``run`` (``upload`` its newest value) makes a finding."""
        return bool(run.count >= params.consecutive)

    def describe(self, run: Run, upload: Upload, level: float, params: Any) -> str:
        assert run.start is not None
        return (
            f"自{clock_text(run.start)}起连续{run.count}个实时值"
            f"{self.condition_zh}（{level:g}），而排放仍在进行"
        )

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != REALTIME:
            return []
        findings = []
        for code, values in upload.values.items():
            level = values.level
            run: Run = state.setdefault(code, Run())
            # Marked values (calibration gas, a stopped plant's) are no
            # measurements of the process: the run ends with them.
            marked = (values.flag or "N") not in rules.validity.valid_flags
            if level is None or marked or not self.applies(upload, context, code, rules):
                run.clear()
                continue
            params = self.params_for(rules, context, code)
            if not self.holds(level, run, params):
                run.clear()
                if not self.holds(level, run, params):
                    continue
            finding = self.advance(run, upload, code, level, context=context, params=params)
            if finding is not None:
                findings.append(finding)
        return findings

    def advance(
        self,
        run: Run,
        upload: Upload,
        code: str,
        level: float,
        *,
        context: PointContext,
        params: Any,
    ) -> Finding | None:
        """``run`` extended by ``upload``'s ``level`` (which holds): the finding
        it completes, if any (the streaming and the columnar path both)."""
        run.extend(upload, level)
        if not self.complete(run, upload, params) or run.reported:
            return None
        run.reported = True
        assert run.start is not None
        return self.finding(
            upload,
            code,
            run.start,
            upload.data_time,
            f"{name_of(code)}{self.describe(run, upload, level, params)}",
            {"values": run.values, "frames": run.frames, **limit_evidence(context, code)},
            params,
        )


@register
class Constant(_RunRule):
    """B1 恒值: real-time values frozen (within epsilon) while the source runs."""

    id = "constant"
    for_stations = True
    kind = "falsification"
    version = 2
    params_model = ConstantParams
    severity = Severity.WARNING
    title_zh = "恒值异常"
    condition_zh = "保持不变"

    def holds(self, value: float, run: Run, params: Any) -> bool:
        # Runs of zeros are the zero rule's: one fault, one finding.
        return value != 0 and (run.anchor is None or abs(value - run.anchor) <= params.epsilon)

    def complete(self, run: Run, upload: Upload, params: Any) -> bool:
        if not params.cycle_minutes:
            return super().complete(run, upload, params)
        # A batch analyser repeats each result until the next: judged on
        # results, i.e. on how many cycles the same value spans.
        assert run.start is not None
        return upload.data_time - run.start >= timedelta(
            minutes=params.cycles * params.cycle_minutes
        )

    def describe(self, run: Run, upload: Upload, level: float, params: Any) -> str:
        if not params.cycle_minutes:
            return super().describe(run, upload, level, params)
        assert run.start is not None
        hours = (upload.data_time - run.start).total_seconds() / 3600
        return (
            f"自{clock_text(run.start)}起{hours:g}小时（{params.cycles}个以上"
            f"{params.cycle_minutes:g}分钟测量周期）测定结果保持不变（{level:g}），而排放仍在进行"
        )


class ZeroParams(RunParams):
    clean_fuel_reference_o2: frozenset[float] = frozenset()
    """Reference O2 of oil- and gas-fired units, whose SO2 and dust may truly
    read zero: not judged there (``clean_fuel_codes``)."""
    clean_fuel_codes: frozenset[str] = frozenset()


@register
class Zero(_RunRule):
    """B2 零值: exact zeros that persist while the source runs (flow above
    zero), where the process cannot be at zero (a gas-fired unit's SO2 can)."""

    id = "zero"
    for_stations = True
    kind = "falsification"
    version = 3
    params_model = ZeroParams
    severity = Severity.WARNING
    title_zh = "零值异常"
    condition_zh = "为零"

    def holds(self, value: float, run: Run, params: Any) -> bool:
        return value == 0

    def applies(self, upload: Upload, context: PointContext, code: str, rules: RuleSet) -> bool:
        if not super().applies(upload, context, code, rules):
            return False
        params = self.params_for(rules, context, code)
        return not clean_fuel(context, code, params.clean_fuel_reference_o2,
                              params.clean_fuel_codes)  # fmt: skip


class NegativeParams(Params):
    pass


@register
class Negative(Rule):
    """B3 负值: a negative concentration."""

    id = "negative"
    for_stations = True
    kind = "falsification"
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
                findings.append(self.report(upload, code, level, context, rules))
        return findings

    def report(
        self, upload: Upload, code: str, level: float, context: PointContext, rules: RuleSet
    ) -> Finding:
        """The finding of ``code`` turning negative in ``upload`` (both paths)."""
        return self.finding(
            upload,
            code,
            upload.data_time,
            upload.data_time,
            f"{name_of(code)}出现负值（{level:g}）",
            {"value": level, "cn": upload.cn, "frames": [upload.frame_id]},
            self.params_for(rules, context, code),
        )


MAD_TO_SD = 1.4826
"""The median absolute deviation of normal data times this is their standard deviation."""


class PinnedParams(Params):
    window: int = Field(ge=2)
    median_share_of_limit: float = Field(gt=0, lt=1)
    """The typical hour this close under the limit (its median at least this share)."""
    max_cv: float = Field(gt=0)
    """... with the whole window's hours this flat (robust coefficient of
    variation: 1.4826 × MAD / median)."""
    min_hours: int = Field(ge=2)


@register
class Pinned(Rule):
    """B5 贴限: the valid hours of a window sit just under the limit (their
    median), never above it, with little variation."""

    id = "pinned"
    kind = "falsification"
    reads = frozenset({HOURLY})
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
            # The whole window's distribution, not the hours in a band: a process
            # held at its set point is flat too, but its typical hour sits well
            # under the limit; pinned data sit right under it and never above.
            median = statistics.median(levels)
            # Robust: one odd hour neither hides a flat top nor makes one.
            mad = statistics.median(abs(v - median) for v in levels)
            cv = MAD_TO_SD * mad / median if median > 0 else math.inf
            share = median / limit.value
            pinned = (
                share >= params.median_share_of_limit
                and cv < params.max_cv
                and max(levels) <= limit.value
            )
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
                    f"{name_of(code)}近{len(levels)}个有效小时的中位数{median:.2f}{limit.unit}"
                    f"为限值{limit.value:g}{limit.unit}的{share:.0%}，从未超过限值，"
                    f"且变异系数仅{cv:.1%}，疑似贴限排放",
                    {
                        "hourly_values": [round(v, 4) for v in levels],
                        "median": round(median, 4),
                        "share": round(share, 4),
                        "cv": round(cv, 5),
                        **limit_evidence(context, code),
                        "frames": [f for _, _, f in hours],
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
    for_stations = True
    kind = "falsification"
    reads = frozenset({REALTIME})
    devices = POINTS
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
                deviation = abs(level - median)
                outlier = False
                spread = 0.0
                # The median absolute deviation only where the cheap test passes.
                if deviation > params.min_relative * abs(median):
                    spread = 1.4826 * statistics.median(abs(v - median) for v in recent)
                    outlier = spread > 0 and deviation > params.threshold * spread
                if outlier and not state.get(shift_key):
                    state[pending_key] = (upload, level, median, spread)
                elif not outlier:
                    state[shift_key] = False
            recent.append(level)
        return findings


def clean_fuel(
    context: PointContext, code: str, reference_o2: frozenset[float], codes: frozenset[str]
) -> bool:
    """Whether ``code`` of this point may truly read (almost) nothing: one of
    ``codes`` at a unit whose hourly limit is referenced to an oil- or
    gas-fired unit's O2 (GB 13223/13271: 3 %, 3.5 %; gas turbines 15 %)."""
    if code not in codes:
        return False
    limit = context.limit(code, HOUR_PERIOD)
    return limit is not None and limit.reference_o2 in reference_o2


class NearDetectionLimitParams(Params):
    detection_limits: dict[str, float] = Field(default_factory=dict)
    """By factor code: a detection limit (LOD), in the data's unit, where
    neither the analyser (3020) nor a limit says better."""
    lod_share_of_range: float = Field(gt=0, lt=1)
    """An analyser's LOD as a share of its measuring range."""
    range_multiple_of_limit: float = Field(gt=0)
    """An analyser's range as a multiple of its hourly limit, where unreported."""
    clean_fuel_reference_o2: frozenset[float] = frozenset()
    """Reference O2 of oil- and gas-fired units, whose SO2 and dust may truly
    be near zero: not judged there (``clean_fuel_codes``)."""
    clean_fuel_codes: frozenset[str] = frozenset()
    multiple: float = Field(gt=0)
    share: float = Field(gt=0, le=1)
    window_hours: int = Field(ge=24)
    min_hours: int = Field(ge=1)


@register
class NearDetectionLimit(Rule):
    """B4 检出限附近: most valid hours of a week within [0, 2 × LOD] while the
    source runs: an analyser that reads almost nothing."""

    id = "near_lod"
    kind = "falsification"
    reads = frozenset({HOURLY, DEVICE_INFO_COMMAND})
    devices = POINTS
    version = 1
    params_model = NearDetectionLimitParams
    severity = Severity.WARNING
    title_zh = "长期处于检出限附近"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn == DEVICE_INFO_COMMAND:
            self._settings(state, upload)
            return []
        findings = []
        for code, level in valid_hourly_values(upload, context, rules):
            params = self.params_for(rules, context, code)
            lod, source = self._detection_limit(state, context, code, params)
            if lod is None or self._clean_fuel(context, code, params):
                continue
            hours: deque[tuple[datetime, float, int | None]] = state.setdefault(code, deque())
            hours.append((upload.data_time, level, upload.frame_id))
            oldest = upload.data_time - timedelta(hours=params.window_hours)
            while hours and hours[0][0] <= oldest:
                hours.popleft()
            ceiling = params.multiple * lod
            near = [value for _, value, _ in hours if 0 <= value <= ceiling]
            share = len(near) / len(hours)
            reported_key = f"{code}:reported"
            if len(hours) < params.min_hours or share < params.share:
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
                    f"{name_of(code)}近{len(hours)}个有效小时中{share:.0%}处于检出限"
                    f"{lod:g}的{params.multiple:g}倍（{ceiling:g}）以内，而排放仍在进行，"
                    "疑似仪器失灵或数据造假",
                    {
                        "hours": len(hours),
                        "near_hours": len(near),
                        "share": round(share, 4),
                        "detection_limit": lod,
                        "detection_limit_from": source,
                        "values": [value for _, value, _ in hours][-48:],
                        "frames": [frame for *_, frame in hours][-48:],
                    },
                    params,
                )
            )
        return findings

    @staticmethod
    def _settings(state: Any, upload: Upload) -> None:
        """An analyser's reported detection limit (i13009) and range (i13001)."""
        if not upload.pol_id:
            return
        for key, code in (("lod", "i13009"), ("range", "i13001")):
            try:
                value = float(upload.info.get(code, ""))
            except ValueError:
                continue
            if math.isfinite(value) and value > 0:
                state.setdefault(key, {})[upload.pol_id] = value

    @staticmethod
    def _detection_limit(
        state: Any, context: PointContext, code: str, params: NearDetectionLimitParams
    ) -> tuple[float | None, str]:
        """The analyser's LOD: as it reported it; else a share of its reported
        range; else of the range its hourly limit implies; else the factor's."""
        reported = state.get("lod", {}).get(code)
        if reported is not None:
            return reported, "analyser"
        span = state.get("range", {}).get(code)
        if span is not None:
            return span * params.lod_share_of_range, "analyser_range"
        limit = context.limit(code, HOUR_PERIOD)
        if limit is not None:
            implied = limit.value * params.range_multiple_of_limit
            return implied * params.lod_share_of_range, "limit_range"
        return params.detection_limits.get(code), "factor"

    @staticmethod
    def _clean_fuel(context: PointContext, code: str, params: NearDetectionLimitParams) -> bool:
        return clean_fuel(context, code, params.clean_fuel_reference_o2, params.clean_fuel_codes)


class DistributionParams(Params):
    recent_days: int = Field(ge=1)
    reference_days: int = Field(ge=1)
    min_recent_hours: int = Field(ge=10)
    min_reference_hours: int = Field(ge=10)
    p_value: float = Field(gt=0, lt=1)
    narrowing: float = Field(gt=0, lt=1)
    """Fires when the recent interquartile range is below this share of the reference's."""
    load_narrowing: float = Field(gt=0, le=1)
    """... unless the flow's narrowed too, below this share of its reference
    spread: the load steadied (load following to base load)."""


def _iqr_ratio(recent: list[float], reference: list[float]) -> float | None:
    spread = interquartile_range(reference)
    return interquartile_range(recent) / spread if spread > 0 else None


@register
class Distribution(Rule):
    """B16 分布异常: the last week's hourly values distributed unlike the weeks
    before (two-sample Kolmogorov-Smirnov test) and much narrower: values
    that stopped varying the way a real process does. Judged as each day ends."""

    id = "distribution"
    kind = "falsification"
    reads = frozenset({HOURLY})
    devices = POINTS
    version = 1
    params_model = DistributionParams
    severity = Severity.NOTICE
    title_zh = "数据分布异常"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        findings = []
        flow = flow_level(upload)
        for code, level in valid_hourly_values(upload, context, rules):
            params = self.params_for(rules, context, code)
            series: dict[str, Any] = state.setdefault(
                code, {"days": {}, "flows": {}, "reported": False}
            )
            days: dict[datetime, list[float]] = series["days"]
            today = day_of(upload.data_time)
            if days and today > max(days):
                findings += self._judge(series, code, upload, params)
            days.setdefault(today, []).append(level)
            if flow is not None:
                series["flows"].setdefault(today, []).append(flow)
            keep = today - timedelta(days=params.recent_days + params.reference_days)
            for old in [day for day in days if day < keep]:
                del days[old]
                series["flows"].pop(old, None)
        return findings

    def _judge(
        self, series: dict[str, Any], code: str, upload: Upload, params: DistributionParams
    ) -> list[Finding]:
        days: dict[datetime, list[float]] = series["days"]
        last = max(days)
        split = last - timedelta(days=params.recent_days - 1)
        recent = [v for day, values in days.items() if day >= split for v in values]
        reference = [v for day, values in days.items() if day < split for v in values]
        if len(recent) < params.min_recent_hours or len(reference) < params.min_reference_hours:
            return []
        test = ks_two_sample(recent, reference)
        recent_iqr, reference_iqr = interquartile_range(recent), interquartile_range(reference)
        unusual = test.p_value < params.p_value and recent_iqr < params.narrowing * reference_iqr
        flows: dict[datetime, list[float]] = series["flows"]
        recent_flow = [v for day, values in flows.items() if day >= split for v in values]
        reference_flow = [v for day, values in flows.items() if day < split for v in values]
        if unusual and recent_flow and reference_flow:
            # From load following to base load, concentrations steady with the load:
            # a narrowing the flow shares is the process's, not the figures'.
            flow_ratio = _iqr_ratio(recent_flow, reference_flow)
            unusual = flow_ratio is None or flow_ratio >= params.load_narrowing
        if not unusual:
            series["reported"] = False
            return []
        if series["reported"]:
            return []
        series["reported"] = True
        return [
            self.finding(
                upload,
                code,
                split,
                last + timedelta(days=1),
                f"{name_of(code)}近{params.recent_days}天小时均值分布与此前"
                f"{params.reference_days}天显著不同（K-S检验p={test.p_value:.2g}），"
                f"四分位距由{reference_iqr:.3g}收窄至{recent_iqr:.3g}，疑似数据被人为控制",
                {
                    "ks_statistic": round(test.statistic, 4),
                    "p_value": test.p_value,
                    "recent_iqr": round(recent_iqr, 4),
                    "reference_iqr": round(reference_iqr, 4),
                    "recent_hours": len(recent),
                    "reference_hours": len(reference),
                    "frames": [upload.frame_id],
                },
                params,
            )
        ]


class CopiedDayParams(Params):
    days: int = Field(ge=1)
    min_hours: int = Field(ge=2, le=24)
    epsilon: float = Field(ge=0)
    chance: float = Field(gt=0, lt=1)
    """Found only when this many equal hours had at most this probability by
    chance, given how often the two days' values repeat at their resolution
    (per pair of days compared: ``days`` pairs a day)."""


@register
class CopiedDay(Rule):
    """复制数据: a day's hourly values repeating an earlier day's, hour by hour
    (data copied instead of measured). Judged as each day ends; a day of
    constant values is the constant rule's."""

    id = "copied_day"
    for_stations = True
    kind = "falsification"
    reads = frozenset({HOURLY})
    devices = POINTS
    version = 1
    params_model = CopiedDayParams
    severity = Severity.ALARM
    title_zh = "疑似复制历史数据"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        findings = []
        for code, level in valid_hourly_values(upload, context, rules):
            params = self.params_for(rules, context, code)
            days: dict[datetime, dict[int, tuple[float, int | None]]] = state.setdefault(code, {})
            today = day_of(upload.data_time)
            if days and today > max(days):
                findings += self._judge(days, code, upload, params)
            days.setdefault(today, {})[upload.data_time.hour] = (level, upload.frame_id)
            for old in [day for day in days if day < today - timedelta(days=params.days)]:
                del days[old]
        return findings

    def _judge(
        self,
        days: dict[datetime, dict[int, tuple[float, int | None]]],
        code: str,
        upload: Upload,
        params: CopiedDayParams,
    ) -> list[Finding]:
        last = max(days)
        hours = days[last]
        values = [value for value, _ in hours.values()]
        if len(hours) < params.min_hours or max(values) - min(values) <= params.epsilon:
            return []
        for earlier in sorted((day for day in days if day < last), reverse=True):
            same = [
                hour
                for hour, (value, _) in hours.items()
                if hour in days[earlier] and abs(days[earlier][hour][0] - value) <= params.epsilon
            ]
            if len(same) < params.min_hours:
                continue
            # At the data's resolution, how likely so many equal hours are anyway.
            pooled = [value for value, _ in hours.values()] + [
                value for value, _ in days[earlier].values()
            ]
            compared = sum(1 for hour in hours if hour in days[earlier])
            p_equal = chance_of_equal(pooled)
            by_chance = binomial_tail(compared, len(same), p_equal)
            if by_chance > params.chance:
                continue
            return [
                self.finding(
                    upload,
                    code,
                    last,
                    last + timedelta(days=1),
                    f"{name_of(code)}{last:%Y-%m-%d}有{len(same)}个小时均值与{earlier:%Y-%m-%d}"
                    "同一时刻的数值完全相同，疑似复制历史数据",
                    {
                        "day": last.date().isoformat(),
                        "copied_from": earlier.date().isoformat(),
                        "hours": sorted(same),
                        "values": [hours[hour][0] for hour in sorted(same)],
                        "chance_of_equal_hour": round(p_equal, 4),
                        "probability_by_chance": by_chance,
                        "frames": [hours[hour][1] for hour in sorted(same)]
                        + [days[earlier][hour][1] for hour in sorted(same)],
                    },
                    params,
                )
            ]
        return []
