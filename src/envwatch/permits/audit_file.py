"""The permit audit file of an enterprise and a period (审计式监管), pure:
from the facts read out of the store (``permits/audit_store.py``) it judges
every permit compliance check (issue 14 §4) with its status and evidence,
lists the problems found with a suggested rectification, and lays out the
execution-report tables (执行报告: monthly, quarterly and year-to-date actual
emissions by method against the permit). The document is plain JSON types,
so it is stored with its run (``audit_run``) and the PDF and XLSX
(``reports/audit_pdf.py``, ``reports/audit_xlsx.py``) are rendered from it
byte for byte.

The checks:

* ``permit_valid`` / ``permit_expiring`` / ``permit_expired`` /
  ``no_valid_permit``: ``checks.validity_checks`` at the file's moment;
* ``exceedance_hours``: hours the exceedance rule found a valid hourly mean
  above a limit, per pollutant;
* ``monitoring_items``: every automatic item of the self-monitoring plan is
  monitored by a device (otherwise accounted as direct discharge);
* ``monitoring_frequency``: every manual item has the results its frequency
  asks for in the period;
* ``capture_rate``: each device's quarterly valid-data capture rate α at or
  above the HJ 75 threshold (``rules.toml`` ``substitution.low_rate``);
* ``data_unusable``: hours no substitution covers (α below the threshold):
  unusable for accounting;
* ``emission_totals``: the year to the period's end against the annual permit
  (rules.md §5.2 statuses);
* ``alerts``, ``cases``, ``electricity``, ``falsification``: the period's
  alerts and their outcomes, enforcement cases and penalties, electricity
  anomalies and suspected falsification.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from envwatch.errors import PeerError
from envwatch.permits.checks import CheckStatus, PermitSpan, validity_checks
from envwatch.permits.parameters import PermitParameters
from envwatch.permits.totals import pollutant_total
from envwatch.rules.validity import capture_rate

METHODS = ("measured", "substituted", "direct", "manual")
METHOD_NAMES_ZH = {"measured": "自动监测", "substituted": "数据替代", "direct": "按直排核算",
                   "manual": "手工监测"}  # fmt: skip
PERIODS_PER_YEAR = {"hour": 8760, "day": 365, "week": 52, "month": 12, "quarter": 4,
                    "halfyear": 2, "year": 1}  # fmt: skip

RECTIFICATION: dict[str, tuple[str, str]] = {
    "permit_expiring": ("在有效期届满前提交排污许可证延续申请",
                        "apply for the permit's renewal before it expires"),
    "permit_expired": ("立即申请重新核发排污许可证，未取得前不得排污",
                       "apply for a new permit at once; no discharge until it is issued"),
    "no_valid_permit": ("责令停止无证排污，依法申领排污许可证",
                        "stop discharging without a permit and apply for one"),
    "exceedance_hours": ("查明超标原因，整改治理设施，确保稳定达标排放",
                         "find the cause of the exceedances and repair the treatment"),
    "monitoring_items": ("按自行监测方案安装并联网自动监测设备",
                         "install and connect the automatic monitoring the plan requires"),
    "monitoring_frequency": ("按自行监测方案规定的频次开展手工监测",
                             "carry out the manual monitoring at the plan's frequency"),
    "capture_rate": ("加强自动监测设备运维，提高有效数据捕集率至75%以上",
                     "maintain the monitoring so that the capture rate reaches 75 %"),
    "data_unusable": ("对不可用数据时段补充监测并说明原因，按规定核算排放量",
                      "explain the unusable hours and account them as the rules require"),
    "emission_totals": ("采取减排措施，确保年排放量不超过许可排放量",
                        "cut emissions so that the year stays within the permitted total"),
    "alerts": ("按期处置未办结的预警报警", "handle the open alerts within their deadlines"),
    "cases": ("按处罚决定履行并完成整改", "carry out the penalty decisions and rectify"),
    "electricity": ("核查用电异常，确保治理设施与生产设施同步运行",
                    "check the electricity anomalies: treatment must run with production"),
    "falsification": ("核查疑似数据造假线索，依法查处",
                      "investigate the suspected falsification"),
}  # fmt: skip


class AuditError(PeerError):
    pass


@dataclass(frozen=True, slots=True)
class AuditPeriod:
    label: str
    kind: str  # year, quarter or month
    start: datetime
    end: datetime

    @property
    def months(self) -> list[str]:
        """The period's months as YYYY-MM."""
        first = self.start.month
        count = {"year": 12, "quarter": 3, "month": 1}[self.kind]
        return [f"{self.start.year}-{m:02d}" for m in range(first, first + count)]


