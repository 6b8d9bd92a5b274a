"""Exceedance and early warning (rules.md §1.3): is the outlet within its limits?"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from envwatch.rules.catalogue.base import (
    HOURLY,
    MINUTE_DATA,
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
    O2_CODE,
    WATER_FLOW_CODE,
    Finding,
    PointContext,
    Severity,
    Upload,
    Values,
)
from envwatch.rules.parameters import Params, RuleSet
from envwatch.rules.validity import (
    Sample,
    Validity,
    daily_mean,
    period_mean,
    realtime_samples,
)

# Hours whose hourly upload came, kept until their minute data are judged.
UPLOADED_HOURS_KEPT = 48


class ExceedanceParams(Params):
    data: str = Field(default=HOURLY, pattern=r"^20[156]1$")
    minute_interval: float = Field(default=10.0, gt=0, le=60)
    """Minutes a 2051 record covers, for hours computed from minute data."""
    realtime_after_hours: float = Field(default=2.0, gt=0)
    """A device that sent no minute or hourly data for this long has its hours
    computed from its real-time data."""
    realtime_wait_minutes: float = Field(default=15.0, ge=0)
    """How long after an hour its own hourly upload may still come."""
    realtime_max_sample_minutes: float = Field(default=5.0, gt=0, le=60)
    """The most a single real-time reading covers (HJ 75 coverage of the hour)."""


@register
class Exceedance(Rule):
    """A valid hourly mean (O2-corrected for flue gas) above the strictest limit."""

    id = "exceedance"
    kind = "exceedance"
    reads = frozenset({REALTIME, MINUTE_DATA, HOURLY})
    version = 1
    params_model = ExceedanceParams
    severity = Severity.ALARM
    title_zh = "超标"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn == REALTIME and self.params_for(rules, context, None).data != REALTIME:
            return self._realtime(state, upload, context, rules)
        state["periodic"] = max(state.get("periodic", upload.data_time), upload.data_time)
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
        source = (
            "（由分钟数据计算）" if "minute_values" in used
            else "（由实时数据计算）" if "realtime_values" in used
            else ""
        )  # fmt: skip
        return self.finding(
            upload,
            code,
            hour,
            hour + timedelta(hours=1),
            f"{name_of(code)}{clock_text(hour)}时段小时均值{source}"
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

    def _realtime(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        """Keep the real-time data of a device that sends no minute or hourly
        data; once an hour is over (and its own hourly upload had time to
        come), judge the hour computed from them (HJ 75 coverage)."""
        params = self.params_for(rules, context, None)
        periodic: datetime | None = state.get("periodic")
        pending: dict[datetime, list[Upload]] = state.setdefault("realtime", {})
        if periodic is not None and upload.data_time - periodic < timedelta(
            hours=params.realtime_after_hours
        ):
            pending.clear()  # it sends its own hours: nothing to compute
            return []
        hour = upload.data_time.replace(minute=0, second=0, microsecond=0)
        findings: list[Finding] = []
        due = upload.data_time - timedelta(hours=1, minutes=params.realtime_wait_minutes)
        for done in sorted(h for h in pending if h <= due):
            findings += self._judge_realtime(pending.pop(done), done, context, rules)
        if hour > due:
            readings = {code: v for code, v in upload.values.items()
                        if code == O2_CODE or context.limit(code) is not None}  # fmt: skip
            if readings:  # only what judging needs: real-time data come often
                pending.setdefault(hour, []).append(replace(upload, values=readings))
        return findings

    def _judge_realtime(
        self, records: list[Upload], hour: datetime, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        findings = []
        end = hour + timedelta(hours=1)
        for code in {code for record in records for code in record.values}:
            limit = context.limit(code)
            if limit is None:
                continue
            params = self.params_for(rules, context, code)
            readings = [(r.data_time, r.values[code].rtd, r.values[code].flag)
                        for r in records if code in r.values]  # fmt: skip
            samples = realtime_samples(readings, end, params.realtime_max_sample_minutes)
            hour_mean = period_mean(
                samples,
                min_valid_minutes=rules.validity.min_valid_minutes,
                valid_flags=rules.validity.valid_flags,
            )
            if hour_mean.validity is not Validity.VALID or hour_mean.mean is None:
                continue
            o2 = [v for r in records if O2_CODE in r.values
                  and (v := r.values[O2_CODE].rtd) is not None]  # fmt: skip
            derived = Upload(
                records[-1].mn, HOURLY, hour,
                {code: Values(avg=hour_mean.mean),
                 **({O2_CODE: Values(avg=statistics.fmean(o2))} if o2 else {})},
                records[-1].frame_id,
            )  # fmt: skip
            value, used = compliance_value(derived, code, derived.values[code], limit, rules)
            if value is None or value <= limit.value:
                continue
            used = {**used, "realtime_values": len(samples),
                    "valid_minutes": round(hour_mean.valid_minutes, 1),
                    "frames": [r.frame_id for r in records][-60:]}  # fmt: skip
            findings.append(self._hour(derived, code, value, used, context=context, params=params))
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
    kind = "falsification"
    reads = frozenset({MINUTE_DATA, HOURLY})
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
                    f"{name_of(code)}{clock_text(hour)}时段上传的小时均值{values.avg:g}与本设备"
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
    kind = "exceedance"
    reads = frozenset({HOURLY})
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
    kind = "early_warning"
    reads = frozenset({REALTIME})
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
            marked = (values.flag or "N") not in rules.validity.valid_flags  # calibration gas
            if value is None or marked or value < params.share_of_limit * limit.value:
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
