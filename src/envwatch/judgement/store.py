"""The judgement's store edge: weekly snapshots (read the inputs, score
them with the core, keep inputs, parameters and result together, never
rewrite one), the listing desk (挂牌督办 through ``workflow.toml``, the
outbox, the audit log), interviews and eco-compensation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from envwatch.alerts.scope import CITY_ROLES, Viewer, viewer_of
from envwatch.alerts.workflow import Workflow, load_workflow
from envwatch.audit.log import SYSTEM, Actor, record
from envwatch.auth.sessions import active_user
from envwatch.errors import PeerError
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.judgement.core import (
    Parameters,
    eco_compensation,
    lifting_met,
    listing_reasons,
    load_parameters,
    score_week,
)
from envwatch.judgement.indicators import cst_bounds, quarter_means, week_inputs
from envwatch.judgement.weeks import (
    parse_quarter,
    parse_week,
    previous_week,
    week_days,
)
from envwatch.quality.queries import year_earlier
from envwatch.store.schema import (
    AccountabilityInterview,
    County,
    CountyListing,
    EcoCompensation,
    JudgementSnapshot,
    ListingEvent,
    Notification,
    NotificationTarget,
)

DEFAULT_WORKFLOW_FILE = Path(__file__).with_name("workflow.toml")
ACTIVE = ("listed", "rectifying", "lift_requested", "escalated")
INTERVIEW_OUTCOMES = ("pending", "fulfilled", "escalated")


class JudgementError(PeerError):
    """A judgement request refused: a week not ended, an unknown listing, criteria not met."""


def load_listing_workflow(path: Path | None = None) -> Workflow:
    return load_workflow(path or DEFAULT_WORKFLOW_FILE)


# ---- snapshots ----------------------------------------------------------------


def snapshot_row(connection: Connection, week: str, version: str | None = None) -> Any:
    """The week's snapshot of ``version`` (None: the newest computed)."""
    query = select(JudgementSnapshot).where(JudgementSnapshot.week == week)
    if version is not None:
        query = query.where(JudgementSnapshot.parameters_version == version)
    return connection.execute(query.order_by(JudgementSnapshot.id.desc())).first()


def snapshot_document(row: Any) -> dict[str, Any]:
    rest = {k: v for k, v in row.result.items() if k not in ("week", "parameters_version")}
    return {"id": row.id, "week": row.week, "parameters_version": row.parameters_version,
            "computed_at": row.computed_at.isoformat(), "computed_by": row.computed_by,
            **rest}  # fmt: skip


def week_ended(week: str, now: datetime) -> bool:
    _, last = week_days(week)
    return now >= cst_bounds(last, last)[1]


def judge_week(
    engine: Engine,
    week: str,
    parameters: Parameters | None = None,
    *,
    now: datetime | None = None,
    actor: Actor = SYSTEM,
    apply_listing: bool = True,
) -> dict[str, Any]:
    """The week's snapshot under ``parameters``: the stored one, or computed
    and stored now (an ended week only). A new snapshot applies the listing rule."""
    parameters = parameters or load_parameters()
    now = now or datetime.now(UTC)
    parse_week(week)
    with engine.begin() as connection:
        known = snapshot_row(connection, week, parameters.version)
        if known is not None:
            return snapshot_document(known)
        if not week_ended(week, now):
            raise JudgementError("week_not_ended", f"the week {week} has not ended",
                                 f"{week}尚未结束，不能研判")  # fmt: skip
        inputs = week_inputs(connection, week, parameters)
        before = snapshot_row(connection, previous_week(week), parameters.version)
        inputs["previous_ranks"] = (
            {} if before is None else {r["county"]: r["rank"] for r in before.result["counties"]}
        )
        result = score_week(inputs, parameters, inputs["previous_ranks"])
        snapshot_id = int(
            connection.execute(
                insert(JudgementSnapshot)
                .values(week=week, first_day=parse_week(week),
                        parameters_version=parameters.version,
                        parameters=dict(parameters.content), inputs=inputs, result=result,
                        computed_at=now, computed_by=actor.name)
                .returning(JudgementSnapshot.id)
            ).scalar_one()
        )  # fmt: skip
        record(connection, actor, "judgement.snapshot", "judgement_snapshot", snapshot_id,
               after={"week": week, "parameters_version": parameters.version}, at=now)  # fmt: skip
        if apply_listing:
            ListingDesk(engine).apply_rule(connection, week, parameters, now=now)
        row = snapshot_row(connection, week, parameters.version)
        return snapshot_document(row)