def parse_period(text: str) -> AuditPeriod:
    """A year (2026), a quarter (2026-Q3) or a month (2026-07)."""
    text = text.strip()
    if match := re.fullmatch(r"(\d{4})", text):
        year = int(match[1])
        kind, start_month, months = "year", 1, 12
    elif match := re.fullmatch(r"(\d{4})-[Qq]([1-4])", text):
        year, quarter = int(match[1]), int(match[2])
        kind, start_month, months = "quarter", 3 * quarter - 2, 3
        text = f"{year}-Q{quarter}"
    elif (match := re.fullmatch(r"(\d{4})-(\d{2})", text)) and 1 <= int(match[2]) <= 12:
        year = int(match[1])
        kind, start_month, months = "month", int(match[2]), 1
    else:
        raise AuditError("bad_period", f"{text!r} is not a period (2026, 2026-Q3 or 2026-07)",
                         f"{text!r} 不是审计期间（2026、2026-Q3 或 2026-07）")  # fmt: skip
    if not 2000 <= year <= 2100:
        raise AuditError("bad_period", f"year {year} is out of range", f"年份{year}超出范围")
    end_month = start_month + months
    end = datetime(year + 1, 1, 1) if end_month > 12 else datetime(year, end_month, 1)
    return AuditPeriod(text, kind, datetime(year, start_month, 1), end)


@dataclass(frozen=True, slots=True)
class SeriesHours:
    """One device's (or direct-discharge outlet's) hours of a pollutant in the
    period, by method, and per quarter the counts the capture rate needs."""

    mn: str
    outlet: str
    pollutant: str
    methods: Mapping[str, int]
    """Hours by method (measured, substituted, direct, manual, stopped, missing)."""
    unusable: int
    """Missing hours no substitution covers because α is below the threshold."""
    quarters: Mapping[str, tuple[int, int, int]]
    """By quarter (2026-Q3): hours, stopped hours, invalid hours."""


@dataclass(frozen=True, slots=True)
class PlanFact:
    outlet: str
    pollutant: str
    method: str  # automatic or manual
    frequency: str
    monitored: bool
    """Automatic: a device monitors it; manual: (not used)."""
    samples: int
    """Manual results sampled in the period (``manual_result``)."""


@dataclass(frozen=True, slots=True)
class AuditFacts:
    enterprise_id: int
    enterprise_name: str
    county: str
    period: AuditPeriod
    as_of: datetime
    newest_frame_id: int | None
    permits: Sequence[Mapping[str, Any]]
    """number, version, category, valid_from, valid_to (ISO dates)."""
    permitted_t: Mapping[str, float]
    """Annual permitted totals by pollutant."""
    monthly_caps_t: Mapping[str, float]
    monthly_t: Mapping[str, Mapping[str, Mapping[str, float]]]
    """Pollutant → YYYY-MM (January to the period's end) → method → tonnes."""
    accounted_until: datetime | None
    series: Sequence[SeriesHours]
    plan: Sequence[PlanFact]
    exceedance_hours: Mapping[str, int]
    alerts: Sequence[Mapping[str, Any]]
    cases: Sequence[Mapping[str, Any]]
    electricity: Sequence[Mapping[str, Any]]
    falsification: Sequence[Mapping[str, Any]]
    capture_threshold: float
    pollutant_names: Mapping[str, str] = field(default_factory=dict)


def _check(  # noqa: PLR0917 - a check's parts
    code: str, status: CheckStatus, title_zh: str, title_en: str,
    detail_zh: str, detail_en: str, evidence: Any,
) -> dict[str, Any]:  # fmt: skip
    return {"code": code, "status": str(status), "title_zh": title_zh, "title_en": title_en,
            "detail_zh": detail_zh, "detail_en": detail_en, "evidence": evidence}  # fmt: skip


