"""The permit audit file's edges: the facts of an enterprise and period read
from the store for ``audit_file.build_audit``, and each file recorded as an
``audit_run`` (its parameters, the newest archived frame, the document and
the SHA-256 of its PDF and XLSX), which re-renders the same bytes later."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select

from envwatch.audit.log import Actor, record
from envwatch.glossary import factor
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.permits.audit_file import (
    AuditFacts,
    AuditPeriod,
    PlanFact,
    SeriesHours,
    build_audit,
    parse_period,
)
from envwatch.permits.manual_store import manual_samples
from envwatch.permits.materialise import _monitored  # the one test of "a device monitors it"
from envwatch.permits.parameters import PermitParameters
from envwatch.permits.report import permitted_tonnes
from envwatch.permits.store import current_permits, limit_in_force_version
from envwatch.permits.totals import KG_PER_TONNE, year_bounds
from envwatch.reports.audit_file import audit_pdf, audit_xlsx
from envwatch.rules.catalogue import RULES
from envwatch.rules.parameters import RuleSet
from envwatch.rules.validity import quarter_of
from envwatch.store.schema import (
    Alert,
    ArchivedFrame,
    AuditRun,
    County,
    EnforcementCase,
    Enterprise,
    FindingRecord,
    HourlyEmission,
    Meter,
    MonitoringPoint,
    Outlet,
    PermitLimit,
    PermitMonitoring,
)
from envwatch.times import utc_as_cst_text

HOUR = timedelta(hours=1)
EVIDENCE_ROWS = 200
"""At most this many alerts, cases or findings listed per check (all are counted)."""


def _utc(moment: datetime) -> datetime:
    """A data time (naive CST) as a UTC moment, to compare with stored moments."""
    return moment.replace(tzinfo=CHINA_STANDARD_TIME).astimezone(UTC)


def _months(start: datetime, end: datetime) -> Iterable[tuple[datetime, datetime]]:
    month = start
    while month < end:
        following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1)
        yield month, min(following, end)
        month = following


def _quarter_label(start: datetime) -> str:
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _devices(connection: Connection, enterprise_id: int) -> list[str]:
    """Every device whose findings are the enterprise's (``alerts/desk.py`` ``owner_of``)."""
    points = connection.execute(
        select(MonitoringPoint.mn).where(MonitoringPoint.enterprise_id == enterprise_id)
    ).scalars()
    meters = connection.execute(
        select(Meter.id, Meter.mn).where(Meter.enterprise_id == enterprise_id)
    ).all()
    devices = [*points, f"enterprise:{enterprise_id}"]
    for meter in meters:
        devices.append(f"meter:{meter.id}")
        if meter.mn:
            devices.append(meter.mn)
    return devices


@dataclass(frozen=True, slots=True)
class _Window:
    start: datetime
    end: datetime


