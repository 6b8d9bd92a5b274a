"""The rules: each a registered class with an id, a version, declared
parameters (``Params``) and a pure ``on_upload`` over its own state.

A rule keeps what it needs of the past in the state object the engine hands
it (one per rule and ``scope``: a device, or an enterprise for the
electricity rule), so each finding is emitted by the upload that completes
its evidence. Rules that watch a condition over a run of uploads emit once per
run and re-arm when the condition clears.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from envwatch.glossary import factor
from envwatch.rules.model import (
    FLUE_GAS_FLOW_CODE,
    O2_CODE,
    WATER_FLOW_CODE,
    Finding,
    Limit,
    PointContext,
    Severity,
    Upload,
    Values,
)
from envwatch.rules.o2 import o2_corrected
from envwatch.rules.parameters import Params, RuleSet
from envwatch.rules.validity import Sample, Validity, daily_mean, period_mean

REALTIME = "2011"
MINUTE_DATA = "2051"
HOURLY = "2061"
NON_POLLUTANTS = frozenset(
    {
        O2_CODE,
        FLUE_GAS_FLOW_CODE,
        WATER_FLOW_CODE,
        "a01011",
        "a01012",
        "a01013",
        "a01014",
        "w01010",
        "w01001",
    }
)


def name_of(code: str) -> str:
    known = factor(code)
    return known.name_zh if known else code


def _time(moment: datetime) -> str:
    return moment.isoformat(sep=" ")


@dataclass
class Run:
    """A run of consecutive uploads meeting a condition."""

    start: datetime | None = None
    end: datetime | None = None
    count: int = 0
    values: list[float] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    reported: bool = False
    anchor: float | None = None

    def extend(self, upload: Upload, value: float, keep: int = 60) -> None:
        if self.start is None:
            self.start = upload.data_time
            self.anchor = value
        self.end = upload.data_time
        self.count += 1
        self.values = [*self.values[-(keep - 1) :], value]
        if upload.frame_id is not None:
            self.frames = [*self.frames[-(keep - 1) :], upload.frame_id]

    def clear(self) -> None:
        self.start = self.end = self.anchor = None
        self.count = 0
        self.values, self.frames = [], []
        self.reported = False


class Rule:
    id: ClassVar[str]
    version: ClassVar[int]
    params_model: ClassVar[type[Params]]
    severity: ClassVar[Severity]
    title_zh: ClassVar[str]

    def scope(self, context: PointContext) -> str:
        """Whose state this rule keeps: a device by default."""
        return context.mn

    def new_state(self) -> Any:
        return {}

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        return []

    watches_clock: ClassVar[bool] = False

    def on_clock(
        self, state: Any, clock: datetime, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        """Findings of silence: called as the city's data clock advances."""
        return []

    def params_for(self, rules: RuleSet, context: PointContext, pollutant: str | None) -> Any:
        return rules.for_point(
            self.id,
            industry=context.industry,
            outlet_kind=context.outlet_kind,
            pollutant=pollutant,
        )

    def finding(  # noqa: PLR0917 (mirrors Finding's fields)
        self,
        upload: Upload,
        pollutant: str | None,
        start: datetime,
        end: datetime,
        explanation: str,
        evidence: Mapping[str, Any],
        params: Params,
        severity: Severity | None = None,
    ) -> Finding:
        return Finding(
            mn=upload.mn,
            pollutant=pollutant,
            rule=self.id,
            rule_version=self.version,
            window_start=start,
            window_end=end,
            severity=severity or self.severity,
            explanation=explanation,
            evidence={**evidence, "parameters": params.model_dump(mode="json")},
        )


RULES: dict[str, Rule] = {}


def register(cls: type[Rule]) -> type[Rule]:
    RULES[cls.id] = cls()
    return cls


def running(upload: Upload) -> bool:
    """Whether the source runs, as far as the upload tells: flow above zero,
    or no flow measured at all."""
    for code in (FLUE_GAS_FLOW_CODE, WATER_FLOW_CODE):
        values = upload.values.get(code)
        if values is not None and values.level is not None:
            return values.level > 0
    return True


def compliance_value(
    upload: Upload, code: str, values: Values, limit: Limit, rules: RuleSet
) -> tuple[float | None, dict[str, Any]]:
    """The value judged against ``limit``: O2-corrected when the limit has a
    reference O2 and the upload carries O2; None when O2 is too high to correct."""
    level = values.level
    if level is None:
        return None, {}
    if limit.reference_o2 is None:
        return level, {"measured": level}
    o2 = upload.values.get(O2_CODE)
    o2_level = o2.level if o2 is not None else None
    if o2_level is None:
        return level, {"measured": level, "o2": None}
    corrected = o2_corrected(level, o2_level, limit.reference_o2, rules.validity.o2_ceiling_percent)
    evidence = {"measured": level, "o2": o2_level, "reference_o2": limit.reference_o2}
    if corrected is None:
        return None, evidence
    return corrected, {**evidence, "corrected": round(corrected, 4)}


