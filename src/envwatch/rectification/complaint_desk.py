"""Complaints at the store's edge: import of hotline exports (all or nothing,
through the registry's import machinery), the complaints a supervisor may
see (scope: county; enterprises and contractors see none, a complaint names
its complainant), the enterprises nearest to one, hotspots, the reply to the
complainant, and turning a complaint into a rectification problem. Every
change is audited."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, false, func, insert, select, update

from envwatch.alerts.scope import SUPERVISOR_ROLES, Viewer, scope_by, viewer_of
from envwatch.audit.log import SYSTEM, Actor, record
from envwatch.auth.sessions import active_user
from envwatch.rectification.complaints import (
    ComplaintRow,
    Located,
    Place,
    hotspots,
    nearest,
)
from envwatch.rectification.desk import ProblemError, RectificationDesk, queue
from envwatch.registry.importing import RowError, read_table, validate_rows
from envwatch.store.schema import (
    Complaint,
    County,
    Enterprise,
    RectificationProblem,
)
from envwatch.times import as_data_time, cst_text, utc_as_cst_text

ACTING_ROLES = frozenset({"city_admin", "city_supervisor", "county_officer", "enforcement_officer"})
"""Who replies to complaints and turns them into problems (not the read-only viewer)."""


def complaint_scope(user: Viewer) -> ColumnElement[bool]:
    """Supervisors by the one scope rule on the county; nobody else (a complaint
    carries the complainant's contact)."""
    if user.role not in SUPERVISOR_ROLES:
        return false()
    # Only city roles and county officers get here: the rule's county branch
    # decides (a complaint is no enterprise's: no enterprise column to give).
    return scope_by(user, Complaint.county_code, Complaint.county_code)


def _column(name: str) -> str:
    return str(ComplaintRow.model_fields[name].alias)


def import_complaints(
    desk: RectificationDesk, name: str, content: bytes, actor: Actor = SYSTEM,
    *, now: datetime | None = None,
) -> tuple[list[int], list[RowError]]:  # fmt: skip
    """Import a hotline export, every row or none; the new ids or every problem."""
    return take_complaints(desk, read_table(name, content), actor, source=name, now=now)


def take_complaints(
    desk: RectificationDesk, rows: list[dict[str, Any]], actor: Actor = SYSTEM, *,
    source: str, counties_allowed: set[str] | None = None, now: datetime | None = None,
) -> tuple[list[int], list[RowError]]:  # fmt: skip
    """Record complaints (a file's rows, or one taken by form or API), every
    one or none; the new ids or every problem. ``counties_allowed``: the
    counties the recording officer covers (None: any)."""
    now = now or datetime.now(UTC)
    policy = desk.policy
    parsed, errors = validate_rows(ComplaintRow, rows, first_row=2)
    if errors:
        return [], errors
    with desk.engine.begin() as connection:
        counties = {code: code for code in connection.execute(select(County.code)).scalars()}
        counties |= dict(connection.execute(select(County.name_zh, County.code)).all())
        known = {tuple(r) for r in connection.execute(select(Complaint.channel,
                                                             Complaint.reference))}  # fmt: skip
        seen: set[tuple[str, str]] = set()
        for number, row in enumerate(parsed, start=2):
            if row.channel not in policy.complaints.channels:
                errors.append(RowError(number, _column("channel"), f"unknown channel "
                                       f"{row.channel!r}; known: "
                                       f"{', '.join(policy.complaints.channels)}"))  # fmt: skip
            if policy.category_code(row.category) is None:
                errors.append(RowError(number, _column("category"),
                                       f"unknown category {row.category!r}"))  # fmt: skip
            county = counties.get(row.county)
            if county is None or (counties_allowed is not None and county not in counties_allowed):
                errors.append(RowError(number, _column("county"),
                                       f"unknown county {row.county!r}"))  # fmt: skip
            key = (row.channel, row.reference)
            if key in known:
                errors.append(RowError(number, _column("reference"), "already imported"))
            elif key in seen:
                errors.append(RowError(number, "", "repeats an earlier row of this file"))
            seen.add(key)
        if errors:
            return [], errors
        ids = []
        for row in parsed:
            values = {
                "channel": row.channel, "reference": row.reference,
                "received_at": as_data_time(row.received_at),
                "category": policy.category_code(row.category), "content": row.content,
                "address": row.address, "longitude": row.longitude, "latitude": row.latitude,
                "county_code": counties[row.county], "complainant": row.complainant,
                "state": "open", "reply": "",
            }  # fmt: skip
            complaint_id = int(
                connection.execute(insert(Complaint).values(**values).returning(Complaint.id))
                .scalar_one()
            )  # fmt: skip
            # The complainant's contact stays out of the audit log's copy.
            record(connection, actor, "complaint.take", "complaint", complaint_id,
                   after={**values, "complainant": "…" if row.complainant else "",
                          "source": source}, at=now)  # fmt: skip
            ids.append(complaint_id)
    return ids, []


def complaint_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "channel": row.channel, "reference": row.reference,
        "received_at": cst_text(row.received_at), "category": row.category,
        "content": row.content, "address": row.address, "longitude": row.longitude,
        "latitude": row.latitude, "county": row.county_code, "complainant": row.complainant,
        "state": row.state, "reply": row.reply, "replied_at": utc_as_cst_text(row.replied_at),
        "problem_id": row.problem_id,
    }  # fmt: skip