def gather_facts(  # noqa: PLR0917 - one read per part of the file
    connection: Connection,
    enterprise_id: int,
    period: AuditPeriod,
    as_of: datetime,
    parameters: PermitParameters,
    rules: RuleSet,
) -> AuditFacts | None:
    """The facts of the enterprise's ``period`` as stored, judged at ``as_of``
    (naive CST: nothing later counts); None for an unknown enterprise."""
    enterprise = connection.execute(
        select(Enterprise.name, County.name_zh)
        .join(County, County.code == Enterprise.county_code)
        .where(Enterprise.id == enterprise_id)
    ).first()  # fmt: skip
    if enterprise is None:
        return None
    del parameters  # the totals' thresholds are applied by build_audit
    window = _Window(period.start, min(period.end, max(as_of, period.start)))
    year_start, _ = year_bounds(period.start.year)
    outlets = {row.id: row.code for row in connection.execute(
        select(Outlet.id, Outlet.code).where(Outlet.enterprise_id == enterprise_id)
    )}  # fmt: skip

    permits = current_permits(connection, enterprise_id)
    permit_rows = [{"number": p.number, "version": p.version, "category": p.category,
                    "valid_from": p.valid_from.date().isoformat(),
                    "valid_to": p.valid_to.date().isoformat()} for p in permits]  # fmt: skip
    caps: dict[str, float] = {}
    for cap in connection.execute(
        select(PermitLimit.outlet_id, PermitLimit.pollutant,
               func.max(PermitLimit.monthly_tonnes).label("tonnes"))
        .where(PermitLimit.enterprise_id == enterprise_id,
               PermitLimit.monthly_tonnes.is_not(None), limit_in_force_version())
        .group_by(PermitLimit.outlet_id, PermitLimit.pollutant)
    ):  # fmt: skip
        caps[cap.pollutant] = caps.get(cap.pollutant, 0.0) + float(cap.tonnes)

    # Monthly tonnes by method, January to the period's end (the year to date).
    monthly: dict[str, dict[str, dict[str, float]]] = {}
    for start, end in _months(year_start, min(period.end, max(as_of, year_start))):
        for row in connection.execute(
            select(HourlyEmission.pollutant, HourlyEmission.method,
                   func.sum(HourlyEmission.emission_kg).label("kg"))
            .where(HourlyEmission.enterprise_id == enterprise_id,
                   HourlyEmission.hour >= start, HourlyEmission.hour < end,
                   HourlyEmission.emission_kg.is_not(None))
            .group_by(HourlyEmission.pollutant, HourlyEmission.method)
        ):  # fmt: skip
            by_method = monthly.setdefault(row.pollutant, {}).setdefault(f"{start:%Y-%m}", {})
            by_method[row.method] = float(row.kg or 0.0) / KG_PER_TONNE
    newest_hour = connection.execute(
        select(func.max(HourlyEmission.hour)).where(
            HourlyEmission.enterprise_id == enterprise_id, HourlyEmission.hour < window.end)
    ).scalar()  # fmt: skip

    series = _series(connection, enterprise_id, window, outlets)
    plan = []
    for permit in permits:
        for item in connection.execute(
            select(PermitMonitoring).where(PermitMonitoring.permit_id == permit.id)
            .order_by(PermitMonitoring.id)
        ):  # fmt: skip
            samples = manual_samples(connection, item.outlet_id, item.pollutant,
                                     window.start, window.end)  # fmt: skip
            monitored = item.method == "automatic" and _monitored(
                connection, item.outlet_id, item.pollutant
            )
            plan.append(PlanFact(outlets.get(item.outlet_id, str(item.outlet_id)),
                                 item.pollutant, item.method, item.frequency, monitored,
                                 int(samples)))  # fmt: skip

    devices = _devices(connection, enterprise_id)
    findings = connection.execute(
        select(FindingRecord.id, FindingRecord.mn, FindingRecord.pollutant, FindingRecord.rule,
               FindingRecord.window_start, FindingRecord.explanation)
        .where(FindingRecord.mn.in_(devices), FindingRecord.window_start >= window.start,
               FindingRecord.window_start < window.end)
        .order_by(FindingRecord.window_start, FindingRecord.id)
    ).all()  # fmt: skip
    exceeding: dict[str, set[datetime]] = {}
    by_kind: dict[str, list[dict[str, Any]]] = {"electricity": [], "falsification": []}
    for finding in findings:
        if finding.rule == "exceedance":
            hour = finding.window_start.replace(minute=0, second=0, microsecond=0)
            exceeding.setdefault(finding.pollutant, set()).add(hour)
        rule = RULES.get(finding.rule)
        if rule is not None and rule.kind in by_kind:
            by_kind[rule.kind].append({
                "id": finding.id, "mn": finding.mn, "pollutant": finding.pollutant,
                "rule": finding.rule, "title_zh": rule.title_zh,
                "at": finding.window_start.isoformat(), "explanation": finding.explanation[:200],
            })  # fmt: skip

    alerts = [{
        "id": row.id, "rule": row.rule, "pollutant": row.pollutant, "level": row.level,
        "state": row.state, "outcome": row.outcome, "opened_at": utc_as_cst_text(row.opened_at),
        "closed_at": utc_as_cst_text(row.closed_at), "case_id": row.case_id,
    } for row in connection.execute(
        select(Alert).where(Alert.enterprise_id == enterprise_id,
                            Alert.opened_at >= _utc(window.start),
                            Alert.opened_at < _utc(window.end)).order_by(Alert.id)
    )]  # fmt: skip
    cases = [{
        "id": row.id, "kind": row.kind, "state": row.state,
        "opened_at": utc_as_cst_text(row.opened_at), "closed_at": utc_as_cst_text(row.closed_at),
        "findings": row.findings[:200], "legal_basis": row.legal_basis[:200],
        "penalty_reference": row.penalty_reference,
    } for row in connection.execute(
        select(EnforcementCase).where(EnforcementCase.enterprise_id == enterprise_id,
                                      EnforcementCase.opened_at >= _utc(window.start),
                                      EnforcementCase.opened_at < _utc(window.end))
        .order_by(EnforcementCase.id)
    )]  # fmt: skip
    codes = set(monthly) | {s.pollutant for s in series} | {p.pollutant for p in plan}
    names = {code: known.name_zh for code in sorted(codes) if (known := factor(code))}
    return AuditFacts(
        enterprise_id, enterprise.name, enterprise.name_zh, period, as_of,
        newest_frame_id(connection), permit_rows,
        permitted_tonnes(connection, enterprise_id, period.start.year), caps, monthly,
        None if newest_hour is None else newest_hour + HOUR, series, plan,
        {code: len(hours) for code, hours in exceeding.items()},
        alerts[:EVIDENCE_ROWS], cases[:EVIDENCE_ROWS],
        by_kind["electricity"][:EVIDENCE_ROWS], by_kind["falsification"][:EVIDENCE_ROWS],
        rules.substitution.low_rate, names,
    )  # fmt: skip


