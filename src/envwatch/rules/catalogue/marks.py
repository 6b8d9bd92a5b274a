"""Marks and instrument settings (rules.md §2.3 B10, B14): flags that hide
what the values show, marks nobody declared, analyser parameters changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from envwatch.hj212.model import DEVICE_INFO_COMMAND
from envwatch.rules.calibration import (
    CalibrationLearner,
    CalibrationParams,
    MarkRun,
    declared_calibration,
    explained_calibration,
)
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

CALIBRATIONS = "calibrations"
"""The key of a rule's ``CalibrationLearner`` in its state."""


def calibration_params(rules: RuleSet, context: PointContext) -> CalibrationParams:
    """What a calibration is where ``context`` is (rule ``calibration_schedule``'s parameters)."""
    params = rules.for_point(
        LearnedCalibration.id, industry=context.industry, outlet_kind=context.outlet_kind
    )
    assert isinstance(params, CalibrationParams)
    return params


def calibrations(
    state: Any, upload: Upload, rules: RuleSet, context: PointContext
) -> tuple[CalibrationLearner, CalibrationParams]:
    """The device's calibrations as the rule's own learner knows them, ``upload`` taken."""
    params = calibration_params(rules, context)
    learner: CalibrationLearner = state.setdefault(CALIBRATIONS, CalibrationLearner())
    learner.observe(upload, params)
    return learner, params


@register
class LearnedCalibration(Rule):
    """自动校准计划: a daily automatic calibration learned from the device's own
    short calibration marks (the same time of day on consecutive days), reported
    once for a person to confirm (and declare: ``PointContext.calibrations``).
    Until then the learned calibration explains those marks to the other rules."""

    id = "calibration_schedule"
    kind = "falsification"
    reads = frozenset({REALTIME})
    devices = POINTS
    version = 1
    params_model = CalibrationParams
    severity = Severity.NOTICE
    title_zh = "识别到自动校准计划（待确认）"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != REALTIME or context.meter_id is not None:
            return []
        params = calibration_params(rules, context)
        learner: CalibrationLearner = state.setdefault(CALIBRATIONS, CalibrationLearner())
        # A calibration declared already needs no confirming.
        learned = [
            schedule
            for schedule in learner.observe(upload, params)
            if declared_calibration(context, learner.runs[schedule.pollutant or ""][-1].start,
                                    schedule.pollutant, params) is None
        ]  # fmt: skip
        if not learned:
            return []
        codes = sorted(s.pollutant or "" for s in learned)
        first = learned[0]
        runs = learner.runs.get(first.pollutant or "", [])[-params.learn_days :]
        names = "、".join(name_of(code) for code in codes)
        return [
            self.finding(
                upload,
                codes[0] if len(codes) == 1 else None,
                runs[0].start if runs else upload.data_time,
                upload.data_time,
                f"{names}分析仪连续{params.learn_days}天于{first.start:%H:%M}前后带校准标记"
                f"约{first.minutes:g}分钟，识别为每日自动校准；其间数据不作浓度判定，"
                "请运维人员确认并报备该校准计划",
                {
                    "schedules": [
                        {"pollutant": s.pollutant, "start": f"{s.start:%H:%M}",
                         "minutes": s.minutes}
                        for s in learned
                    ],
                    "runs": [clock_text(run.start) for run in runs],
                    "frames": [upload.frame_id],
                },
                params,
            )
        ]  # fmt: skip


class FlagAbuseParams(Params):
    flags: frozenset[str] = Field(min_length=1)
    declarable_flags: frozenset[str] = frozenset()
    """Marks a declared maintenance window explains (calibration gas reads high)."""