def _quarter_of(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def _required_samples(frequency: str, period: AuditPeriod) -> int:
    """What a manual item's frequency asks for in the period (at least 1)."""
    match = re.fullmatch(r"(\d+)/(\w+)", frequency)
    if match is None:
        return 0
    per_year = int(match[1]) * PERIODS_PER_YEAR[match[2]]
    fraction = {"year": 1.0, "quarter": 0.25, "month": 1 / 12}[period.kind]
    return max(1, int(per_year * fraction))


def _validity(facts: AuditFacts, expiring_days: int) -> list[dict[str, Any]]:
    spans = [PermitSpan(p["number"], datetime.fromisoformat(p["valid_from"]),
                        datetime.fromisoformat(p["valid_to"])) for p in facts.permits]  # fmt: skip
    emitting = any(
        tonnes > 0 for months in facts.monthly_t.values() for month, by_method in months.items()
        if month in facts.period.months for tonnes in by_method.values()
    )  # fmt: skip
    checks = validity_checks(spans, facts.as_of, emitting=emitting, expiring_days=expiring_days)
    return [_check(c.code, c.status, "排污许可证", "discharge permit", c.detail_zh, c.detail_en,
                   {"permits": list(facts.permits)}) for c in checks]  # fmt: skip


def build_audit(facts: AuditFacts, parameters: PermitParameters) -> dict[str, Any]:
    """The audit file's document (JSON types)."""
    period = facts.period
    checks = _validity(facts, parameters.checks.expiring_days)
    if not facts.permits:
        checks.append(_check("no_permit_recorded", CheckStatus.WARNING, "排污许可证",
                             "discharge permit", "未登记排污许可证", "no permit recorded",
                             {}))  # fmt: skip

    # Data hours: counts by method per series (evidence of the accounting).
    hours_rows: list[dict[str, Any]] = [{"mn": s.mn, "outlet": s.outlet, "pollutant": s.pollutant,
                   **{m: s.methods.get(m, 0) for m in (*METHODS, "stopped", "missing")},
                   "unusable": s.unusable} for s in facts.series]  # fmt: skip
    valid = sum(r["measured"] for r in hours_rows)
    invalid = sum(r["substituted"] + r["missing"] for r in hours_rows)
    substituted = sum(r["substituted"] for r in hours_rows)
    checks.append(_check(
        "data_hours", CheckStatus.OK, "监测数据小时数", "monitoring hours",
        f"有效{valid}小时，无效{invalid}小时，其中替代{substituted}小时",
        f"{valid} valid hours, {invalid} invalid, {substituted} of them substituted",
        {"valid": valid, "invalid": invalid, "substituted": substituted, "series": hours_rows},
    ))  # fmt: skip

    over = {code: n for code, n in sorted(facts.exceedance_hours.items()) if n > 0}
    total_over = sum(over.values())
    checks.append(_check(
        "exceedance_hours", CheckStatus.PROBLEM if over else CheckStatus.OK,
        "浓度超标小时", "concentration exceedance hours",
        f"超标{total_over}小时" + "".join(f"；{facts.pollutant_names.get(c, c)} {n}小时"
                                         for c, n in over.items()),
        f"{total_over} hours above a limit", dict(over),
    ))  # fmt: skip

    automatic = [p for p in facts.plan if p.method == "automatic"]
    unmonitored = [p for p in automatic if not p.monitored]
    checks.append(_check(
        "monitoring_items", CheckStatus.PROBLEM if unmonitored else CheckStatus.OK,
        "自动监测项目", "automatic monitoring items",
        f"自行监测方案要求自动监测{len(automatic)}项，缺{len(unmonitored)}项（按直排核算）",
        f"{len(automatic)} automatic items required, {len(unmonitored)} not monitored "
        "(accounted as direct discharge)",
        [{"outlet": p.outlet, "pollutant": p.pollutant} for p in unmonitored],
    ))  # fmt: skip

    manual = [p for p in facts.plan if p.method == "manual"]
    short = []
    for item in manual:
        required = _required_samples(item.frequency, period)
        if item.samples < required:
            short.append({"outlet": item.outlet, "pollutant": item.pollutant,
                          "frequency": item.frequency, "required": required,
                          "samples": item.samples})  # fmt: skip
    checks.append(_check(
        "monitoring_frequency", CheckStatus.PROBLEM if short else CheckStatus.OK,
        "手工监测频次", "manual monitoring frequency",
        f"手工监测{len(manual)}项，{len(short)}项未达到规定频次",
        f"{len(manual)} manual items, {len(short)} below their frequency", short,
    ))  # fmt: skip

    rates = []
    for series in facts.series:
        for quarter, (hours, stopped, invalid_hours) in sorted(series.quarters.items()):
            rate = capture_rate(hours, stopped, invalid_hours)
            rates.append({"mn": series.mn, "outlet": series.outlet,
                          "pollutant": series.pollutant, "quarter": quarter,
                          "rate": None if rate is None else round(rate, 4),
                          "ok": rate is None or rate >= facts.capture_threshold})  # fmt: skip
    # A monitored automatic item whose device sent nothing in the period has
    # captured nothing: α = 0 (hours only exist from a device's first data).
    reporting = {(s.outlet, s.pollutant) for s in facts.series
                 if not s.mn.startswith(("outlet:", "manual:"))}  # fmt: skip
    for item in automatic:
        if item.monitored and (item.outlet, item.pollutant) not in reporting:
            rates.append({"mn": "", "outlet": item.outlet, "pollutant": item.pollutant,
                          "quarter": _quarter_of(period.months[0]), "rate": 0.0,
                          "ok": False})  # fmt: skip
    low = [r for r in rates if not r["ok"]]
    checks.append(_check(
        "capture_rate", CheckStatus.PROBLEM if low else CheckStatus.OK,
        "季度有效数据捕集率", "quarterly capture rate",
        f"{len(rates)}项中{len(low)}项低于{facts.capture_threshold:.0%}",
        f"{len(low)} of {len(rates)} below {facts.capture_threshold:.0%}", rates,
    ))  # fmt: skip

    unusable: list[dict[str, Any]] = [
        {"mn": r["mn"], "pollutant": r["pollutant"], "hours": r["unusable"]}
        for r in hours_rows if r["unusable"]
    ]  # fmt: skip
    checks.append(_check(
        "data_unusable", CheckStatus.PROBLEM if unusable else CheckStatus.OK,
        "不可用于核算的数据", "data unusable for accounting",
        f"{sum(u['hours'] for u in unusable)}小时因捕集率低于"
        f"{facts.capture_threshold:.0%}不可用于排放量核算",
        f"{sum(u['hours'] for u in unusable)} hours unusable for accounting (capture below "
        f"{facts.capture_threshold:.0%})", unusable,
    ))  # fmt: skip

    # Execution-report tables.
    codes = sorted(set(facts.monthly_t) | set(facts.permitted_t))
    monthly_rows: list[dict[str, Any]] = []
    quarterly: dict[tuple[str, str], dict[str, Any]] = {}
    annual_rows: list[dict[str, Any]] = []
    for code in codes:
        months = facts.monthly_t.get(code, {})
        cap = facts.monthly_caps_t.get(code)
        for month in period.months:
            parts = {m: round(months.get(month, {}).get(m, 0.0), 6) for m in METHODS}
            actual = round(sum(parts.values()), 6)
            monthly_rows.append({"month": month, "pollutant": code, **parts, "actual_t": actual,
                                 "monthly_cap_t": cap})  # fmt: skip
            row = quarterly.setdefault((_quarter_of(month), code), {
                "quarter": _quarter_of(month), "pollutant": code, **dict.fromkeys(METHODS, 0.0),
                "actual_t": 0.0})  # fmt: skip
            for method, tonnes in parts.items():
                row[method] = round(row[method] + tonnes, 6)
            row["actual_t"] = round(row["actual_t"] + actual, 6)
        # The year to the period's end (``monthly_t`` holds no later month).
        kg = {m: 1000.0 * sum(by.get(m, 0.0) for by in months.values()) for m in METHODS}
        total = pollutant_total(code, kg, facts.permitted_t.get(code), period.start.year,
                                min(facts.accounted_until, period.end)
                                if facts.accounted_until else None,
                                parameters.totals)  # fmt: skip
        annual_rows.append({
            "pollutant": code, "permitted_t": total.permitted_t,
            **{m: round(getattr(total, f"{m}_t"), 6) for m in METHODS},
            "actual_t": round(total.actual_t, 6),
            "share": None if total.share is None else round(total.share, 6),
            "projection_t": None if total.projection_t is None else round(total.projection_t, 6),
            "status": str(total.status),
        })  # fmt: skip
    flagged = [r for r in annual_rows if r["status"] in ("warning", "alarm")]
    alarm = any(r["status"] == "alarm" for r in flagged)
    checks.append(_check(
        "emission_totals",
        CheckStatus.PROBLEM if alarm else CheckStatus.WARNING if flagged else CheckStatus.OK,
        "许可排放量", "permitted totals",
        "；".join(f"{facts.pollutant_names.get(r['pollutant'], r['pollutant'])} 累计"
                 f"{r['actual_t']:.3f} t，占{(r['share'] or 0):.1%}"
                 + ("" if r["projection_t"] is None else f"，全年预测{r['projection_t']:.3f} t")
                 for r in annual_rows if r["share"] is not None) or "无许可排放量",
        "; ".join(f"{r['pollutant']} {r['actual_t']:.3f} t, {(r['share'] or 0):.1%}"
                  + ("" if r["projection_t"] is None else
                     f", projected {r['projection_t']:.3f} t")
                  for r in annual_rows if r["share"] is not None) or "no permitted totals",
        [{"pollutant": r["pollutant"], "status": r["status"]} for r in annual_rows],
    ))  # fmt: skip

    still_open = [a for a in facts.alerts if a["state"] not in ("closed", "merged")]
    checks.append(_check(
        "alerts", CheckStatus.WARNING if still_open else CheckStatus.OK,
        "预警报警及处置", "alerts and outcomes",
        f"预警报警{len(facts.alerts)}条，未办结{len(still_open)}条",
        f"{len(facts.alerts)} alerts, {len(still_open)} not closed", list(facts.alerts),
    ))  # fmt: skip
    open_cases = [c for c in facts.cases if c["state"] != "closed"]
    penalties = [c for c in facts.cases if c.get("penalty_reference")]
    checks.append(_check(
        "cases", CheckStatus.PROBLEM if facts.cases else CheckStatus.OK,
        "执法案件及处罚", "cases and penalties",
        f"执法案件{len(facts.cases)}件（未结{len(open_cases)}件），处罚{len(penalties)}件",
        f"{len(facts.cases)} cases ({len(open_cases)} open), {len(penalties)} penalties",
        list(facts.cases),
    ))  # fmt: skip
    checks.append(_check(
        "electricity", CheckStatus.WARNING if facts.electricity else CheckStatus.OK,
        "用电异常", "electricity anomalies", f"用电异常线索{len(facts.electricity)}条",
        f"{len(facts.electricity)} electricity anomalies", list(facts.electricity),
    ))  # fmt: skip
    checks.append(_check(
        "falsification", CheckStatus.PROBLEM if facts.falsification else CheckStatus.OK,
        "疑似数据造假", "suspected falsification",
        f"疑似造假线索{len(facts.falsification)}条",
        f"{len(facts.falsification)} suspected falsification findings",
        list(facts.falsification),
    ))  # fmt: skip

    problems = []
    for check in checks:
        if check["status"] == str(CheckStatus.OK) or check["code"] not in RECTIFICATION:
            continue
        zh, en = RECTIFICATION[check["code"]]
        problems.append({"code": check["code"], "status": check["status"],
                         "problem_zh": f"{check['title_zh']}：{check['detail_zh']}",
                         "problem_en": f"{check['title_en']}: {check['detail_en']}",
                         "rectification_zh": zh, "rectification_en": en})  # fmt: skip
    return {
        "enterprise": {
            "id": facts.enterprise_id,
            "name": facts.enterprise_name,
            "county": facts.county,
        },
        "period": {
            "label": period.label,
            "kind": period.kind,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "as_of": facts.as_of.isoformat(),
        "newest_frame_id": facts.newest_frame_id,
        "parameters_version": parameters.version,
        "permits": list(facts.permits),
        "checks": checks,
        "problems": problems,
        "monthly": monthly_rows,
        "quarterly": list(quarterly.values()),
        "annual": annual_rows,
        "pollutant_names": dict(facts.pollutant_names),
    }