def _series(
    connection: Connection, enterprise_id: int, window: _Window, outlets: dict[int, str]
) -> list[SeriesHours]:
    """Each device's hours of a pollutant in the window by method, the unusable
    ones, and per quarter of the window the capture rate's counts (its whole
    quarters, to the window's end)."""
    methods: dict[tuple[str, str], dict[str, int]] = {}
    outlet_of: dict[tuple[str, str], str] = {}
    for row in connection.execute(
        select(HourlyEmission.mn, HourlyEmission.pollutant, HourlyEmission.outlet_id,
               HourlyEmission.method, func.count().label("n"))
        .where(HourlyEmission.enterprise_id == enterprise_id,
               HourlyEmission.hour >= window.start, HourlyEmission.hour < window.end)
        .group_by(HourlyEmission.mn, HourlyEmission.pollutant, HourlyEmission.outlet_id,
                  HourlyEmission.method)
    ):  # fmt: skip
        key = (row.mn, row.pollutant)
        methods.setdefault(key, {})[row.method] = methods.get(key, {}).get(row.method, 0) + row.n
        outlet_of[key] = outlets.get(row.outlet_id, "") if row.outlet_id else ""
    unusable = {(row.mn, row.pollutant): int(row.n) for row in connection.execute(
        select(HourlyEmission.mn, HourlyEmission.pollutant, func.count().label("n"))
        .where(HourlyEmission.enterprise_id == enterprise_id,
               HourlyEmission.hour >= window.start, HourlyEmission.hour < window.end,
               HourlyEmission.method == "missing", HourlyEmission.rule.like("%unusable%"))
        .group_by(HourlyEmission.mn, HourlyEmission.pollutant)
    )}  # fmt: skip
    quarters: dict[tuple[str, str], dict[str, list[int]]] = {}
    start = quarter_of(window.start)
    while start < window.end:
        following = datetime(start.year + (start.month > 9), (start.month + 2) % 12 + 1, 1)
        for count in connection.execute(
            select(HourlyEmission.mn, HourlyEmission.pollutant, HourlyEmission.validity,
                   HourlyEmission.method, func.count().label("n"))
            .where(HourlyEmission.enterprise_id == enterprise_id,
                   HourlyEmission.hour >= start, HourlyEmission.hour < min(following, window.end),
                   HourlyEmission.method.not_in(("direct", "manual")))
            .group_by(HourlyEmission.mn, HourlyEmission.pollutant, HourlyEmission.validity,
                      HourlyEmission.method)
        ):  # fmt: skip
            counts = quarters.setdefault((count.mn, count.pollutant), {}).setdefault(
                _quarter_label(start), [0, 0, 0]
            )
            counts[0] += count.n
            if count.validity == "stopped":
                counts[1] += count.n
            elif count.validity == "invalid":
                counts[2] += count.n
        start = following
    return [
        SeriesHours(mn, outlet_of[(mn, code)], code, methods[(mn, code)],
                    unusable.get((mn, code), 0),
                    {q: (c[0], c[1], c[2]) for q, c in quarters.get((mn, code), {}).items()})
        for mn, code in sorted(methods)
    ]  # fmt: skip