def limit_evidence(context: PointContext, code: str) -> dict[str, Any]:
    limits = context.limits.get(code, ())
    return {
        "limit": limits[0].value if limits else None,
        "unit": limits[0].unit if limits else None,
        "basis": limits[0].basis if limits else None,
        "other_limits": [{"value": lim.value, "basis": lim.basis} for lim in limits[1:]],
    }


# -- exceedance and early warning (rules.md §1.3) ------------------------------


# Hours whose hourly upload came, kept until their minute data are judged.
UPLOADED_HOURS_KEPT = 48


class ExceedanceParams(Params):
    data: str = Field(default=HOURLY, pattern=r"^20[156]1$")
    minute_interval: float = Field(default=10.0, gt=0, le=60)
    """Minutes a 2051 record covers, for hours computed from minute data."""


@register
class Exceedance(Rule):
    """A valid hourly mean (O2-corrected for flue gas) above the strictest limit."""

    id = "exceedance"
    version = 1
    params_model = ExceedanceParams
    severity = Severity.ALARM
    title_zh = "超标"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn == MINUTE_DATA:
            return self._minute_data(state, upload, context, rules)
        findings = []
        if upload.cn == HOURLY:
            uploaded: set[datetime] = state.setdefault("uploaded", set())
            uploaded.add(upload.data_time)
            if len(uploaded) > UPLOADED_HOURS_KEPT:  # a device that sends no minute data
                uploaded.discard(min(uploaded))
        for code, values in upload.values.items():
            limit = context.limit(code)
            if limit is None:
                continue
            params = self.params_for(rules, context, code)
            if upload.cn != params.data:
                continue
            if (values.flag or "N") not in rules.validity.valid_flags:
                continue  # an invalid or marked hour is not judged (rule flag_abuse looks)
            value, used = compliance_value(upload, code, values, limit, rules)
            if value is not None and value > limit.value:
                used = {**used, "flag": values.flag, "frames": [upload.frame_id]}
                findings.append(
                    self._hour(upload, code, value, used, context=context, params=params)
                )
        return findings

    def _hour(
        self,
        upload: Upload,
        code: str,
        value: float,
        used: Mapping[str, Any],
        *,
        context: PointContext,
        params: Params,
    ) -> Finding:
        limit = context.limit(code)
        assert limit is not None
        hour = upload.data_time.replace(minute=0, second=0, microsecond=0)
        water = context.outlet_kind == "water"
        kind = "超限预警（日均值判定前）" if water else "超标"
        source = "（由分钟数据计算）" if "minute_values" in used else ""
        return self.finding(
            upload,
            code,
            hour,
            hour + timedelta(hours=1),
            f"{name_of(code)}{_time(hour)}时段小时均值{source}"
            f"{'折算浓度' if 'corrected' in used else ''}{value:.2f}{limit.unit}，"
            f"超过{limit.basis}限值{limit.value:g}{limit.unit}（{kind}）",
            {**used, "value": round(value, 4), **limit_evidence(context, code)},
            params,
            Severity.WARNING if water else Severity.ALARM,
        )

    def _minute_data(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        """Keep a device's minute data; when an hour is over and the device sent no
        hourly upload for it, judge the hour computed from them (HJ 75 valid hour)."""
        hour = upload.data_time.replace(minute=0, second=0, microsecond=0)
        minutes: dict[datetime, list[Upload]] = state.setdefault("minutes", {})
        findings: list[Finding] = []
        uploaded: set[datetime] = state.setdefault("uploaded", set())
        for done in sorted(h for h in minutes if h < hour):
            records = minutes.pop(done)
            if done not in uploaded:
                findings += self._judge_minutes(records, context, rules)
            uploaded.discard(done)
        minutes.setdefault(hour, []).append(upload)
        return findings

    def _judge_minutes(
        self, records: list[Upload], context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        findings = []
        last = records[-1]
        for code in {code for record in records for code in record.values}:
            limit = context.limit(code)
            if limit is None:
                continue
            params = self.params_for(rules, context, code)
            interval = params.minute_interval
            hour_mean = period_mean(
                [Sample(r.data_time, r.values[code].avg, r.values[code].flag, interval)
                 for r in records if code in r.values],
                min_valid_minutes=rules.validity.min_valid_minutes,
                valid_flags=rules.validity.valid_flags,
            )  # fmt: skip
            if hour_mean.validity is not Validity.VALID or hour_mean.mean is None:
                continue
            o2_values = [r.values[O2_CODE].avg for r in records if O2_CODE in r.values]
            o2 = [v for v in o2_values if v is not None]
            derived = Upload(
                last.mn,
                HOURLY,
                last.data_time.replace(minute=0, second=0, microsecond=0),
                {code: Values(avg=hour_mean.mean),
                 **({O2_CODE: Values(avg=statistics.fmean(o2))} if o2 else {})},
                last.frame_id,
            )  # fmt: skip
            value, used = compliance_value(derived, code, derived.values[code], limit, rules)
            if value is None or value <= limit.value:
                continue
            used = {**used, "minute_values": [r.values[code].avg for r in records
                                              if code in r.values],
                    "valid_minutes": hour_mean.valid_minutes,
                    "frames": [r.frame_id for r in records]}  # fmt: skip
            findings.append(self._hour(derived, code, value, used, context=context, params=params))
        return findings


class HourlyMismatchParams(Params):
    relative_tolerance: float = Field(ge=0)
    absolute_tolerance: float = Field(ge=0)
    minute_interval: float = Field(gt=0, le=60)


@register
class HourlyMismatch(Rule):
    """An uploaded hourly mean (2061) that disagrees with the device's own
    minute data (2051) of that hour, when those are enough for a valid hour."""

    id = "hourly_mismatch"
    version = 1
    params_model = HourlyMismatchParams
    severity = Severity.WARNING
    title_zh = "小时数据与分钟数据不符"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        hour = upload.data_time.replace(minute=0, second=0, microsecond=0)
        minutes: dict[tuple[str, datetime], list[tuple[float, int | None]]] = state.setdefault(
            "minutes", {}
        )
        if upload.cn == MINUTE_DATA:
            for code, values in upload.values.items():
                if values.avg is not None and (values.flag or "N") in rules.validity.valid_flags:
                    minutes.setdefault((code, hour), []).append((values.avg, upload.frame_id))
            return []
        if upload.cn != HOURLY:
            return []
        findings = []
        for code, values in upload.values.items():
            own = minutes.pop((code, hour), None)
            if values.avg is None or not own:
                continue
            params = self.params_for(rules, context, code)
            if len(own) * params.minute_interval < rules.validity.min_valid_minutes:
                continue  # too few valid minute records to say what the hour was
            expected = statistics.fmean(value for value, _ in own)
            tolerance = params.absolute_tolerance + params.relative_tolerance * abs(expected)
            if abs(values.avg - expected) <= tolerance:
                continue
            findings.append(
                self.finding(
                    upload,
                    code,
                    hour,
                    hour + timedelta(hours=1),
                    f"{name_of(code)}{_time(hour)}时段上传的小时均值{values.avg:g}与本设备"
                    f"{len(own)}条分钟数据的均值{expected:.3f}不符",
                    {
                        "hourly_avg": values.avg,
                        "minute_mean": round(expected, 6),
                        "minute_values": [value for value, _ in own],
                        "frames": [upload.frame_id, *(frame for _, frame in own)],
                    },
                    params,
                )
            )
        # Minute records of hours whose hourly upload never came are kept a day.
        for key in [key for key in minutes if key[1] < hour - timedelta(days=1)]:
            del minutes[key]
        return findings


class DailyExceedanceParams(Params):
    min_valid_hours: int = Field(ge=1, le=24)


@register
class DailyExceedance(Rule):
    """Wastewater (rules.md §1.3, §1.4): the day's effective mean, flow-weighted
    when flow is measured (HJ 356), above the limit; judged when the day is over."""

    id = "daily_exceedance"
    version = 1
    params_model = DailyExceedanceParams
    severity = Severity.ALARM
    title_zh = "日均值超标"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if context.outlet_kind != "water" or upload.cn != HOURLY:
            return []
        day = upload.data_time.replace(hour=0, minute=0, second=0, microsecond=0)
        findings: list[Finding] = []
        current = state.get("day")
        if current is not None and day > current:
            findings = self._judge(state, upload, context, rules)
        if current is None or day > current:
            state["day"], state["hours"] = day, {}
        if day < state["day"]:
            return findings  # a late hour of a day already judged
        flow = upload.values.get(WATER_FLOW_CODE)
        volume = flow.cou if flow is not None else None
        hours: dict[str, list[tuple[float, float | None, int | None]]] = state["hours"]
        for code, values in upload.values.items():
            if context.limit(code) is None or values.avg is None:
                continue
            if (values.flag or "N") in rules.validity.valid_flags:
                hours.setdefault(code, []).append((values.avg, volume, upload.frame_id))
        return findings

    def _judge(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        day: datetime = state["day"]
        findings = []
        for code, hours in state["hours"].items():
            params = self.params_for(rules, context, code)
            limit = context.limit(code)
            if limit is None or len(hours) < params.min_valid_hours:
                continue
            volumes = [volume for _, volume, _ in hours]
            weighted = all(volume is not None for volume in volumes)
            mean = daily_mean(
                [value for value, _, _ in hours],
                [v for v in volumes if v is not None] if weighted else None,
            )
            if mean <= limit.value:
                continue
            findings.append(
                self.finding(
                    upload,
                    code,
                    day,
                    day + timedelta(days=1),
                    f"{name_of(code)}{day:%Y-%m-%d}日均值{mean:.2f}{limit.unit}"
                    f"（{'流量加权' if weighted else '算术平均'}，{len(hours)}个有效小时），"
                    f"超过{limit.basis}限值{limit.value:g}{limit.unit}",
                    {
                        "daily_mean": round(mean, 4),
                        "flow_weighted": weighted,
                        "hourly_values": [value for value, _, _ in hours],
                        "volumes": volumes,
                        **limit_evidence(context, code),
                        "frames": [frame for _, _, frame in hours],
                    },
                    params,
                )
            )
        return findings


class EarlyWarningParams(Params):
    share_of_limit: float = Field(gt=0, le=1)
    consecutive: int = Field(ge=1)


@register
class EarlyWarning(Rule):
    """Real-time values approaching their limit (a share of it), several in a row."""

    id = "early_warning"
    version = 1
    params_model = EarlyWarningParams
    severity = Severity.NOTICE
    title_zh = "临限预警"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != REALTIME:
            return []
        findings = []
        for code, values in upload.values.items():
            limit = context.limit(code)
            if limit is None:
                continue
            params = self.params_for(rules, context, code)
            run: Run = state.setdefault(code, Run())
            value, used = compliance_value(upload, code, values, limit, rules)
            if value is None or value < params.share_of_limit * limit.value:
                run.clear()
                continue
            run.extend(upload, round(value, 4))
            if run.count >= params.consecutive and not run.reported:
                run.reported = True
                assert run.start is not None
                findings.append(
                    self.finding(
                        upload,
                        code,
                        run.start,
                        upload.data_time,
                        f"{name_of(code)}实时浓度连续{run.count}次达到限值的"
                        f"{params.share_of_limit:.0%}以上（最新{value:.2f}{limit.unit}，"
                        f"限值{limit.value:g}{limit.unit}）",
                        {
                            "values": run.values,
                            **used,
                            **limit_evidence(context, code),
                            "frames": run.frames,
                        },
                        params,
                    )
                )
        return findings


# -- falsification and abnormal data (rules.md §2.3) ---------------------------


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
                        f"{name_of(code)}自{_time(run.start)}起连续{run.count}个实时值"
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
                f"烟气含氧量自{_time(run.start)}起连续{run.count}个实时值不低于"
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
                f"自{_time(run.start)}起{run.count}个实时数据标记为停运（{','.join(sorted(marked))}），"
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
                f"自{_time(run.start)}起废水流量为零，而浓度数据仍连续{run.count}次变化，"
                "疑似采样或分析设备未运行而数据造假",
                {"concentrations": current, "frames": run.frames},
                params,
            )
        ]


# -- missing data (B9) ---------------------------------------------------------


class OfflineParams(Params):
    after_minutes: float = Field(gt=0)


@register
class Offline(Rule):
    """B9 离线: no upload for a while, by the city's data clock (the newest data
    time of any device), so replay and accelerated simulation judge alike."""

    id = "offline"
    version = 1
    params_model = OfflineParams
    severity = Severity.WARNING
    title_zh = "离线/数据缺失"
    watches_clock = True

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        state["last"] = max(state.get("last", upload.data_time), upload.data_time)
        state["last_frame"] = upload.frame_id
        state["reported"] = False
        return []

    def on_clock(
        self, state: Any, clock: datetime, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        last: datetime | None = state.get("last")
        if last is None or state.get("reported"):
            return []
        params = self.params_for(rules, context, None)
        silent = clock - last
        if silent < timedelta(minutes=params.after_minutes):
            return []
        state["reported"] = True
        probe = Upload(mn=context.mn, cn="", data_time=clock, values={})
        return [
            self.finding(
                probe,
                None,
                last,
                clock,
                f"自{_time(last)}起已{silent.total_seconds() / 60:.0f}分钟未收到数据（离线）",
                {"last_data_time": last.isoformat(), "frames": [state.get("last_frame")]},
                params,
            )
        ]


# -- electricity (rules.md §3) -------------------------------------------------


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
                f"生产设施运行期间，治污设施用电自{_time(run.start)}起持续"
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
                f"电表功率读数自{_time(run.start)}起{lasted.total_seconds() / 3600:.1f}小时"
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


PARAM_MODELS: dict[str, type[Params]] = {
    rule_id: rule.params_model for rule_id, rule in RULES.items()
}
