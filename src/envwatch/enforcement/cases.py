"""Enforcement cases opened from alerts (现场检查 / 非现场检查): findings, legal
basis and the penalty decision's reference; a case links back to all its
alerts. Enterprises on the enforcement positive list (监督执法正面清单) are
checked off-site first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from envwatch.audit.log import Actor, record
from envwatch.errors import PeerError
from envwatch.store.schema import Alert, EnforcementCase, Enterprise

KINDS = {"onsite": "现场检查", "offsite": "非现场检查"}
OPENERS = frozenset({"city_admin", "city_supervisor", "county_officer", "enforcement_officer"})


class CaseError(PeerError):
    """A case action refused, with the reason."""


def open_case(
    connection: Connection,
    alert_ids: Sequence[int],
    actor: Actor,
    *,
    kind: str | None = None,
    now: datetime | None = None,
) -> tuple[int, str]:
    """A case for ``alert_ids`` (all of one enterprise); its id and kind. Without
    ``kind``: off-site for an enterprise on the positive list, else on-site."""
    if actor.role not in OPENERS:
        raise CaseError("role_not_allowed", f"the role {actor.role!r} may not open cases",
                        "该角色不能立案检查")  # fmt: skip
    alerts = connection.execute(select(Alert).where(Alert.id.in_(alert_ids))).all()
    if not alert_ids or len(alerts) != len(set(alert_ids)):
        raise CaseError("unknown_alert", "every alert of a case must exist",
                        "立案所附预警须均已存在")  # fmt: skip
    enterprises = {alert.enterprise_id for alert in alerts}
    if len(enterprises) != 1 or None in enterprises:
        raise CaseError("mixed_enterprises", "a case covers the alerts of one enterprise",
                        "一个案件只能关联同一企业的预警")  # fmt: skip
    enterprise_id = enterprises.pop()
    assert enterprise_id is not None
    positive = connection.execute(
        select(Enterprise.positive_list).where(Enterprise.id == enterprise_id)
    ).scalar_one()
    kind = kind or ("offsite" if positive else "onsite")
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
    changes: dict[str, str],
    close: bool = False,
    now: datetime | None = None,
) -> None:
    """Record findings, legal basis and penalty reference; close the case."""
    if actor.role not in OPENERS:
        raise CaseError("role_not_allowed", f"the role {actor.role!r} may not change cases",
                        "该角色不能修改案件")  # fmt: skip
    case = connection.execute(select(EnforcementCase).where(EnforcementCase.id == case_id)).first()
    if case is None:
        raise CaseError("unknown_case", f"no case {case_id}", f"没有编号为{case_id}的案件")
    if case.state == "closed":
        raise CaseError("case_closed", f"case {case_id} is closed", f"案件{case_id}已结案")
    unknown = set(changes) - {"findings", "legal_basis", "penalty_reference"}
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