def rescore(row: Any) -> dict[str, Any]:
    """A stored snapshot scored again from its own inputs and parameters."""
    return score_week(row.inputs, Parameters(row.parameters), row.inputs.get("previous_ranks"))


def snapshots(connection: Connection, limit: int = 60) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(JudgementSnapshot.id, JudgementSnapshot.week, JudgementSnapshot.parameters_version,
               JudgementSnapshot.computed_at)
        .order_by(JudgementSnapshot.first_day.desc(), JudgementSnapshot.id.desc()).limit(limit)
    )  # fmt: skip
    return [dict(r._mapping) for r in rows]


def week_contract(connection: Connection, week: str, snapshot: dict[str, Any]) -> dict[str, Any]:
    """The CLI contract's document of a week's snapshot."""
    return {
        "week": week,
        "parameters_version": snapshot["parameters_version"],
        "counties": [
            {"county": r["county"], "name": r["name"], "score": r["score"], "rank": r["rank"],
             "rank_change": r["rank_change"],
             "indicators": {k: {"value": v["value"], "score": v["score"]}
                            for k, v in r["indicators"].items()}}
            for r in snapshot["counties"]
        ],
        "listed": [
            {"county": item["county_code"], "reason": "；".join(x["zh"] for x in item["reasons"]),
             "deadline": item["deadline"].isoformat(), "state": item["state"],
             "since": item["week"]}
            for item in listings_at(connection, week)
        ],
    }  # fmt: skip


def listings_at(connection: Connection, week: str) -> list[dict[str, Any]]:
    """The listings in force at the end of ``week``."""
    _, end = cst_bounds(*week_days(week))
    rows = connection.execute(select(CountyListing).order_by(CountyListing.id)).all()
    out = []
    for row in rows:
        if parse_week(row.week) > parse_week(week):
            continue
        lifted = _utc(row.lifted_at)
        if lifted is not None and lifted <= end:
            continue
        out.append(_listing(row))
    return out


def _listing(row: Any) -> dict[str, Any]:
    return {key: getattr(row, key) for key in (
        "id", "county_code", "week", "snapshot_id", "reasons", "required_actions",
        "lifting_criteria", "deadline", "state", "created_at", "lifted_at")}  # fmt: skip


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# ---- 挂牌督办 ------------------------------------------------------------------


