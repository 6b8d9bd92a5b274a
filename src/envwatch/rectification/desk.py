"""The rectification desk (the store's edge of rectification): takes people's
actions on problems through the workflow table, within their scope, with the
files that back them; keeps the notice period before closing; sweeps missed
deadlines up the escalation chain; queues notifications in the alert loop's
outbox. Every change is a problem event and an audit entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, insert, select, update

from envwatch.alerts.scope import Viewer, scope_by, viewer_of
from envwatch.alerts.workflow import Workflow, load_workflow
from envwatch.audit.log import SYSTEM, Actor, record
from envwatch.auth.sessions import active_user
from envwatch.errors import PeerError
from envwatch.rectification import evidence
from envwatch.rectification.policy import (
    DEFAULT_POLICY_FILE,
    RECTIFYING,
    RectificationPolicy,
    load_policy,
)
from envwatch.settings import get_settings
from envwatch.store.schema import (
    Notification,
    NotificationTarget,
    ProblemEvidence,
    RectificationEvent,
    RectificationLink,
    RectificationProblem,
)
from envwatch.times import as_utc

DEFAULT_WORKFLOW_FILE = DEFAULT_POLICY_FILE.with_name("workflow.toml")


StoredName = tuple[str, str]
"""A file kept before its action: the name it was uploaded with, its SHA-256."""


class ProblemError(PeerError):
    """A problem action refused: unknown problem or user, out of scope, or too early."""


def load_rectification_workflow(path: Path | None = None) -> Workflow:
    return load_workflow(path or DEFAULT_WORKFLOW_FILE)


def configured_desk(engine: Engine) -> RectificationDesk:
    """The desk with the policy and workflow the settings name (default: envwatch's)."""
    settings = get_settings()
    workflow = load_rectification_workflow(settings.rectification_workflow_file)
    return RectificationDesk(engine, load_policy(settings.rectification_policy_file), workflow)


def problem_scope(user: Viewer) -> ColumnElement[bool]:
    """The problems ``user`` may see: the one scope rule on the problem's county
    and enterprise (the responsible unit, when it is an enterprise)."""
    return scope_by(user, RectificationProblem.county_code, RectificationProblem.enterprise_id)


@dataclass
class RectificationDesk:
    engine: Engine
    policy: RectificationPolicy = field(default_factory=load_policy)
    workflow: Workflow = field(default_factory=load_rectification_workflow)

    def act(
        self,
        problem_id: int,
        action: str,
        username: str,
        *,
        peer: str,
        note: str = "",
        target: int | None = None,
        files: Sequence[evidence.Upload] = (),
        stored: Sequence[StoredName] = (),
        now: datetime | None = None,
    ) -> str:
        """``username`` takes ``action`` on the problem; the new state. The
        action's evidence: ``files`` uploaded with it, and files ``stored``
        before (``upload``), by name and SHA-256."""
        now = now or datetime.now(UTC)
        if len(files) + len(stored) > self.policy.evidence.max_files_per_action:
            most = self.policy.evidence.max_files_per_action
            raise ProblemError("too_many_files", f"at most {most} files",
                               f"每次最多{most}个文件")  # fmt: skip
        # Files are checked before anything is written: a bad one refuses the action.
        checked = [(upload, evidence.check_file(upload, self.policy.evidence)) for upload in files]
        with self.engine.begin() as connection:
            user = active_user(connection, username)
            if user is None:
                raise ProblemError("unknown_user", f"no active user {username!r}",
                                   f"没有有效用户“{username}”")  # fmt: skip
            viewer = viewer_of(user)
            if not sees_problem(connection, viewer, problem_id):
                # Out of scope reads as unknown: a user learns nothing of others' problems.
                raise ProblemError("unknown_problem", f"no problem {problem_id}",
                                   f"没有编号为{problem_id}的整改事项")  # fmt: skip
            if target is not None and (
                target == problem_id or not sees_problem(connection, viewer, target)
            ):
                raise ProblemError("unknown_problem", f"no problem {target} to link",
                                   f"没有可关联的整改事项{target}")  # fmt: skip
            for name, digest in stored:
                evidence.usable_name(name)
                if evidence.stored_type(connection, digest) is None:
                    raise ProblemError("unknown_file", f"no stored file {digest} ({name})",
                                       f"没有已上传的文件“{name}”")  # fmt: skip
            actor = Actor(user.username, user.role, peer)
            return self.change(connection, problem_id, action, actor, now=now, note=note,
                               target=target, files=checked, stored=stored)  # fmt: skip

    def upload(
        self, problem_id: int, username: str, upload: evidence.Upload, now: datetime | None = None
    ) -> tuple[str, str]:
        """Keep a file for a later action on the problem (its SHA-256 and media
        type): only for a user who sees the problem and whose role takes an
        action that needs evidence."""
        media_type = evidence.check_file(upload, self.policy.evidence)
        with self.engine.begin() as connection:
            user = active_user(connection, username)
            if user is None or not sees_problem(connection, viewer_of(user), problem_id):
                raise ProblemError("unknown_problem", f"no problem {problem_id}",
                                   f"没有编号为{problem_id}的整改事项")  # fmt: skip
            if user.role not in self.uploaders():
                raise ProblemError("role_not_allowed", f"the role {user.role!r} adds no evidence",
                                   "该角色不能上传佐证材料")  # fmt: skip
            return evidence.put(connection, upload.content, media_type, now), media_type

    def assigners(self) -> frozenset[str]:
        """The people's roles that assign problems (the workflow's ``assign``):
        who creates and imports them."""
        return frozenset(
            role for t in self.workflow.transitions if t.action == "assign" for role in t.roles
        ) - {"system"}

    def uploaders(self) -> frozenset[str]:
        """The roles that take an action needing evidence (from the workflow table)."""
        return frozenset(
            role for t in self.workflow.transitions if t.needs_evidence for role in t.roles
        )

    def change(
        self,
        connection: Connection,
        problem_id: int,
        action: str,
        actor: Actor,
        *,
        now: datetime,
        note: str = "",
        target: int | None = None,
        files: Sequence[tuple[evidence.Upload, str]] = (),
        stored: Sequence[StoredName] = (),
    ) -> str:
        """Take ``action`` in the caller's transaction (no scope check: the caller's)."""
        problem = connection.execute(
            select(RectificationProblem).where(RectificationProblem.id == problem_id)
        ).one()
        state = self.workflow.apply(problem.state, action, actor.role, target=target,
                                    evidence=len(files) + len(stored))  # fmt: skip
        changes: dict[str, Any] = {"state": state}
        if action == "close":
            until = as_utc(problem.notice_until)
            if until is not None and now < until:
                raise ProblemError(
                    "notice_not_over",
                    f"the public notice runs until {until.isoformat()}: closing waits for it",
                    f"公示期至{until.isoformat()}，公示期满后方可销号",
                )
            changes["closed_at"] = now
        if action == "apply":
            changes["applied_at"] = now
        if action == "publish":
            changes["notice_until"] = self.policy.notice_until(now)
            if note:
                changes["summary"] = note
        if action == "rebound":
            # Rectified again, against a new deadline (the old one has long passed).
            deadline = datetime.combine(self.policy.rebound_deadline(now), datetime.min.time())
            changes |= {"reopened": problem.reopened + 1, "closed_at": None,
                        "notice_until": None, "escalation": 0, "deadline": deadline}  # fmt: skip
        if action == "reject":
            changes["notice_until"] = None
        before = {key: getattr(problem, key) for key in changes}
        connection.execute(
            update(RectificationProblem)
            .where(RectificationProblem.id == problem_id)
            .values(**changes)
        )
        event_id = int(
            connection.execute(
                insert(RectificationEvent)
                .values(problem_id=problem_id, at=now, actor=actor.name, role=actor.role,
                        action=action, from_state=problem.state, to_state=state, note=note)
                .returning(RectificationEvent.id)
            ).scalar_one()
        )  # fmt: skip
        kept = [
            (upload.name, evidence.put(connection, upload.content, media_type, now))
            for upload, media_type in files
        ]
        listed = []
        for name, digest in [*kept, *stored]:
            shown = evidence.clean_name(name)
            connection.execute(
                insert(ProblemEvidence).values(problem_id=problem_id, event_id=event_id,
                                               sha256=digest, name=shown)
            )  # fmt: skip
            listed.append(f"{shown} sha256:{digest}")
        if action == "link" and target is not None:
            for one, other in ((problem_id, target), (target, problem_id)):
                link(connection, one, "problem", other)
        after = {**changes, "note": note, "evidence": listed}
        if target is not None:
            after["target"] = target
        record(connection, actor, f"problem.{action}", "rectification_problem", problem_id,
               before=before, after=after, at=now)  # fmt: skip
        return state

    def sweep(self, now: datetime | None = None) -> int:
        """Escalate every problem whose rectification deadline passed (督办); how many."""
        now = now or datetime.now(UTC)
        escalated = 0
        with self.engine.begin() as connection:
            problems = connection.execute(
                select(RectificationProblem)
                .where(RectificationProblem.state.in_(sorted(RECTIFYING)))
                .order_by(RectificationProblem.id)
            ).all()
            for problem in problems:
                due = self.policy.escalation_due(problem.state, problem.deadline.date(),
                                                 problem.escalation, now)  # fmt: skip
                if due is None:
                    continue
                connection.execute(
                    update(RectificationProblem)
                    .where(RectificationProblem.id == problem.id)
                    .values(escalation=due.step)
                )
                note = f"逾期未完成整改，督办至{due.to_zh}"
                connection.execute(
                    insert(RectificationEvent).values(
                        problem_id=problem.id, at=now, actor=SYSTEM.name, role=SYSTEM.role,
                        action="escalate", from_state=problem.state, to_state=problem.state,
                        note=note,
                    )
                )  # fmt: skip
                record(connection, SYSTEM, "problem.escalate", "rectification_problem",
                       problem.id, before={"escalation": problem.escalation},
                       after={"escalation": due.step, "to": due.to}, at=now)  # fmt: skip
                top = due.step == len(self.policy.escalation.chain) - 1
                queue(connection, problem.id, None if top else problem.county_code, due.to,
                      event="escalated", now=now)  # fmt: skip
                escalated += 1
        return escalated


def sees_problem(connection: Connection, user: Viewer, problem_id: int) -> bool:
    """Whether the problem exists and is ``user``'s to see."""
    visible = select(RectificationProblem.id).where(
        RectificationProblem.id == problem_id, problem_scope(user)
    )
    return connection.execute(visible).first() is not None


def link(connection: Connection, problem_id: int, kind: str, ref_id: int) -> None:
    """Link the problem to an enterprise, alert, case or problem (once)."""
    known = connection.execute(
        select(RectificationLink.problem_id).where(
            RectificationLink.problem_id == problem_id,
            RectificationLink.kind == kind,
            RectificationLink.ref_id == ref_id,
        )
    ).first()
    if known is None:
        connection.execute(
            insert(RectificationLink).values(problem_id=problem_id, kind=kind, ref_id=ref_id)
        )


def queue(
    connection: Connection,
    problem_id: int,
    county_code: str | None,
    role: str,
    *,
    event: str,
    now: datetime,
) -> int:
    """Queue a notification of the problem in the alert loop's outbox, to every
    active target of ``role`` for the county (None: the city's); how many."""
    targets = connection.execute(
        select(NotificationTarget).where(
            NotificationTarget.active.is_(True),
            NotificationTarget.role == role,
            NotificationTarget.county_code.is_(None)
            if county_code is None
            else NotificationTarget.county_code == county_code,
        )
    ).all()
    if not targets:
        return 0
    problem = connection.execute(
        select(RectificationProblem).where(RectificationProblem.id == problem_id)
    ).one()
    payload = problem_payload(problem, event)
    connection.execute(
        insert(Notification),
        [
            {"alert_id": None, "problem_id": problem_id, "target_id": target.id, "event": event,
             "payload": payload, "state": "pending", "attempts": 0, "next_attempt_at": now,
             "last_error": "", "created_at": now}
            for target in targets
        ],
    )  # fmt: skip
    return len(targets)


def problem_payload(problem: Any, event: str) -> dict[str, Any]:
    return {
        "event": event,
        "problem": {
            "id": problem.id,
            "source": problem.source,
            "batch": problem.batch,
            "item_no": problem.item_no,
            "county": problem.county_code,
            "title": problem.title,
            "state": problem.state,
            "deadline": problem.deadline.date().isoformat(),
            "lead_unit": problem.lead_unit,
            "escalation": problem.escalation,
        },
    }
