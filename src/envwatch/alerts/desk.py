"""The alert desk (the store's edge of the alert loop): follows the stored
findings and opens or updates one alert per (device, pollutant, rule)
episode, dispatched at once to the device's county; takes people's actions
through the workflow, with their scope checked; escalates missed deadlines;
queues notifications. Every change is an alert event and an audit entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from envwatch.alerts.policy import LEVELS, OPEN_STATES, Deadlines, Policy, load_policy
from envwatch.alerts.scope import scope, viewer_of
from envwatch.alerts.workflow import Workflow, load_workflow
from envwatch.audit.log import SYSTEM, Actor, record
from envwatch.auth.sessions import active_user
from envwatch.errors import PeerError
from envwatch.rectification import evidence
from envwatch.rectification.policy import EvidencePolicy
from envwatch.rectification.policy import load_policy as load_evidence_policy
from envwatch.store.cursors import read_cursor, save_cursor
from envwatch.store.schema import (
    AirStation,
    Alert,
    AlertEvent,
    AlertFinding,
    ArchivedFrame,
    Enterprise,
    FindingRecord,
    Meter,
    MonitoringPoint,
    Notification,
    NotificationTarget,
    WaterSection,
)
from envwatch.times import as_utc

ALERT_CURSOR = "alerts"
"""The last finding the desk read (kept in ``last_frame_id``: a finding id)."""


class AlertError(PeerError):
    """An alert action refused: unknown alert or user, or out of the user's scope."""


@dataclass(frozen=True, slots=True)
class Owner:
    enterprise_id: int | None
    county_code: str | None