@dataclass
class ListingDesk:
    engine: Engine
    workflow: Workflow = field(default_factory=load_listing_workflow)

    def apply_rule(
        self, connection: Connection, week: str, parameters: Parameters, *, now: datetime
    ) -> list[int]:
        """List the counties the rule names after ``week`` (not already listed); their ids."""
        needed = int(parameters.listing["consecutive_weeks"])
        results: list[dict[str, Any]] = []
        cursor = week
        for _ in range(max(needed, 1)):
            row = snapshot_row(connection, cursor, parameters.version)
            if row is None:
                break
            results.insert(0, row.result)
            cursor = previous_week(cursor)
        if not results:
            return []
        snapshot = snapshot_row(connection, week, parameters.version)
        created = []
        for county, reasons in sorted(listing_reasons(results, parameters.listing).items()):
            active = connection.execute(
                select(CountyListing.id).where(CountyListing.county_code == county,
                                               CountyListing.state.in_(ACTIVE))
            ).first()  # fmt: skip
            if active is not None:
                continue
            created.append(self.create(connection, county, week=week, reasons=reasons,
                                       parameters=parameters, actor=SYSTEM,
                                       snapshot_id=snapshot.id, now=now))  # fmt: skip
        return created

    def create(
        self,
        connection: Connection,
        county: str,
        *,
        week: str,
        reasons: Sequence[dict[str, Any]],
        parameters: Parameters,
        actor: Actor,
        snapshot_id: int | None,
        now: datetime,
        note: str = "",
    ) -> int:
        """A listing of ``county`` (the workflow's ``list`` decides who may), notified."""
        state = self.workflow.apply("new", "list", actor.role)
        rule = parameters.listing
        deadline = now.astimezone(CHINA_STANDARD_TIME).date() + timedelta(
            days=int(rule["deadline_days"])
        )
        criteria = {**rule["lift"], "bottom_places": rule["bottom_places"],
                    "parameters_version": parameters.version}  # fmt: skip
        listing_id = int(
            connection.execute(
                insert(CountyListing)
                .values(county_code=county, week=week, snapshot_id=snapshot_id,
                        reasons=list(reasons), required_actions=list(rule["required_actions"]),
                        lifting_criteria=criteria, deadline=deadline, state=state,
                        created_at=now)
                .returning(CountyListing.id)
            ).scalar_one()
        )  # fmt: skip
        self._event(connection, listing_id, actor, "list", source="new", target=state,
                    note=note or "；".join(r["zh"] for r in reasons), now=now)  # fmt: skip
        record(connection, actor, "listing.list", "county_listing", listing_id,
               after={"county": county, "week": week, "reasons": list(reasons),
                      "deadline": deadline.isoformat()}, at=now)  # fmt: skip
        queue(connection, listing_id, county, str(rule.get("notify_role", "county_head")),
              event="listed", now=now)  # fmt: skip
        return listing_id

    def act(
        self,
        listing_id: int,
        action: str,
        username: str,
        *,
        peer: str,
        note: str = "",
        now: datetime | None = None,
    ) -> str:
        """``username`` takes ``action`` on the listing; the new state."""
        now = now or datetime.now(UTC)
        with self.engine.begin() as connection:
            user = active_user(connection, username)
            if user is None:
                raise JudgementError("unknown_user", f"no active user {username!r}",
                                     f"没有有效用户“{username}”")  # fmt: skip
            row = connection.execute(
                select(CountyListing).where(CountyListing.id == listing_id)
            ).first()
            if row is None or not sees_county(viewer_of(user), row.county_code):
                raise JudgementError("unknown_listing", f"no listing {listing_id}",
                                     f"没有编号为{listing_id}的挂牌督办")  # fmt: skip
            actor = Actor(user.username, user.role, peer)
            return self.change(connection, row, action, actor, note=note, now=now)

    def change(
        self, connection: Connection, row: Any, action: str, actor: Actor, *, note: str,
        now: datetime,
    ) -> str:  # fmt: skip
        state = self.workflow.apply(row.state, action, actor.role)
        changes: dict[str, Any] = {"state": state}
        if action == "lift":
            met, why = self.criteria(connection, row)
            if not met:
                raise JudgementError("criteria_not_met", f"lifting criteria not met: {why}",
                                     f"未达到摘牌条件：{why}")  # fmt: skip
            changes["lifted_at"] = now
            note = note or why
        connection.execute(
            update(CountyListing).where(CountyListing.id == row.id).values(**changes)
        )
        self._event(
            connection, row.id, actor, action, source=row.state, target=state, note=note, now=now
        )
        record(connection, actor, f"listing.{action}", "county_listing", row.id,
               before={"state": row.state}, after={**changes, "note": note}, at=now)  # fmt: skip
        if action in ("escalate", "lift"):
            queue(connection, row.id, row.county_code, "county_head", event=action, now=now)
        if action == "escalate":
            queue(connection, row.id, None, "city_bureau", event=action, now=now)
        return state

    def criteria(self, connection: Connection, row: Any) -> tuple[bool, str]:
        """Whether the listing's lifting criteria hold on the snapshots after it."""
        version = row.lifting_criteria.get("parameters_version")
        rows = connection.execute(
            select(JudgementSnapshot.result)
            .where(JudgementSnapshot.first_day > parse_week(row.week),
                   JudgementSnapshot.parameters_version == version)
            .order_by(JudgementSnapshot.first_day)
        ).scalars().all()  # fmt: skip
        return lifting_met(row.county_code, list(rows), row.lifting_criteria)

    def sweep(self, now: datetime | None = None) -> int:
        """Escalate every listing whose deadline passed unrectified; how many."""
        now = now or datetime.now(UTC)
        today = now.astimezone(CHINA_STANDARD_TIME).date()
        count = 0
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(CountyListing).where(CountyListing.state.in_(("listed", "rectifying")),
                                            CountyListing.deadline < today)
            ).all()  # fmt: skip
            for row in rows:
                self.change(connection, row, "escalate", SYSTEM,
                            note=f"整改期限{row.deadline}已过", now=now)  # fmt: skip
                count += 1
        return count

    @staticmethod
    def _event(
        connection: Connection, listing_id: int, actor: Actor, action: str, *, source: str,
        target: str, note: str, now: datetime,
    ) -> None:  # fmt: skip
        connection.execute(
            insert(ListingEvent).values(listing_id=listing_id, at=now, actor=actor.name,
                                        role=actor.role, action=action, from_state=source,
                                        to_state=target, note=note)
        )  # fmt: skip