@register
class FlagAbuse(Rule):
    """B10a 标记滥用: values marked M/C/D whose unmarked value exceeds the limit.

    Calibration marks (C) read zero and span gas, no concentration: they are
    judged only once a mark lasts longer than any calibration, outside every
    declared or learned daily calibration and declared maintenance window."""

    id = "flag_abuse"
    kind = "falsification"
    version = 3
    params_model = FlagAbuseParams
    severity = Severity.ALARM
    title_zh = "标记滥用"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        findings = []
        learner, calibration = calibrations(state, upload, rules, context)
        for code, values in upload.values.items():
            limit = context.limit(code)
            if limit is None:
                continue
            params = self.params_for(rules, context, code)
            run: Run = state.setdefault(code, Run())
            value, used = compliance_value(upload, code, values, limit, rules)
            declared = context.in_maintenance(upload.data_time)
            explained = declared is not None and values.flag in params.declarable_flags
            marked_for = None
            if values.flag in calibration.flags and not explained:
                since = learner.open.get(code)
                marked_for = (upload.data_time - since) if since is not None else None
                explained = (
                    marked_for is None
                    or marked_for <= timedelta(minutes=calibration.max_minutes)
                    or explained_calibration(learner, context, upload.data_time, code, calibration)
                )
            if (
                values.flag not in params.flags
                or value is None
                or value <= limit.value
                or explained
            ):
                run.clear()
                continue
            if marked_for is not None:
                used = {**used, "marked_minutes": round(marked_for.total_seconds() / 60, 1)}
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
    version = 2
    params_model = MarkAfterWarningParams
    severity = Severity.ALARM
    title_zh = "预警后异常标记"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != REALTIME:
            return []
        findings = []
        learner, calibration = calibrations(state, upload, rules, context)
        for code, values in upload.values.items():
            limit = context.limit(code)
            if limit is None:
                continue
            params = self.params_for(rules, context, code)
            series = state.setdefault(code, {"approached": None, "marked": False, "held": None})
            findings += self._judge_held(series, upload, code, values.flag, learner, calibration)
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
                or (
                    values.flag in calibration.flags
                    and explained_calibration(learner, context, upload.data_time, code, calibration)
                )
            ):
                continue
            finding = self._finding(upload, code, approached, values.flag, context, params)
            if values.flag in calibration.flags:
                # A calibration mark is judged once it outlasts a calibration,
                # or a day later if it did not recur then: a daily calibration
                # keeps the clock's time, not the values'.
                series["held"] = (finding, upload.data_time, upload.data_time, True)
                continue
            findings.append(finding)
        return findings

    def _judge_held(  # noqa: PLR0917
        self,
        series: dict[str, Any],
        upload: Upload,
        code: str,
        flag: str | None,
        learner: CalibrationLearner,
        calibration: CalibrationParams,
    ) -> list[Finding]:
        held: tuple[Finding, datetime, datetime, bool] | None = series["held"]
        if held is None:
            return []
        finding, start, end, going_on = held
        moment = upload.data_time
        going_on = going_on and flag in calibration.flags
        if going_on:
            if moment - start <= timedelta(minutes=calibration.max_minutes):
                series["held"] = (finding, start, moment, True)
                return []
        elif held[3]:  # the mark ended: wait a day to see it recur
            series["held"] = (finding, start, end, False)
            return []
        elif moment < start + timedelta(days=1, minutes=calibration.max_minutes
                                        + calibration.slack_minutes):  # fmt: skip
            return []
        elif learner.recurs(MarkRun(start, end), calibration) or learner.explains(
            start, code, calibration
        ):
            series["held"] = None
            return []  # a daily calibration
        series["held"] = None
        frames = [*finding.evidence["frames"], upload.frame_id]
        return [replace(finding, evidence={**finding.evidence, "frames": frames})]

    def _finding(  # noqa: PLR0917
        self,
        upload: Upload,
        code: str,
        approached: tuple[datetime, float, int | None],
        flag: str | None,
        context: PointContext,
        params: MarkAfterWarningParams,
    ) -> Finding:
        limit = context.limit(code)
        assert limit is not None
        return self.finding(
            upload,
            code,
            approached[0],
            upload.data_time,
            f"{name_of(code)}于{clock_text(approached[0])}达到{approached[1]:g}{limit.unit}"
            f"（限值{limit.value:g}{limit.unit}的{params.share_of_limit:.0%}以上）后，"
            f"{clock_text(upload.data_time)}起数据被标记为“{flag}”，"
            "且无事先报备的运维时段，疑似以标记规避超标判定",
            {
                "approached_at": clock_text(approached[0]),
                "approached_value": approached[1],
                "flag": flag,
                **limit_evidence(context, code),
                "frames": [approached[2], upload.frame_id],
            },
            params,
        )


class UndeclaredMaintenanceParams(Params):
    flags: frozenset[str] = Field(min_length=1)
    consecutive: int = Field(ge=1)