@dataclass
class AlertDesk:
    engine: Engine
    policy: Policy = field(default_factory=load_policy)
    workflow: Workflow = field(default_factory=load_workflow)
    batch: int = 500
    evidence_limits: EvidencePolicy = field(default_factory=lambda: load_evidence_policy().evidence)
    """Files backing an action (an enterprise's explanation) go to the
    rectification's content-addressed evidence store, with its limits."""

    def run_once(self, now: datetime | None = None) -> int:
        """Read the findings stored since the last pass; how many."""
        now = now or datetime.now(UTC)
        with self.engine.begin() as connection:
            last = read_cursor(connection, ALERT_CURSOR)
            findings = connection.execute(
                select(FindingRecord)
                .where(FindingRecord.id > last)
                .order_by(FindingRecord.id)
                .limit(self.batch)
            ).all()
            if not findings:
                return 0
            owners: dict[str, Owner] = {}
            for finding in findings:
                if finding.mn not in owners:
                    owners[finding.mn] = owner_of(connection, finding.mn)
                self._take(connection, finding, owners[finding.mn], now)
            save_cursor(connection, ALERT_CURSOR, findings[-1].id)
        return len(findings)

    def _take(self, connection: Connection, finding: Any, owner: Owner, now: datetime) -> None:
        quiet = timedelta(hours=self.policy.episode.quiet_hours)
        episode = connection.execute(
            select(Alert)
            .where(
                Alert.mn == finding.mn,
                Alert.pollutant == finding.pollutant,
                Alert.rule == finding.rule,
                Alert.state.in_(OPEN_STATES),
                Alert.last_finding_at >= finding.window_start - quiet,
            )
            .order_by(Alert.id.desc())
            .limit(1)
        ).first()
        if episode is None:
            self._open(connection, finding, owner, now)
            return
        connection.execute(insert(AlertFinding).values(alert_id=episode.id, finding_id=finding.id))
        if finding.window_start <= episode.last_finding_at:
            return  # a finding replay stored again: already counted
        count = episode.finding_count + 1
        level = self.policy.level_for(finding.severity, count)
        changes: dict[str, Any] = {
            "finding_count": count,
            "last_finding_at": finding.window_start,
            "evidence": {**finding.evidence, "finding_id": finding.id},
            "explanation": finding.explanation,
        }
        if level != episode.level:
            deadlines = self.policy.deadlines(level, as_utc(episode.opened_at) or now)
            changes |= {
                "level": level,
                "acknowledge_by": _earlier(episode.acknowledge_by, deadlines.acknowledge_by),
                "handle_by": _earlier(episode.handle_by, deadlines.handle_by),
                "close_by": _earlier(episode.close_by, deadlines.close_by),
            }
            record(connection, SYSTEM, "alert.upgrade", "alert", episode.id,
                   before={"level": episode.level}, after={"level": level}, at=now)  # fmt: skip
        connection.execute(update(Alert).where(Alert.id == episode.id).values(**changes))

    def _open(self, connection: Connection, finding: Any, owner: Owner, now: datetime) -> int:
        level = self.policy.level_for(finding.severity, 1)
        deadlines = self.policy.deadlines(level, now)
        values = {
            "mn": finding.mn,
            "pollutant": finding.pollutant,
            "rule": finding.rule,
            "enterprise_id": owner.enterprise_id,
            "county_code": owner.county_code,
            "level": level,
            "state": "new",
            "explanation": finding.explanation,
            "evidence": {**finding.evidence, "finding_id": finding.id},
            "finding_count": 1,
            "first_finding_at": finding.window_start,
            "last_finding_at": finding.window_start,
            "frame_received_at": frame_received_at(connection, finding.evidence),
            "opened_at": now,
            "acknowledge_by": deadlines.acknowledge_by,
            "handle_by": deadlines.handle_by,
            "close_by": deadlines.close_by,
            "escalation": 0,
        }
        alert_id = int(
            connection.execute(insert(Alert).values(**values).returning(Alert.id)).scalar_one()
        )
        connection.execute(insert(AlertFinding).values(alert_id=alert_id, finding_id=finding.id))
        record(connection, SYSTEM, "alert.open", "alert", alert_id, after=values, at=now)
        # Dispatched at once to the county the device belongs to.
        self._change(connection, alert_id, "dispatch", SYSTEM, now=now,
                     note=f"派发至{owner.county_code or '市局'}")  # fmt: skip
        queue(connection, alert_id, owner.county_code, self.policy.escalation.chain[0],
              event="opened", now=now)  # fmt: skip
        return alert_id

    def act(
        self,
        alert_id: int,
        action: str,
        username: str,
        *,
        peer: str,
        note: str = "",
        outcome: str | None = None,
        into: int | None = None,
        attachments: Sequence[str] = (),
        files: Sequence[evidence.Upload] = (),
        stored: Sequence[tuple[str, str]] = (),
        now: datetime | None = None,
    ) -> str:
        """``username`` takes ``action`` on the alert; the new state. ``files``
        are kept in the evidence store, and files ``stored`` before
        (``upload``: name and SHA-256) must be there; both are listed as
        ``<name> sha256:<hex>`` among the event's attachments."""
        now = now or datetime.now(UTC)
        if len(files) + len(stored) > self.evidence_limits.max_files_per_action:
            most = self.evidence_limits.max_files_per_action
            raise AlertError("too_many_files", f"at most {most} files", f"每次最多{most}个文件")
        checked = [(upload, evidence.check_file(upload, self.evidence_limits)) for upload in files]
        with self.engine.begin() as connection:
            user = active_user(connection, username)
            if user is None:
                raise AlertError("unknown_user", f"no active user {username!r}",
                                 f"没有有效用户“{username}”")  # fmt: skip
            if not in_scope(connection, user, alert_id):
                # Out of scope reads as unknown: a user learns nothing of others' alerts.
                raise AlertError("unknown_alert", f"no alert {alert_id}",
                                 f"没有编号为{alert_id}的预警")  # fmt: skip
            if into is not None and (into == alert_id or not in_scope(connection, user, into)):
                raise AlertError("unknown_alert", f"no alert {into} to merge into",
                                 f"没有可合并到的预警{into}")  # fmt: skip
            actor = Actor(user.username, user.role, peer)
            for name, digest in stored:
                evidence.usable_name(name)
                if evidence.stored_type(connection, digest) is None:
                    raise AlertError("unknown_file", f"no stored file {digest} ({name})",
                                     f"没有已上传的文件“{name}”")  # fmt: skip
            # Stored in the action's transaction: a refused action keeps no file.
            kept = [
                f"{evidence.clean_name(upload.name)} sha256:"
                f"{evidence.put(connection, upload.content, media_type, now)}"
                for upload, media_type in checked
            ] + [f"{evidence.clean_name(name)} sha256:{digest}" for name, digest in stored]
            return self._change(connection, alert_id, action, actor, now=now, note=note,
                                outcome=outcome, into=into,
                                attachments=[*attachments, *kept])  # fmt: skip

    def upload(
        self, alert_id: int, username: str, upload: evidence.Upload, now: datetime | None = None
    ) -> tuple[str, str]:
        """Keep a file for a later action on the alert (an enterprise's
        explanation, a handling record): its SHA-256 and media type, checked
        for size and type; only for a user who sees the alert and whose role
        takes some action of the workflow. Named in the action (``stored``)."""
        media_type = evidence.check_file(upload, self.evidence_limits)
        with self.engine.begin() as connection:
            user = active_user(connection, username)
            if user is None or not in_scope(connection, user, alert_id):
                raise AlertError("unknown_alert", f"no alert {alert_id}",
                                 f"没有编号为{alert_id}的预警")  # fmt: skip
            if not any(user.role in t.roles for t in self.workflow.transitions):
                raise AlertError("role_not_allowed", f"the role {user.role!r} adds no evidence",
                                 "该角色不能上传佐证材料")  # fmt: skip
            return evidence.put(connection, upload.content, media_type, now), media_type

    def _change(
        self,
        connection: Connection,
        alert_id: int,
        action: str,
        actor: Actor,
        *,
        now: datetime,
        note: str = "",
        outcome: str | None = None,
        into: int | None = None,
        attachments: Sequence[str] = (),
    ) -> str:
        alert = connection.execute(select(Alert).where(Alert.id == alert_id)).one()
        state = self.workflow.apply(alert.state, action, actor.role, outcome=outcome, target=into)
        if action == "merge" and into is not None:
            _check_merge(connection, alert, into)
        changes: dict[str, Any] = {"state": state}
        stamp = {"acknowledged": "acknowledged_at", "handled": "handled_at", "closed": "closed_at"}
        if state != alert.state and state in stamp:
            changes[stamp[state]] = now
        if outcome is not None and action == "handle":
            changes["outcome"] = outcome
        if into is not None:
            changes["merged_into"] = into
        if action == "reopen":
            changes |= {"closed_at": None, "escalation": 0, "merged_into": None}
        before = {key: getattr(alert, key) for key in changes}
        connection.execute(update(Alert).where(Alert.id == alert_id).values(**changes))
        connection.execute(
            insert(AlertEvent).values(
                alert_id=alert_id, at=now, actor=actor.name, role=actor.role, action=action,
                from_state=alert.state, to_state=state, note=note, outcome=outcome,
                attachments=list(attachments),
            )
        )  # fmt: skip
        after = {**changes, "note": note, "attachments": list(attachments)}
        record(connection, actor, f"alert.{action}", "alert", alert_id, before=before,
               after=after, at=now)  # fmt: skip
        return state

    def sweep(self, now: datetime | None = None) -> int:
        """Escalate every open alert whose deadline passed (督办); how many."""
        now = now or datetime.now(UTC)
        escalated = 0
        with self.engine.begin() as connection:
            alerts = connection.execute(
                select(Alert).where(Alert.state.in_(OPEN_STATES)).order_by(Alert.id)
            ).all()
            for alert in alerts:
                due = self.policy.escalation_due(alert.state, deadlines_of(alert),
                                                 alert.escalation, now)  # fmt: skip
                if due is None:
                    continue
                connection.execute(
                    update(Alert).where(Alert.id == alert.id).values(escalation=due.step)
                )
                note = f"逾期未{MISSED_ZH[due.missed]}，督办至{due.to_zh}"
                connection.execute(
                    insert(AlertEvent).values(
                        alert_id=alert.id, at=now, actor=SYSTEM.name, role=SYSTEM.role,
                        action="escalate", from_state=alert.state, to_state=alert.state,
                        note=note, attachments=[],
                    )
                )  # fmt: skip
                record(connection, SYSTEM, "alert.escalate", "alert", alert.id,
                       before={"escalation": alert.escalation},
                       after={"escalation": due.step, "to": due.to, "missed": due.missed},
                       at=now)  # fmt: skip
                county = (
                    None
                    if due.step == len(self.policy.escalation.chain) - 1
                    else (alert.county_code)
                )
                queue(connection, alert.id, county, due.to, event="escalated", now=now)
                escalated += 1
        return escalated