def sees_county(user: Viewer, county: str) -> bool:
    if user.role in CITY_ROLES:
        return True
    return user.role == "county_officer" and county in user.counties


def queue(
    connection: Connection, listing_id: int, county: str | None, role: str, *, event: str,
    now: datetime,
) -> int:  # fmt: skip
    """Queue a notice of the listing in the outbox to every active target of
    ``role`` for the county (None: the city's); how many."""
    targets = connection.execute(
        select(NotificationTarget.id).where(
            NotificationTarget.active.is_(True),
            NotificationTarget.role == role,
            NotificationTarget.county_code.is_(None) if county is None
            else NotificationTarget.county_code == county,
        )
    ).scalars().all()  # fmt: skip
    if not targets:
        return 0
    row = connection.execute(select(CountyListing).where(CountyListing.id == listing_id)).one()
    name = connection.execute(select(County.name_zh).where(County.code == row.county_code)).scalar()
    payload = {"event": event, "listing": {
        "id": row.id, "county": row.county_code, "county_name": name, "week": row.week,
        "state": row.state, "deadline": row.deadline.isoformat(),
        "reasons": [r["zh"] for r in row.reasons],
        "required_actions": row.required_actions}}  # fmt: skip
    connection.execute(
        insert(Notification),
        [{"alert_id": None, "listing_id": listing_id, "target_id": target, "event": event,
          "payload": payload, "state": "pending", "attempts": 0, "next_attempt_at": now,
          "last_error": "", "created_at": now} for target in targets],
    )  # fmt: skip
    return len(targets)


def listing_history(connection: Connection, listing_id: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(ListingEvent).where(ListingEvent.listing_id == listing_id).order_by(ListingEvent.id)
    )
    return [{"at": r.at.isoformat(), "actor": r.actor, "role": r.role, "action": r.action,
             "from": r.from_state, "to": r.to_state, "note": r.note} for r in rows]  # fmt: skip


def all_listings(connection: Connection, user: Viewer) -> list[dict[str, Any]]:
    rows = connection.execute(select(CountyListing).order_by(CountyListing.id.desc())).all()
    return [_listing(r) for r in rows if sees_county(user, r.county_code)]


# ---- 约谈问责 ------------------------------------------------------------------


