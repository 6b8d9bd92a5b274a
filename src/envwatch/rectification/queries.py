"""Reading problems as a user may see them (the one scope rule): a filtered
list, one problem with its history, evidence, links and the actions the user
may take; evidence downloads; progress by county; the public notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from envwatch.alerts.scope import Viewer
from envwatch.alerts.scope import scope as alert_scope
from envwatch.alerts.workflow import Workflow
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.rectification import evidence
from envwatch.rectification.desk import problem_scope
from envwatch.rectification.dossier import dossier, dossier_pdf
from envwatch.rectification.policy import CLOSED, RECTIFYING
from envwatch.rectification.problems import problem_view, progress_by, times_of
from envwatch.store.schema import (
    Alert,
    AlertEvent,
    County,
    EvidenceFile,
    ProblemEvidence,
    RectificationEvent,
    RectificationLink,
    RectificationProblem,
)
from envwatch.times import utc_as_cst_text

PUBLIC_STATES = ("notice", CLOSED)
"""What the public notice lists: problems in notice, and closed ones."""


@dataclass(frozen=True, slots=True)
class ProblemFilter:
    state: str | None = None
    county: str | None = None
    source: str | None = None
    category: str | None = None
    overdue: bool = False


def _conditions(viewer: Viewer, filters: ProblemFilter, now: datetime) -> list[Any]:
    conditions: list[Any] = [problem_scope(viewer)]
    for column, value in ((RectificationProblem.state, filters.state),
                          (RectificationProblem.county_code, filters.county),
                          (RectificationProblem.source, filters.source),
                          (RectificationProblem.category, filters.category)):  # fmt: skip
        if value is not None:
            conditions.append(column == value)
    if filters.overdue:
        conditions.append(_overdue(now))
    return conditions


def _overdue(now: datetime) -> ColumnElement[bool]:
    """``policy.overdue`` in SQL: still owed, and the deadline day (a naive China
    Standard Time midnight) before today's date in China Standard Time."""
    today = now.astimezone(CHINA_STANDARD_TIME).date()
    return and_(
        RectificationProblem.state.in_(sorted(RECTIFYING)),
        RectificationProblem.deadline < datetime.combine(today, datetime.min.time()),
    )


