"""Exceedance and early warning (rules.md §1.3): is the outlet within its limits?"""

from __future__ import annotations

import math
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
    judge_value,
    limit_evidence,
    name_of,
    o2_problem,
    register,
)
from envwatch.rules.model import (
    DAY_PERIOD,
    HOUR_PERIOD,
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
            params = self.params_for(rules, context, code)
            if upload.cn != params.data or not hourly_limits(context, code):
                continue
            if (values.flag or "N") not in rules.validity.valid_flags:
                continue  # an invalid or marked hour is not judged (rule flag_abuse looks)
            extra = {"flag": values.flag, "frames": [upload.frame_id]}
            findings += self._judge_hour(state, upload, code, extra, context=context, rules=rules)
        return findings

    def _judge_hour(
        self,
        state: Any,
        upload: Upload,
        code: str,
        extra: Mapping[str, Any],
        *,
        context: PointContext,
        rules: RuleSet,
    ) -> list[Finding]:
        """An hour's value of ``code`` (uploaded or computed) against the limits
        of its period, each corrected to its own reference O2."""
        hour = upload.data_time.replace(minute=0, second=0, microsecond=0)
        if in_startup_or_shutdown(upload, code, rules) or context.in_startup(
            hour, hour + timedelta(hours=1)
        ):
            return []  # judged by the marking rules for such periods, not at the ceiling
        limit, value, used = judge_value(upload, code, upload.values[code],
                                         hourly_limits(context, code), rules)  # fmt: skip
        if limit is None or value is None:
            if "o2_problem" not in used:
                return []
            return O2_UNCORRECTABLE.report(
                state, upload, code, {**used, **extra}, context=context, rules=rules
            )
        if not limit.breached_by(value):
            return []
        params = self.params_for(rules, context, code)
        return [self._hour(upload, code, value, {**used, **extra}, limit=limit, context=context,
                           params=params)]  # fmt: skip

    def _hour(
        self,
        upload: Upload,
        code: str,
        value: float,
        used: Mapping[str, Any],
        *,
        limit: Limit,
        context: PointContext,
        params: Params,
    ) -> Finding:
        hour = upload.data_time.replace(minute=0, second=0, microsecond=0)
        water = context.outlet_kind == "water"
        kind = "超限预警（日均值判定前）" if water else "超标"
        source = (
            "（由分钟数据计算）" if "minute_values" in used
            else "（由实时数据计算）" if "realtime_values" in used
            else ""
        )  # fmt: skip
        beyond = "低于" if limit.lower is not None and value < limit.lower else "超过"
        return self.finding(
            upload,
            code,
            hour,
            hour + timedelta(hours=1),
            f"{name_of(code)}{clock_text(hour)}时段小时均值{source}"
            f"{'折算浓度' if 'corrected' in used else ''}{value:.2f}{limit.unit}，"
            f"{beyond}{limit.basis}限值{limit.text}{limit.unit}（{kind}）",
            {**used, "value": round(value, 4), **limit_evidence(context, code, limit)},
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
                findings += self._judge_computed(state, records, done, realtime=False,
                                                 context=context, rules=rules)  # fmt: skip
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
            findings += self._judge_computed(state, pending.pop(done), done, realtime=True,
                                             context=context, rules=rules)  # fmt: skip
        if hour > due:
            readings = {code: v for code, v in upload.values.items()
                        if code == O2_CODE or hourly_limits(context, code)}  # fmt: skip
            if readings:  # only what judging needs: real-time data come often
                pending.setdefault(hour, []).append(replace(upload, values=readings))
        return findings

    def _judge_computed(
        self,
        state: Any,
        records: list[Upload],
        hour: datetime,
        *,
        realtime: bool,
        context: PointContext,
        rules: RuleSet,
    ) -> list[Finding]:
        """The hour computed from a device's real-time data (each reading covering
        the time to the next) or minute data (each covering its interval), judged
        when valid as HJ 75 counts it."""
        findings = []
        for code in {code for record in records for code in record.values}:
            if not hourly_limits(context, code):
                continue
            params = self.params_for(rules, context, code)
            own = [r for r in records if code in r.values]
            if realtime:
                readings = [(r.data_time, r.values[code].rtd, r.values[code].flag) for r in own]
                samples = realtime_samples(readings, hour + timedelta(hours=1),
                                           params.realtime_max_sample_minutes)  # fmt: skip
            else:
                samples = [Sample(r.data_time, r.values[code].avg, r.values[code].flag,
                                  params.minute_interval) for r in own]  # fmt: skip
            hour_mean = period_mean(
                samples,
                min_valid_minutes=rules.validity.min_valid_minutes,
                valid_flags=rules.validity.valid_flags,
            )
            if hour_mean.validity is not Validity.VALID or hour_mean.mean is None:
                continue
            o2_readings = [r.values.get(O2_CODE) for r in records]
            derived = computed_hour(records[-1], hour, code, hour_mean.mean,
                                    o2_readings=o2_readings, rules=rules)  # fmt: skip
            extra: dict[str, Any] = (
                {"realtime_values": len(samples),
                 "valid_minutes": round(hour_mean.valid_minutes, 1),
                 "frames": [r.frame_id for r in records][-60:]}
                if realtime
                else {"minute_values": [r.values[code].avg for r in own],
                      "valid_minutes": hour_mean.valid_minutes,
                      "frames": [r.frame_id for r in records]}
            )  # fmt: skip
            findings += self._judge_hour(state, derived, code, extra, context=context, rules=rules)
        return findings


def hourly_limits(context: PointContext, code: str) -> tuple[Limit, ...]:
    """What an hour is judged against: the hourly limits; for wastewater
    without any, its daily limits (an hour over them is a warning before the
    day is judged, rules.md §1.3)."""
    hourly = context.limits_of(code, HOUR_PERIOD)
    if hourly or context.outlet_kind != "water":
        return hourly
    return context.limits_of(code, DAY_PERIOD)


def in_startup_or_shutdown(upload: Upload, code: str, rules: RuleSet) -> bool:
    """The pollutant or the O2 marked as start-up or shut-down."""
    marks = rules.validity.startup_shutdown_flags
    return any(
        (values := upload.values.get(factor)) is not None and (values.flag or "N") in marks
        for factor in (code, O2_CODE)
    )


def computed_hour(
    last: Upload,
    hour: datetime,
    code: str,
    mean: float,
    *,
    o2_readings: list[Values | None],
    rules: RuleSet,
) -> Upload:
    """An hour computed from a device's minute or real-time data, as an hourly
    upload: its O2 the mean of the valid, plausible O2 readings (none: no O2,
    so the hour cannot be corrected)."""
    o2 = [
        reading.level
        for reading in o2_readings
        if reading is not None and reading.level is not None and o2_problem(reading, rules) is None
    ]
    values = {code: Values(avg=mean)}
    if o2:
        values[O2_CODE] = Values(avg=statistics.fmean(o2))
    return Upload(last.mn, HOURLY, hour, values, last.frame_id)


class O2UncorrectableParams(Params):
    pass


@register
class O2Uncorrectable(Rule):
    """B6 (rules.md §1.1, §2.3): an hour that should be judged O2-corrected has no
    valid, plausible O2, so it cannot be judged: said once per run of such hours."""

    id = "o2_uncorrectable"
    kind = "falsification"
    reads = frozenset[str]()  # the exceedance rule reports what it could not judge
    version = 1
    params_model = O2UncorrectableParams
    severity = Severity.WARNING
    title_zh = "含氧量无效无法折算"

    def report(
        self,
        state: Any,
        upload: Upload,
        code: str,
        used: Mapping[str, Any],
        *,
        context: PointContext,
        rules: RuleSet,
    ) -> list[Finding]:
        hour = upload.data_time.replace(minute=0, second=0, microsecond=0)
        runs: dict[str, datetime] = state.setdefault("o2_uncorrectable", {})
        last = runs.get(code)
        runs[code] = hour
        if last is not None and timedelta(0) <= hour - last <= timedelta(hours=1):
            return []  # the same run of hours: said when it began
        problem = {"missing": "缺少含氧量", "out_of_range": "含氧量超出合理范围"}.get(
            str(used.get("o2_problem")), f"含氧量标记无效（{used.get('o2_problem')}）"
        )
        params = self.params_for(rules, context, code)
        return [
            self.finding(
                upload,
                code,
                hour,
                hour + timedelta(hours=1),
                f"{name_of(code)}{clock_text(hour)}时段{problem}，无法折算到基准含氧量，"
                f"本时段起未作超标判定，请核查氧分析仪",
                {**used, **limit_evidence(context, code)},
                params,
            )
        ]


O2_UNCORRECTABLE = O2Uncorrectable()


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
    """Valid hours a day of continuous discharge (or operation) needs to be
    judged; a day with stopped hours needs the same share of its running hours."""


def valid_day(valid_hours: int, stopped_hours: int, params: DailyExceedanceParams) -> bool:
    """Whether a day has enough valid hours to be judged: ``min_valid_hours``
    of 24, scaled to the hours it ran (an intermittent discharger's 10 hours
    need 9; stopped hours never count against a day, HJ 355/356)."""
    running = max(0, 24 - stopped_hours)
    if running == 0 or valid_hours == 0:
        return False
    return valid_hours >= math.ceil(params.min_valid_hours * running / 24)


@register
class DailyExceedance(Rule):
    """The day's effective mean against the daily (24-hour) limits: wastewater
    flow-weighted when flow is measured (HJ 356), flue gas the mean of its valid
    hours corrected to each limit's reference O2 (an incinerator's 24-h limit);
    two-sided limits (pH 6-9) as ranges; judged when the day is over."""

    id = "daily_exceedance"
    kind = "exceedance"
    reads = frozenset({HOURLY})
    version = 2
    params_model = DailyExceedanceParams
    severity = Severity.ALARM
    title_zh = "日均值超标"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        if upload.cn != HOURLY:
            return []
        day = upload.data_time.replace(hour=0, minute=0, second=0, microsecond=0)
        findings: list[Finding] = []
        current = state.get("day")
        if current is not None and day > current:
            findings = self._judge(state, upload, context, rules)
        if current is None or day > current:
            state["day"], state["hours"], state["stopped"] = day, {}, {}
        if day < state["day"]:
            return findings  # a late hour of a day already judged
        flow = upload.values.get(WATER_FLOW_CODE)
        volume = flow.cou if flow is not None else None
        o2 = upload.values.get(O2_CODE)
        hours: dict[str, list[tuple[float, Values | None, float | None, int | None]]] = state[
            "hours"
        ]
        stopped: dict[str, int] = state["stopped"]
        starting = context.in_startup(upload.data_time, upload.data_time + timedelta(hours=1))
        for code, values in upload.values.items():
            if not context.limits_of(code, DAY_PERIOD) or values.avg is None:
                continue
            flag = values.flag or "N"
            if starting is not None:  # a declared start-up or shut-down hour: not judged
                stopped[code] = stopped.get(code, 0) + 1
            elif flag in rules.validity.valid_flags:
                hours.setdefault(code, []).append((values.avg, o2, volume, upload.frame_id))
            elif flag in rules.validity.startup_shutdown_flags:
                stopped[code] = stopped.get(code, 0) + 1
        return findings

    def _judge(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        day: datetime = state["day"]
        findings = []
        for code, hours in state["hours"].items():
            params = self.params_for(rules, context, code)
            stopped = state["stopped"].get(code, 0)
            if not valid_day(len(hours), stopped, params):
                continue
            judged = self._worst(code, hours, context, rules)
            if judged is None:
                continue
            limit, mean, weighted = judged
            if not limit.breached_by(mean):
                continue
            beyond = "低于" if limit.lower is not None and mean < limit.lower else "超过"
            how = "流量加权" if weighted else "算术平均"
            findings.append(
                self.finding(
                    upload,
                    code,
                    day,
                    day + timedelta(days=1),
                    f"{name_of(code)}{day:%Y-%m-%d}日均值{mean:.2f}{limit.unit}"
                    f"（{how}，{len(hours)}个有效小时"
                    f"{f'，停运{stopped}小时' if stopped else ''}），"
                    f"{beyond}{limit.basis}限值{limit.text}{limit.unit}",
                    {
                        "daily_mean": round(mean, 4),
                        "flow_weighted": weighted,
                        "hourly_values": [value for value, *_ in hours],
                        "volumes": [volume for _, _, volume, _ in hours],
                        "stopped_hours": stopped,
                        **limit_evidence(context, code, limit),
                        "frames": [frame for *_, frame in hours],
                    },
                    params,
                )
            )
        return findings

    def _worst(
        self,
        code: str,
        hours: list[tuple[float, Values | None, float | None, int | None]],
        context: PointContext,
        rules: RuleSet,
    ) -> tuple[Limit, float, bool] | None:
        """The daily limit breached furthest by the day's mean (each limit's mean
        corrected to its reference O2), with that mean and how it was taken."""
        best: tuple[float, Limit, float, bool] | None = None
        for limit in context.limits_of(code, DAY_PERIOD):
            values: list[float] = []
            for value, o2, _, _ in hours:
                if limit.reference_o2 is None:
                    values.append(value)
                    continue
                if o2 is None or o2.level is None or o2_problem(o2, rules) is not None:
                    continue  # an hour that cannot be corrected does not count
                corrected = o2_corrected(value, o2.level, limit.reference_o2,
                                         rules.validity.o2_ceiling_percent)  # fmt: skip
                if corrected is not None:
                    values.append(corrected)
            if not values:
                continue
            volumes = [volume for _, _, volume, _ in hours]
            weighted = (
                limit.reference_o2 is None
                and len(values) == len(volumes)
                and all(volume is not None for volume in volumes)
            )
            mean = daily_mean(values, [v for v in volumes if v is not None] if weighted else None)
            margin = limit.margin(mean)
            if best is None or margin > best[0]:
                best = (margin, limit, mean, weighted)
        return None if best is None else best[1:]


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
            if limit is None or limit.lower is not None:
                continue  # a range (pH) has no "approaching" in one direction
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