def record_interview(
    engine: Engine,
    actor: Actor,
    *,
    county: str,
    held_on: date,
    interviewees: str,
    problems: str,
    commitments: Sequence[dict[str, Any]],
    listing_id: int | None = None,
    snapshot_id: int | None = None,
    follow_up: str = "",
    outcome: str = "pending",
    now: datetime | None = None,
) -> int:
    """Record an accountability interview (city roles only), audited."""
    now = now or datetime.now(UTC)
    if actor.role not in ("city_admin", "city_supervisor", "system"):
        raise JudgementError("role_not_allowed", f"the role {actor.role!r} records no interview",
                             "该角色不能登记约谈")  # fmt: skip
    if outcome not in INTERVIEW_OUTCOMES:
        raise JudgementError("bad_outcome", f"outcome: one of {', '.join(INTERVIEW_OUTCOMES)}",
                             "约谈结果须为 pending、fulfilled 或 escalated")  # fmt: skip
    with engine.begin() as connection:
        if connection.execute(select(County.code).where(County.code == county)).first() is None:
            raise JudgementError("unknown_county", f"no county {county!r}",
                                 f"没有区县“{county}”")  # fmt: skip
        if listing_id is not None and connection.execute(
            select(CountyListing.id).where(CountyListing.id == listing_id,
                                           CountyListing.county_code == county)
        ).first() is None:  # fmt: skip
            raise JudgementError("unknown_listing", f"no listing {listing_id} of {county}",
                                 f"该区县没有编号为{listing_id}的挂牌督办")  # fmt: skip
        interview_id = int(
            connection.execute(
                insert(AccountabilityInterview)
                .values(county_code=county, listing_id=listing_id, snapshot_id=snapshot_id,
                        held_on=held_on, interviewees=interviewees, problems=problems,
                        commitments=list(commitments), follow_up=follow_up, outcome=outcome,
                        recorded_by=actor.name, recorded_at=now)
                .returning(AccountabilityInterview.id)
            ).scalar_one()
        )  # fmt: skip
        record(connection, actor, "interview.record", "accountability_interview", interview_id,
               after={"county": county, "held_on": held_on.isoformat(),
                      "listing_id": listing_id, "outcome": outcome}, at=now)  # fmt: skip
    return interview_id


def interviews(connection: Connection, user: Viewer) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(AccountabilityInterview).order_by(AccountabilityInterview.held_on.desc())
    ).all()  # fmt: skip
    return [
        {"id": r.id, "county": r.county_code, "listing_id": r.listing_id,
         "snapshot_id": r.snapshot_id, "held_on": r.held_on.isoformat(),
         "interviewees": r.interviewees, "problems": r.problems, "commitments": r.commitments,
         "follow_up": r.follow_up, "outcome": r.outcome}
        for r in rows if sees_county(user, r.county_code)
    ]  # fmt: skip


# ---- 生态补偿 ------------------------------------------------------------------


def compute_quarter(
    engine: Engine, quarter: str, parameters: Parameters | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Each county's eco-compensation for ``quarter`` under ``parameters``
    (kept; computed once per parameter version)."""
    parameters = parameters or load_parameters()
    now = now or datetime.now(UTC)
    first, last = parse_quarter(quarter)
    with engine.begin() as connection:
        stored = connection.execute(
            select(EcoCompensation).where(EcoCompensation.quarter == quarter,
                                          EcoCompensation.parameters_version == parameters.version)
        ).all()  # fmt: skip
        if not stored:
            current = quarter_means(connection, first, last)
            before = quarter_means(connection, year_earlier(first), year_earlier(last))
            for county in sorted(current):
                computed = eco_compensation(current[county], before.get(county, {}),
                                            parameters.eco)  # fmt: skip
                connection.execute(
                    insert(EcoCompensation).values(
                        county_code=county, quarter=quarter, parameters_version=parameters.version,
                        inputs={"now": current[county], "year_earlier": before.get(county, {})},
                        amount_wan=computed["amount_wan"], computation=computed, computed_at=now)
                )  # fmt: skip
            stored = connection.execute(
                select(EcoCompensation).where(
                    EcoCompensation.quarter == quarter,
                    EcoCompensation.parameters_version == parameters.version)
            ).all()  # fmt: skip
        return [{"county": r.county_code, "quarter": r.quarter, "amount_wan": r.amount_wan,
                 "inputs": r.inputs, "computation": r.computation,
                 "parameters_version": r.parameters_version} for r in stored]  # fmt: skip


def eco_rows(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(EcoCompensation).order_by(EcoCompensation.quarter.desc(),
                                         EcoCompensation.county_code)
    ).all()  # fmt: skip
    return [{"county": r.county_code, "quarter": r.quarter, "amount_wan": r.amount_wan,
             "computation": r.computation, "parameters_version": r.parameters_version}
            for r in rows]  # fmt: skip
