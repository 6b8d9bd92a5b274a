"""Marks and instrument settings (rules.md §2.3 B10, B14): flags that hide
what the values show, marks nobody declared, analyser parameters changed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from envwatch.hj212.model import DEVICE_INFO_COMMAND
from envwatch.rules.catalogue.base import (
    POINTS,
    REALTIME,
    Rule,
    Run,
    clock_text,
    compliance_value,
    limit_evidence,
    name_of,
    register,
)
from envwatch.rules.model import (
    Finding,
    PointContext,
    Severity,
    Upload,
)
from envwatch.rules.parameters import Params, RuleSet


class FlagAbuseParams(Params):
    flags: frozenset[str] = Field(min_length=1)
    declarable_flags: frozenset[str] = frozenset()
    """Marks a declared maintenance window explains (calibration gas reads high)."""


@register
class FlagAbuse(Rule):
    """B10a 标记滥用: values marked M/C/D whose unmarked value exceeds the limit."""

    id = "flag_abuse"
    kind = "falsification"
    version = 2
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
            declared = context.in_maintenance(upload.data_time)
            explained = declared is not None and values.flag in params.declarable_flags
            if (
                values.flag not in params.flags
                or value is None
                or value <= limit.value
                or explained
            ):
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


class MarkAfterWarningParams(Params):
    flags: frozenset[str] = Field(min_length=1)
    share_of_limit: float = Field(gt=0, le=1)
    minutes: float = Field(gt=0)


@register
class MarkAfterWarning(Rule):
    """B10b 预警后标记: a maintenance/calibration/fault mark that starts soon after
    the values approached the limit, outside any declared maintenance window:
    marks that switch off the judgement just when it would bite."""

    id = "mark_after_warning"
    kind = "falsification"
    reads = frozenset({REALTIME})
    version = 1
    params_model = MarkAfterWarningParams
    severity = Severity.ALARM
    title_zh = "预警后异常标记"

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
            series = state.setdefault(code, {"approached": None, "marked": False})
            marked = values.flag in params.flags
            was_marked, series["marked"] = series["marked"], marked
            if not marked:
                value, _ = compliance_value(upload, code, values, limit, rules)
                if value is not None and value >= params.share_of_limit * limit.value:
                    series["approached"] = (upload.data_time, round(value, 4), upload.frame_id)
                continue
            approached: tuple[datetime, float, int | None] | None = series["approached"]
            if (
                was_marked
                or approached is None
                or upload.data_time - approached[0] > timedelta(minutes=params.minutes)
                or context.in_maintenance(upload.data_time) is not None
            ):
                continue
            findings.append(
                self.finding(
                    upload,
                    code,
                    approached[0],
                    upload.data_time,
                    f"{name_of(code)}于{clock_text(approached[0])}达到{approached[1]:g}{limit.unit}"
                    f"（限值{limit.value:g}{limit.unit}的{params.share_of_limit:.0%}以上）后，"
                    f"{clock_text(upload.data_time)}起数据被标记为“{values.flag}”，"
                    "且无事先报备的运维时段，疑似以标记规避超标判定",
                    {
                        "approached_at": clock_text(approached[0]),
                        "approached_value": approached[1],
                        "flag": values.flag,
                        **limit_evidence(context, code),
                        "frames": [approached[2], upload.frame_id],
                    },
                    params,
                )
            )
        return findings


class UndeclaredMaintenanceParams(Params):
    flags: frozenset[str] = Field(min_length=1)
    consecutive: int = Field(ge=1)


@register
class UndeclaredMaintenance(Rule):
    """B10e 未报备标记: maintenance or calibration marks outside every maintenance
    window the operation contractor declared (no work order behind them)."""

    id = "undeclared_maintenance"
    kind = "falsification"
    reads = frozenset({REALTIME})
    devices = POINTS
    version = 1
    params_model = UndeclaredMaintenanceParams
    severity = Severity.NOTICE
    title_zh = "未报备的运维标记"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != REALTIME or context.meter_id is not None:
            return []
        params = self.params_for(rules, context, None)
        marks = sorted(
            {v.flag for v in upload.values.values() if v.flag and v.flag in params.flags}
        )
        run: Run = state.setdefault("run", Run())
        if not marks or context.in_maintenance(upload.data_time) is not None:
            run.clear()
            return []
        run.extend(upload, float(len(marks)))
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
                f"自{clock_text(run.start)}起数据带有“{'、'.join(marks)}”标记"
                f"（运维/校准），但该时段没有报备的运维计划",
                {"flags": marks, "uploads": run.count, "frames": run.frames},
                params,
            )
        ]


class ParameterChangeParams(Params):
    codes: frozenset[str] = Field(min_length=1)
    """Field-device information codes of analyser settings (HJ 212-2017 i13xxx)."""
    relative_tolerance: float = Field(ge=0)


@register
class ParameterChange(Rule):
    """B14 参数篡改: an analyser setting (range, intercept, slope, detection limit)
    uploaded (3020) different from the value it had before, outside a declared
    maintenance window. The first value a device reports is its baseline."""

    id = "parameter_change"
    kind = "falsification"
    reads = frozenset({DEVICE_INFO_COMMAND})
    version = 1
    params_model = ParameterChangeParams
    severity = Severity.ALARM
    title_zh = "仪器参数变更"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != DEVICE_INFO_COMMAND or not upload.info:
            return []
        params = self.params_for(rules, context, upload.pol_id)
        findings = []
        for code, text in sorted(upload.info.items()):
            if code not in params.codes:
                continue
            key = (upload.pol_id or "", code)
            before: tuple[str, datetime, int | None] | None = state.get(key)
            state[key] = (text, upload.data_time, upload.frame_id)
            if before is None or same_setting(before[0], text, params.relative_tolerance):
                continue
            if context.in_maintenance(upload.data_time) is not None:
                continue
            pollutant = f"{name_of(upload.pol_id)}分析仪" if upload.pol_id else "现场仪器"
            findings.append(
                self.finding(
                    upload,
                    upload.pol_id,
                    before[1],
                    upload.data_time,
                    f"{pollutant}参数{INFO_NAMES.get(code, code)}（{code}）由{before[0]}"
                    f"变为{text}，不在报备的运维时段内，疑似篡改仪器参数",
                    {
                        "code": code,
                        "before": before[0],
                        "after": text,
                        "before_at": clock_text(before[1]),
                        "frames": [before[2], upload.frame_id],
                    },
                    params,
                )
            )
        return findings


INFO_NAMES = {  # HJ 212-2017 Table 11.4 (rules.md / hj212.md §11.4)
    "i13001": "量程",
    "i13002": "精度",
    "i13003": "测量间隔",
    "i13004": "消解温度",
    "i13005": "消解时长",
    "i13006": "校准时间",
    "i13007": "截距",
    "i13008": "斜率",
    "i13009": "检出限",
}


def same_setting(before: str, after: str, relative_tolerance: float) -> bool:
    try:
        old, new = float(before), float(after)
    except ValueError:
        return before.strip() == after.strip()
    return abs(new - old) <= relative_tolerance * max(abs(old), abs(new))
