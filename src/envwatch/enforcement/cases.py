"""Enforcement cases opened from alerts (现场检查 / 非现场检查): findings, legal
basis and the penalty decision's reference; a case links back to all its
alerts. Enterprises on the enforcement positive list (监督执法正面清单) are
checked off-site first.

Who: enforcement officers, city supervisors and administrators open and
record cases anywhere, county officers in their counties (``OPENERS``, and
the alerts or the case within their scope, ``alerts/scope.py``). Cases are
seen by the scope rule on their enterprise: the bureau all, county officers
their counties', an enterprise its own; a contractor none (a case is the
enterprise's, not a device's)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from envwatch.alerts.scope import Viewer, scope, scope_by
from envwatch.audit.log import Actor, record
from envwatch.errors import PeerError
from envwatch.store.schema import (
    Alert,
    AlertFinding,
    AuditEntry,
    EnforcementCase,
    Enterprise,
    FindingRecord,
)

KINDS = {"onsite": "现场检查", "offsite": "非现场检查"}
CASE_STATES = {"open": "办理中", "closed": "已结案"}
OPENERS = frozenset({"city_admin", "city_supervisor", "county_officer", "enforcement_officer"})
RECORD_FIELDS = ("findings", "legal_basis", "penalty_reference")


class CaseError(PeerError):
    """A case action refused, with the reason."""


def may_change_cases(viewer: Viewer) -> bool:
    """Whether ``viewer``'s role opens and records cases (within its scope)."""
    return viewer.role in OPENERS


def default_kind(positive_list: bool) -> str:
    """Off-site for an enterprise on the positive list, else on-site."""
    return "offsite" if positive_list else "onsite"


def open_case(
    connection: Connection,
    alert_ids: Sequence[int],
    actor: Actor,
    *,
    viewer: Viewer,
    kind: str | None = None,
    now: datetime | None = None,
) -> tuple[int, str]:
    """A case for ``alert_ids`` (all of one enterprise, each in ``viewer``'s
    scope and in no other case); its id and kind. Without ``kind``: as
    ``default_kind`` says."""
    if not may_change_cases(viewer):
        raise CaseError("role_not_allowed", f"the role {viewer.role!r} may not open cases",
                        "该角色不能立案检查")  # fmt: skip
    alerts = connection.execute(select(Alert).where(Alert.id.in_(alert_ids), scope(viewer))).all()
    if not alert_ids or len(alerts) != len(set(alert_ids)):
        # Out of scope reads as unknown, as for the alerts themselves.
        raise CaseError("unknown_alert", "every alert of a case must exist",
                        "立案所附预警须均已存在")  # fmt: skip
    linked = sorted(alert.id for alert in alerts if alert.case_id is not None)
    if linked:
        raise CaseError("alert_in_case", f"alert {linked[0]} is already in a case",
                        f"预警{linked[0]}已关联案件")  # fmt: skip
    enterprises = {alert.enterprise_id for alert in alerts}
    if len(enterprises) != 1 or None in enterprises:
        raise CaseError("mixed_enterprises", "a case covers the alerts of one enterprise",
                        "一个案件只能关联同一企业的预警")  # fmt: skip
    enterprise_id = enterprises.pop()
    assert enterprise_id is not None
    positive = connection.execute(
        select(Enterprise.positive_list).where(Enterprise.id == enterprise_id)
    ).scalar_one()
    kind = kind or default_kind(bool(positive))
    if kind not in KINDS:
        raise CaseError("unknown_kind", f"kind must be one of {', '.join(KINDS)}",
                        f"检查方式须为{'、'.join(KINDS.values())}")  # fmt: skip
    now = now or datetime.now(UTC)
    values = {"enterprise_id": enterprise_id, "kind": kind, "state": "open",
              "opened_by": actor.name, "opened_at": now, "findings": "", "legal_basis": "",
              "penalty_reference": ""}  # fmt: skip
    case_id = int(
        connection.execute(
            insert(EnforcementCase).values(**values).returning(EnforcementCase.id)
        ).scalar_one()
    )
    connection.execute(update(Alert).where(Alert.id.in_(alert_ids)).values(case_id=case_id))
    after = {**values, "alerts": sorted(alert_ids), "positive_list": positive}
    record(connection, actor, "case.open", "case", case_id, after=after, at=now)
    return case_id, kind