MISSED_ZH = {"acknowledge": "响应", "handle": "处置", "close": "办结"}


def deadlines_of(alert: Any) -> Deadlines:
    return Deadlines(as_utc(alert.acknowledge_by), as_utc(alert.handle_by), as_utc(alert.close_by))


def _earlier(current: datetime | None, new: datetime | None) -> datetime | None:
    if current is None or new is None:
        return new if current is None else as_utc(current)
    return min(as_utc(current), new)


def in_scope(connection: Connection, user: Any, alert_id: int) -> bool:
    """Whether the ``app_user`` row ``user`` may see and act on the alert: the
    same rule as every query (``alerts/scope.py``)."""
    visible = select(Alert.id).where(Alert.id == alert_id, scope(viewer_of(user)))
    return connection.execute(visible).first() is not None


def owner_of(connection: Connection, mn: str) -> Owner:
    """The enterprise and county of a device (an MN, ``meter:<id>``, or
    ``enterprise:<id>`` for an enterprise's own findings such as its permitted
    totals, ``permits/report.py``)."""
    if mn.startswith("enterprise:") and mn[11:].isdigit():
        row = connection.execute(
            select(Enterprise.id, Enterprise.county_code).where(Enterprise.id == int(mn[11:]))
        ).first()
    elif mn.startswith("meter:") and mn[6:].isdigit():
        row = connection.execute(
            select(Enterprise.id, Enterprise.county_code)
            .join(Meter, Meter.enterprise_id == Enterprise.id)
            .where(Meter.id == int(mn[6:]))
        ).first()
    else:
        row = connection.execute(
            select(Enterprise.id, Enterprise.county_code)
            .join(MonitoringPoint, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(MonitoringPoint.mn == mn)
        ).first()
    if row is None:
        # An air station's or a river section's logger: the county it lies in.
        for table in (AirStation, WaterSection):
            county = connection.execute(select(table.county_code).where(table.mn == mn)).scalar()
            if county is not None:
                return Owner(None, county)
    return Owner(None, None) if row is None else Owner(row.id, row.county_code)


def frame_received_at(connection: Connection, evidence: Mapping[str, Any]) -> datetime | None:
    frames = [f for f in evidence.get("frames", []) if isinstance(f, int)]
    if not frames:
        return None
    received = connection.execute(
        select(ArchivedFrame.received_at).where(ArchivedFrame.id == max(frames))
    ).scalar()
    return as_utc(received) if isinstance(received, datetime) else None


def queue(
    connection: Connection,
    alert_id: int,
    county_code: str | None,
    role: str,
    *,
    event: str,
    now: datetime,
) -> int:
    """Queue a notification of the alert to every active target of ``role``
    for the county (or, with no county, the city's); how many."""
    targets = connection.execute(
        select(NotificationTarget).where(
            NotificationTarget.active.is_(True),
            NotificationTarget.enterprise_id.is_(None),  # enterprises hear of warnings only
            NotificationTarget.role == role,
            NotificationTarget.county_code.is_(None)
            if county_code is None
            else NotificationTarget.county_code == county_code,
        )
    ).all()
    if not targets:
        return 0
    alert = connection.execute(select(Alert).where(Alert.id == alert_id)).one()
    payload = alert_payload(alert, event)
    connection.execute(
        insert(Notification),
        [
            {"alert_id": alert_id, "target_id": target.id, "event": event, "payload": payload,
             "state": "pending", "attempts": 0, "next_attempt_at": now, "last_error": "",
             "created_at": now}
            for target in targets
        ],
    )  # fmt: skip
    return len(targets)


def alert_payload(alert: Any, event: str) -> dict[str, Any]:
    return {
        "event": event,
        "alert": {
            "id": alert.id,
            "mn": alert.mn,
            "enterprise_id": alert.enterprise_id,
            "county": alert.county_code,
            "pollutant": alert.pollutant or None,
            "rule": alert.rule,
            "level": alert.level,
            "state": alert.state,
            "explanation": alert.explanation,
            "escalation": alert.escalation,
        },
    }


def link_findings(connection: Connection, alert_id: int, finding_ids: Iterable[int]) -> None:
    connection.execute(
        insert(AlertFinding), [{"alert_id": alert_id, "finding_id": f} for f in finding_ids]
    )


def _check_merge(connection: Connection, alert: Any, into: int) -> None:
    """A merge only into an open alert of the same enterprise, never into a
    milder one: so alerts cannot retire each other (A into B, B into A)
    without review. Merged alerts are reopened by the city bureau."""
    target = connection.execute(select(Alert).where(Alert.id == into)).one()
    if target.state not in OPEN_STATES:
        raise AlertError("merge_target_not_open", f"alert {into} is {target.state}, not open",
                         f"预警{into}已{'合并' if target.state == 'merged' else '关闭'}，"
                         "只能合并到未关闭的预警")  # fmt: skip
    if target.enterprise_id != alert.enterprise_id:
        raise AlertError("merge_other_enterprise", f"alert {into} is another enterprise's",
                         f"预警{into}属于其他企业，不能合并")  # fmt: skip
    if LEVELS.index(alert.level) > LEVELS.index(target.level):
        raise AlertError("merge_into_milder", f"a {alert.level} alert is not merged into a "
                         f"{target.level} one", "不能将较严重的预警合并到较轻的预警")  # fmt: skip