def newest_frame_id(connection: Connection) -> int | None:
    """The newest archived frame: the data the file was made from went this far."""
    return connection.execute(select(func.max(ArchivedFrame.id))).scalar()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_run(  # noqa: PLR0917 - what a run is
    connection: Connection,
    enterprise_id: int,
    period: str,
    as_of: datetime,
    parameters: dict[str, Any],
    document: dict[str, Any],
    pdf: bytes,
    xlsx: bytes,
    actor: Actor,
) -> int:
    """Store the run (and its audit-log entry) in the caller's transaction; its id."""
    run_id = connection.execute(insert(AuditRun).values(
        enterprise_id=enterprise_id, period=period, as_of=as_of,
        newest_frame_id=document.get("newest_frame_id"), parameters=parameters,
        document=document, pdf_sha256=sha256(pdf), xlsx_sha256=sha256(xlsx),
        created_by=actor.name, created_at=datetime.now(UTC),
    ).returning(AuditRun.id)).scalar_one()  # fmt: skip
    record(connection, actor, "audit_file.create", "audit_run", run_id, after={
        "enterprise_id": enterprise_id, "period": period, "as_of": as_of.isoformat(),
        "newest_frame_id": document.get("newest_frame_id"), "pdf_sha256": sha256(pdf),
    })  # fmt: skip
    return int(run_id)


@dataclass(frozen=True, slots=True)
class AuditOutput:
    run_id: int
    document: dict[str, Any]
    pdf: bytes
    xlsx: bytes


def create_audit_file(
    connection: Connection,
    enterprise_id: int,
    period_text: str,
    as_of: datetime,
    actor: Actor,
    *,
    parameters: PermitParameters,
    rules: RuleSet,
) -> AuditOutput | None:
    """Make, render and record the enterprise's audit file of the period (in
    the caller's transaction); None for an unknown enterprise."""
    period = parse_period(period_text)
    facts = gather_facts(connection, enterprise_id, period, as_of, parameters, rules)
    if facts is None:
        return None
    document = build_audit(facts, parameters)
    pdf, xlsx = audit_pdf(document), audit_xlsx(document)
    stored = {"period": period.label, "as_of": as_of.isoformat(),
              "permits_version": parameters.version, "rules_version": rules.version,
              "capture_threshold": rules.substitution.low_rate,
              "expiring_days": parameters.checks.expiring_days}  # fmt: skip
    run_id = record_run(connection, enterprise_id, period.label, as_of, stored, document, pdf,
                        xlsx, actor)  # fmt: skip
    return AuditOutput(run_id, document, pdf, xlsx)