def visible_problems(
    connection: Connection,
    viewer: Viewer,
    filters: ProblemFilter,
    now: datetime,
    *,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """The problems ``viewer`` may see through ``filters``, oldest first, and how many in all."""
    conditions = _conditions(viewer, filters, now)
    total = connection.execute(
        select(func.count()).select_from(RectificationProblem).where(*conditions)
    ).scalar_one()
    rows = connection.execute(
        select(RectificationProblem, County.name_zh.label("county_name"))
        .join(County, County.code == RectificationProblem.county_code)
        .where(*conditions)
        .order_by(RectificationProblem.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [problem_view(row, now) | {"county_name": row.county_name} for row in rows], int(total)


def visible_problem(
    connection: Connection, viewer: Viewer, problem_id: int, workflow: Workflow, now: datetime
) -> dict[str, Any] | None:
    """One problem with its history, evidence, links and the actions ``viewer``
    may take (None: unknown or out of scope, alike)."""
    row = connection.execute(
        select(RectificationProblem, County.name_zh.label("county_name"))
        .join(County, County.code == RectificationProblem.county_code)
        .where(RectificationProblem.id == problem_id, problem_scope(viewer))
    ).first()
    if row is None:
        return None
    events = connection.execute(
        select(RectificationEvent)
        .where(RectificationEvent.problem_id == problem_id)
        .order_by(RectificationEvent.id)
    ).all()
    files = connection.execute(
        select(ProblemEvidence.name, ProblemEvidence.sha256, ProblemEvidence.event_id,
               EvidenceFile.size, EvidenceFile.media_type)
        .join(EvidenceFile, EvidenceFile.sha256 == ProblemEvidence.sha256)
        .where(ProblemEvidence.problem_id == problem_id)
        .order_by(ProblemEvidence.id)
    ).all()  # fmt: skip
    links = connection.execute(
        select(RectificationLink.kind, RectificationLink.ref_id)
        .where(RectificationLink.problem_id == problem_id)
        .order_by(RectificationLink.kind, RectificationLink.ref_id)
    ).all()
    similar = [ref for kind, ref in links if kind == "problem"]
    # A linked problem the viewer may not see is not named.
    seen = set(
        connection.execute(
            select(RectificationProblem.id).where(
                RectificationProblem.id.in_(similar or [0]), problem_scope(viewer)
            )
        ).scalars()
    )
    return problem_view(row, now) | {
        "county_name": row.county_name,
        "events": [
            {"id": e.id, "at": utc_as_cst_text(e.at), "actor": e.actor, "role": e.role,
             "action": e.action, "from": e.from_state, "to": e.to_state, "note": e.note}
            for e in events
        ],
        "evidence": [
            {"name": f.name, "sha256": f.sha256, "event_id": f.event_id, "size": f.size,
             "media_type": f.media_type,
             "href": f"/api/v1/problems/{problem_id}/files/{f.sha256}"}
            for f in files
        ],
        "links": {
            kind: [ref for k, ref in links if k == kind and (kind != "problem" or ref in seen)]
            for kind in ("enterprise", "alert", "case", "problem")
        },
        "allowed_actions": workflow.allowed(row.state, viewer.role),
    }  # fmt: skip


def evidence_file(
    connection: Connection, viewer: Viewer, problem_id: int, digest: str
) -> tuple[str, evidence.StoredFile] | None:
    """A file of the problem (its listed name and content, hash verified),
    only within ``viewer``'s scope (None: unknown, not the problem's, or out of scope)."""
    name = connection.execute(
        select(ProblemEvidence.name)
        .join(RectificationProblem, RectificationProblem.id == ProblemEvidence.problem_id)
        .where(ProblemEvidence.problem_id == problem_id, ProblemEvidence.sha256 == digest,
               problem_scope(viewer))
        .order_by(ProblemEvidence.id)
        .limit(1)
    ).scalar()  # fmt: skip
    if name is None:
        return None
    stored = evidence.get(connection, digest)
    return None if stored is None else (name, stored)


def progress(
    connection: Connection, viewer: Viewer, now: datetime, keys: tuple[str, ...] = ("county",)
) -> list[dict[str, Any]]:
    """Progress by ``keys`` (county, source, category) over the problems ``viewer`` may see."""
    rows = connection.execute(select(RectificationProblem).where(problem_scope(viewer))).all()
    return progress_by((times_of(row) for row in rows), now, keys)


def public_notice(connection: Connection, limit: int = 500) -> list[dict[str, Any]]:
    """Problems in notice and closed ones, as the public may read them: the
    inspection item, county, category, what was done and when; no person's
    name, no enterprise user, no notes of the history."""
    rows = connection.execute(
        select(RectificationProblem, County.name_zh.label("county_name"))
        .join(County, County.code == RectificationProblem.county_code)
        .where(or_(*(RectificationProblem.state == state for state in PUBLIC_STATES)))
        .order_by(RectificationProblem.state.desc(), RectificationProblem.id)
        .limit(limit)
    ).all()
    return [
        {"id": r.id, "source": r.source, "batch": r.batch, "item_no": r.item_no,
         "title": r.title, "category": r.category, "county": r.county_name,
         "lead_unit": r.lead_unit, "measures": r.measures, "summary": r.summary,
         "state": r.state, "deadline": r.deadline.date().isoformat(),
         "notice_until": (utc_as_cst_text(r.notice_until) or "")[:10],
         "closed_at": (utc_as_cst_text(r.closed_at) or "")[:10]}
        for r in rows
    ]  # fmt: skip


def problem_dossier(
    connection: Connection, viewer: Viewer, problem_id: int, workflow: Workflow, now: datetime
) -> bytes | None:
    """The problem's dossier (一案一档, a ZIP: ``dossier.py``) within ``viewer``'s
    scope (None: unknown or out of scope); every file's hash verified on reading."""
    problem = visible_problem(connection, viewer, problem_id, workflow, now)
    if problem is None:
        return None
    files = {}
    for item in problem["evidence"]:
        stored = evidence.get(connection, item["sha256"])
        if stored is None:  # a file row cannot go missing (a foreign key holds it)
            raise evidence.EvidenceError("evidence_missing", f"no stored {item['sha256']}",
                                         f"缺少存储的文件{item['sha256']}")  # fmt: skip
        files[item["sha256"]] = stored.content
    names = case_words(workflow)
    return dossier(problem, files, names, dossier_pdf(problem, names, now))


def case_words(workflow: Workflow) -> dict[str, str]:
    """The words a case file uses for the workflow's states and actions."""
    return {**workflow.states, **workflow.actions, "escalate": "督办"}


def problem_dossier_pdf(
    connection: Connection, viewer: Viewer, problem_id: int, workflow: Workflow, now: datetime
) -> bytes | None:
    """The problem's case file as a PDF alone (None: unknown or out of scope)."""
    problem = visible_problem(connection, viewer, problem_id, workflow, now)
    if problem is None:
        return None
    return dossier_pdf(problem, case_words(workflow), now)


def alert_evidence_file(
    connection: Connection, viewer: Viewer, alert_id: int, digest: str
) -> tuple[str, evidence.StoredFile] | None:
    """A file an action on the alert was backed with (an enterprise's
    explanation), only within ``viewer``'s scope of alerts; hash verified."""
    visible = connection.execute(
        select(Alert.id).where(Alert.id == alert_id, alert_scope(viewer))
    ).first()
    if visible is None:
        return None
    marker = f" sha256:{digest}"
    for attachments in connection.execute(
        select(AlertEvent.attachments).where(AlertEvent.alert_id == alert_id)
    ).scalars():
        for attachment in attachments or []:
            if isinstance(attachment, str) and attachment.endswith(marker):
                stored = evidence.get(connection, digest)
                return None if stored is None else (attachment[: -len(marker)], stored)
    return None


def attachment_link(alert_id: int, attachment: str) -> dict[str, str | None]:
    """An alert event's attachment (``<name> sha256:<hex>``) as the page shows
    it: its name, and where to download it when its hash names a stored file."""
    name, marker, digest = attachment.rpartition(" sha256:")
    if not marker or len(digest) != SHA256_HEX or not all(c in "0123456789abcdef" for c in digest):
        return {"text": attachment, "name": attachment, "sha256": None, "href": None}
    return {"text": attachment, "name": name, "sha256": digest,
            "href": f"/api/v1/alerts/{alert_id}/files/{digest}"}  # fmt: skip


SHA256_HEX = 64