def update_case(
    connection: Connection,
    case_id: int,
    actor: Actor,
    *,
    viewer: Viewer,
    changes: dict[str, str],
    close: bool = False,
    now: datetime | None = None,
) -> None:
    """Record findings, legal basis and penalty reference; close the case."""
    case = connection.execute(
        select(EnforcementCase)
        .join(Enterprise, EnforcementCase.enterprise_id == Enterprise.id)
        .where(EnforcementCase.id == case_id, case_scope(viewer))
    ).first()
    if case is not None and not may_change_cases(viewer):
        raise CaseError("role_not_allowed", f"the role {viewer.role!r} may not change cases",
                        "该角色不能修改案件")  # fmt: skip
    if case is None:
        raise CaseError("unknown_case", f"no case {case_id}", f"没有编号为{case_id}的案件")
    if case.state == "closed":
        raise CaseError("case_closed", f"case {case_id} is closed", f"案件{case_id}已结案")
    unknown = set(changes) - set(RECORD_FIELDS)
    if unknown:
        raise CaseError("unknown_field", f"unknown fields {sorted(unknown)}", "未知字段")
    now = now or datetime.now(UTC)
    values: dict[str, Any] = dict(changes)
    if close:
        values |= {"state": "closed", "closed_at": now}
    before = {key: getattr(case, key) for key in values}
    connection.execute(
        update(EnforcementCase).where(EnforcementCase.id == case_id).values(**values)
    )
    record(connection, actor, "case.close" if close else "case.record", "case", case_id,
           before=before, after=values, at=now)  # fmt: skip


def enterprise_history(connection: Connection, enterprise_id: int) -> dict[str, Any]:
    """An enterprise's alerts, cases and outcomes together, newest first."""
    enterprise = connection.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.county_code, Enterprise.positive_list)
        .where(Enterprise.id == enterprise_id)
    ).first()  # fmt: skip
    if enterprise is None:
        raise CaseError("unknown_enterprise", f"no enterprise {enterprise_id}",
                        f"没有编号为{enterprise_id}的企业")  # fmt: skip
    alerts = connection.execute(
        select(Alert.id, Alert.mn, Alert.pollutant, Alert.rule, Alert.level, Alert.state,
               Alert.outcome, Alert.opened_at, Alert.closed_at, Alert.case_id)
        .where(Alert.enterprise_id == enterprise_id)
        .order_by(Alert.id.desc())
    ).all()  # fmt: skip
    cases = connection.execute(
        select(EnforcementCase)
        .where(EnforcementCase.enterprise_id == enterprise_id)
        .order_by(EnforcementCase.id.desc())
    ).all()
    return {
        "enterprise": {"id": enterprise.id, "name": enterprise.name,
                       "county": enterprise.county_code,
                       "positive_list": bool(enterprise.positive_list)},
        "alerts": [dict(row._mapping) for row in alerts],
        "cases": [
            {"id": case.id, "kind": case.kind, "state": case.state, "opened_by": case.opened_by,
             "opened_at": case.opened_at, "findings": case.findings,
             "legal_basis": case.legal_basis, "penalty_reference": case.penalty_reference,
             "closed_at": case.closed_at,
             "alerts": [a.id for a in alerts if a.case_id == case.id]}
            for case in cases
        ],
    }  # fmt: skip