def visible_complaints(
    connection: Connection, viewer: Viewer, *, county: str | None = None, limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    conditions: list[Any] = [complaint_scope(viewer)]
    if county is not None:
        conditions.append(Complaint.county_code == county)
    rows = connection.execute(
        select(Complaint).where(*conditions).order_by(Complaint.received_at.desc(),
                                                      Complaint.id.desc())
        .limit(limit).offset(offset)
    ).all()  # fmt: skip
    total = connection.execute(
        select(func.count()).select_from(Complaint).where(*conditions)
    ).scalar_one()
    return [complaint_view(row) for row in rows], int(total)


def visible_complaint(
    connection: Connection, viewer: Viewer, complaint_id: int, desk: RectificationDesk
) -> dict[str, Any] | None:
    """One complaint with the enterprises nearest to its place (None: unknown or out of scope)."""
    row = connection.execute(
        select(Complaint).where(Complaint.id == complaint_id, complaint_scope(viewer))
    ).first()
    if row is None:
        return None
    near: list[dict[str, Any]] = []
    if row.longitude is not None and row.latitude is not None:
        places = [
            Place(e.id, e.name, e.longitude, e.latitude)
            for e in connection.execute(
                select(
                    Enterprise.id, Enterprise.name, Enterprise.longitude, Enterprise.latitude
                ).where(Enterprise.longitude.is_not(None), Enterprise.latitude.is_not(None))
            )
        ]
        near = [{"enterprise_id": place.id, "name": place.name, "distance_m": round(d, 1)}
                for place, d in nearest(row.longitude, row.latitude, places,
                                        desk.policy.complaints)]  # fmt: skip
    return complaint_view(row) | {"nearest": near}


def visible_hotspots(
    connection: Connection, viewer: Viewer, desk: RectificationDesk
) -> list[dict[str, Any]]:
    """The hotspots among the complaints ``viewer`` may see that have coordinates."""
    rows = connection.execute(
        select(Complaint.id, Complaint.received_at, Complaint.longitude, Complaint.latitude,
               Complaint.category)
        .where(complaint_scope(viewer), Complaint.longitude.is_not(None),
               Complaint.latitude.is_not(None))
    ).all()  # fmt: skip
    located = [Located(r.id, r.received_at, r.longitude, r.latitude, r.category) for r in rows]
    return [
        {"complaints": list(h.complaint_ids), "count": len(h.complaint_ids),
         "longitude": round(h.longitude, 6), "latitude": round(h.latitude, 6),
         "first": cst_text(h.first), "last": cst_text(h.last), "categories": list(h.categories)}
        for h in hotspots(located, desk.policy.complaints)
    ]  # fmt: skip


def _acting(connection: Connection, username: str, complaint_id: int) -> tuple[Any, Any]:
    """The user (who may act) and the complaint (in their scope), or ProblemError."""
    user = active_user(connection, username)
    complaint = None
    if user is not None:
        complaint = connection.execute(
            select(Complaint).where(Complaint.id == complaint_id,
                                    complaint_scope(viewer_of(user)))
        ).first()  # fmt: skip
    if user is None or complaint is None:
        raise ProblemError("unknown_complaint", f"no complaint {complaint_id}",
                           f"没有编号为{complaint_id}的投诉")  # fmt: skip
    if user.role not in ACTING_ROLES:
        raise ProblemError("role_not_allowed", f"the role {user.role!r} does not act on "
                           "complaints", "该角色不能办理投诉")  # fmt: skip
    return user, complaint


def reply(
    desk: RectificationDesk, complaint_id: int, username: str, text: str, *, peer: str,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """Record the reply to the complainant (答复)."""
    now = now or datetime.now(UTC)
    if not text.strip():
        raise ProblemError("reply_required", "the reply is empty", "答复内容不能为空")
    with desk.engine.begin() as connection:
        user, complaint = _acting(connection, username, complaint_id)
        changes = {"state": "replied", "reply": text.strip(), "replied_at": now}
        connection.execute(update(Complaint).where(Complaint.id == complaint_id).values(**changes))
        record(connection, Actor(user.username, user.role, peer), "complaint.reply", "complaint",
               complaint_id, before={"state": complaint.state, "reply": complaint.reply},
               after=changes, at=now)  # fmt: skip


def to_problem(
    desk: RectificationDesk, complaint_id: int, username: str, *, lead_unit: str,
    deadline: date, measures: str = "", peer: str, now: datetime | None = None,
) -> int:  # fmt: skip
    """Turn the complaint into a rectification problem (source: complaint),
    assigned at once to its county; the problem's id."""
    now = now or datetime.now(UTC)
    if not 2 <= len(lead_unit.strip()) <= 200:
        raise ProblemError("lead_unit_required", "a lead unit (2 to 200 characters) is needed",
                           "须指定牵头责任单位")  # fmt: skip
    with desk.engine.begin() as connection:
        user, complaint = _acting(connection, username, complaint_id)
        if complaint.problem_id is not None:
            raise ProblemError("already_a_problem", f"complaint {complaint_id} is problem "
                               f"{complaint.problem_id} already",
                               f"该投诉已转为整改事项{complaint.problem_id}")  # fmt: skip
        actor = Actor(user.username, user.role, peer)
        values = {
            "source": "complaint", "batch": f"{complaint.channel}投诉",
            "item_no": complaint.reference, "title": complaint.content[:100],
            "description": complaint.content, "category": complaint.category,
            "county_code": complaint.county_code, "enterprise_id": None,
            "lead_unit": lead_unit.strip(), "cooperating_units": "", "measures": measures,
            "deadline": datetime.combine(deadline, datetime.min.time()), "state": "new",
            "escalation": 0, "created_at": now, "reopened": 0, "summary": "",
        }  # fmt: skip
        known = connection.execute(
            select(RectificationProblem.id).where(
                RectificationProblem.source == "complaint",
                RectificationProblem.batch == values["batch"],
                RectificationProblem.item_no == values["item_no"],
            )
        ).first()
        if known is not None:
            raise ProblemError("already_a_problem", f"problem {known.id} is this complaint",
                               f"该投诉已转为整改事项{known.id}")  # fmt: skip
        problem_id = int(
            connection.execute(
                insert(RectificationProblem).values(**values).returning(RectificationProblem.id)
            ).scalar_one()
        )
        connection.execute(
            update(Complaint).where(Complaint.id == complaint_id).values(problem_id=problem_id)
        )
        record(connection, actor, "complaint.to_problem", "complaint", complaint_id,
               after={"problem_id": problem_id}, at=now)  # fmt: skip
        record(connection, actor, "problem.from_complaint", "rectification_problem", problem_id,
               after=values, at=now)  # fmt: skip
        desk.change(connection, problem_id, "assign", SYSTEM, now=now,
                    note=f"由投诉{complaint.reference}转办")  # fmt: skip
        queue(connection, problem_id, complaint.county_code, desk.policy.escalation.chain[0],
              event="assigned", now=now)  # fmt: skip
    return problem_id