@register
class UndeclaredMaintenance(Rule):
    """B10e 未报备标记: maintenance or calibration marks outside every maintenance
    window the operation contractor declared (no work order behind them).

    Calibration marks inside a declared or learned daily calibration are
    explained. A run of calibration marks alone, no longer than a calibration,
    is judged a day later: if it recurs at the same time of day it is a daily
    calibration being learned (rule ``calibration_schedule`` reports it);
    if not, it is reported then. Longer ones are reported once they are."""

    id = "undeclared_maintenance"
    kind = "falsification"
    reads = frozenset({REALTIME})
    devices = POINTS
    version = 2
    params_model = UndeclaredMaintenanceParams
    severity = Severity.NOTICE
    title_zh = "未报备的运维标记"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != REALTIME or context.meter_id is not None:
            return []
        params = self.params_for(rules, context, None)
        learner, calibration = calibrations(state, upload, rules, context)
        moment = upload.data_time
        marks = {
            v.flag
            for code, v in upload.values.items()
            if v.flag
            and v.flag in params.flags
            and not (
                v.flag in calibration.flags
                and explained_calibration(learner, context, moment, code, calibration)
            )
        }
        run: Run = state.setdefault("run", Run())
        findings = []
        if not marks or context.in_maintenance(moment) is not None:
            self._ended(state, run, moment, params)
            run.clear()
        else:
            if run.start is None:
                state["marks"], state["calibration_only"] = set(), True
            state["marks"] |= marks
            state["calibration_only"] = state["calibration_only"] and marks <= calibration.flags
            run.extend(upload, float(len(marks)))
            assert run.start is not None
            due = run.count >= params.consecutive and (
                not state["calibration_only"]
                or moment - run.start > timedelta(minutes=calibration.max_minutes)
            )
            if due and not run.reported:
                run.reported = True
                findings.append(
                    self._report(upload, MarkRun(run.start, moment), state["marks"],
                                 run.count, run.frames, params)
                )  # fmt: skip
        return findings + self._judge_pending(state, upload, learner, calibration, params)

    def _ended(
        self, state: Any, run: Run, moment: datetime, params: UndeclaredMaintenanceParams
    ) -> None:
        """A short run of calibration marks alone waits a day for its judgement."""
        if run.start is None or run.reported or run.count < params.consecutive:
            return
        if state.get("calibration_only"):
            pending = state.setdefault("pending", [])
            pending.append((MarkRun(run.start, moment), set(state["marks"]), run.count,
                            list(run.frames)))  # fmt: skip

    def _judge_pending(
        self,
        state: Any,
        upload: Upload,
        learner: CalibrationLearner,
        calibration: CalibrationParams,
        params: UndeclaredMaintenanceParams,
    ) -> list[Finding]:
        pending: list[tuple[MarkRun, set[str], int, list[int]]] = state.get("pending", [])
        wait = timedelta(days=1, minutes=calibration.max_minutes + calibration.slack_minutes)
        findings = []
        for item in [p for p in pending if upload.data_time >= p[0].start + wait]:
            pending.remove(item)
            marked, marks, count, frames = item
            if learner.recurs(marked, calibration) or learner.explains(
                marked.start, None, calibration
            ):
                continue  # a daily calibration: calibration_schedule's to report
            # The upload that shows it did not recur completes the evidence.
            findings.append(self._report(upload, marked, marks, count,
                                         [*frames, upload.frame_id], params,
                                         recurring=False))  # fmt: skip
        return findings

    def _report(  # noqa: PLR0917
        self,
        upload: Upload,
        marked: MarkRun,
        marks: set[str],
        count: int,
        frames: Sequence[int | None],
        params: UndeclaredMaintenanceParams,
        recurring: bool | None = None,
    ) -> Finding:
        flags = sorted(marks)
        after = "，次日同一时刻未再出现（不是每日自动校准）" if recurring is False else ""
        return self.finding(
            upload,
            None,
            marked.start,
            marked.end,
            f"自{clock_text(marked.start)}起数据带有“{'、'.join(flags)}”标记"
            f"（运维/校准）{marked.minutes:g}分钟{after}，但该时段没有报备的运维计划",
            {"flags": flags, "uploads": count, "minutes": round(marked.minutes, 1),
             "frames": frames},
            params,
        )  # fmt: skip


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