def case_scope(viewer: Viewer) -> ColumnElement[bool]:
    """The cases ``viewer`` may see (on rows joined with their enterprise)."""
    return scope_by(viewer, Enterprise.county_code, EnforcementCase.enterprise_id)


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases to list (every field optional; moments zone-aware UTC)."""

    state: str | None = None
    kind: str | None = None
    county: str | None = None
    enterprise_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        wanted: list[ColumnElement[bool]] = []
        if self.state is not None:
            wanted.append(EnforcementCase.state == self.state)
        if self.kind is not None:
            wanted.append(EnforcementCase.kind == self.kind)
        if self.county is not None:
            wanted.append(Enterprise.county_code == self.county)
        if self.enterprise_id is not None:
            wanted.append(EnforcementCase.enterprise_id == self.enterprise_id)
        if self.since is not None:
            wanted.append(EnforcementCase.opened_at >= self.since)
        if self.until is not None:
            wanted.append(EnforcementCase.opened_at < self.until)
        return wanted


def _case_rows(viewer: Viewer, filters: CaseFilter) -> Any:
    return (
        select(EnforcementCase, Enterprise.name.label("enterprise_name"),
               Enterprise.county_code.label("county_code"),
               Enterprise.positive_list.label("positive_list"))
        .join(Enterprise, EnforcementCase.enterprise_id == Enterprise.id)
        .where(case_scope(viewer), *filters.conditions())
    )  # fmt: skip


def visible_cases(
    connection: Connection,
    viewer: Viewer,
    filters: CaseFilter = CaseFilter(),  # frozen: one shared default is safe
    *,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """The cases ``viewer`` may see that pass ``filters``, newest first, and their count."""
    query = _case_rows(viewer, filters)
    total = connection.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = connection.execute(
        query.order_by(EnforcementCase.id.desc()).limit(limit).offset(offset)
    ).all()
    alerts = _alerts_of(connection, [row.id for row in rows])
    return [_case_view(row, alerts.get(row.id, [])) for row in rows], int(total)


def visible_case(connection: Connection, viewer: Viewer, case_id: int) -> dict[str, Any] | None:
    """One case with its alerts' ids, their findings and the case's history
    (its audit entries), or None when it is not ``viewer``'s to see."""
    row = connection.execute(
        _case_rows(viewer, CaseFilter()).where(EnforcementCase.id == case_id)
    ).first()
    if row is None:
        return None
    alert_ids = _alerts_of(connection, [case_id]).get(case_id, [])
    findings = connection.execute(
        select(FindingRecord)
        .join(AlertFinding, AlertFinding.finding_id == FindingRecord.id)
        .where(AlertFinding.alert_id.in_(alert_ids))
        .order_by(FindingRecord.id)
    ).all()
    history = connection.execute(
        select(AuditEntry)
        .where(AuditEntry.entity == "case", AuditEntry.entity_id == str(case_id))
        .order_by(AuditEntry.seq)
    ).all()
    return {
        **_case_view(row, alert_ids),
        "findings_of_alerts": [
            {"id": f.id, "alert_mn": f.mn, "pollutant": f.pollutant or None, "rule": f.rule,
             "rule_version": f.rule_version, "window_start": f.window_start,
             "window_end": f.window_end, "severity": f.severity, "explanation": f.explanation}
            for f in findings
        ],
        "history": [
            {"at": entry.at, "actor": entry.actor, "role": entry.role, "action": entry.action,
             "changes": json.loads(entry.after) if entry.after else {}}
            for entry in history
        ],
    }  # fmt: skip


def _alerts_of(connection: Connection, case_ids: Sequence[int]) -> dict[int, list[int]]:
    linked: dict[int, list[int]] = {}
    if case_ids:
        rows = connection.execute(
            select(Alert.case_id, Alert.id).where(Alert.case_id.in_(case_ids)).order_by(Alert.id)
        ).all()
        for case_id, alert_id in rows:
            if case_id is not None:  # always, by the filter: for the type checker
                linked.setdefault(case_id, []).append(alert_id)
    return linked


def _case_view(row: Any, alert_ids: list[int]) -> dict[str, Any]:
    return {
        "id": row.id, "enterprise_id": row.enterprise_id, "enterprise": row.enterprise_name,
        "county": row.county_code, "positive_list": bool(row.positive_list), "kind": row.kind,
        "state": row.state, "opened_by": row.opened_by, "opened_at": row.opened_at,
        "findings": row.findings, "legal_basis": row.legal_basis,
        "penalty_reference": row.penalty_reference, "closed_at": row.closed_at,
        "alerts": alert_ids,
    }  # fmt: skip
