"""Inspection campaigns (大排查大整治) at the store's edge: a campaign created
with its checklist and targets; inspection results recorded per target and
item (all or nothing, row/column/reason), with evidence from the evidence
store; each failed item opens one rectification problem (source: campaign,
batch: the campaign's name), assigned at once to the target's county, and
never a second; progress by county. Every change is audited; every read is
scoped (city roles all, county officers their counties, an enterprise's users
their enterprise's targets).

The kinds of target are the bottom-line registers' kinds (``registry/
registers.py`` ``REGISTERS``: enterprises, contaminated plots, hazardous-waste
units, medical institutions, chemical parks and enterprises, heavy-metal
enterprises): a register joins the campaigns by joining that mapping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, false, func, insert, or_, select, true, update

from envwatch.alerts.scope import CITY_ROLES, Viewer, scope_by, viewer_of
from envwatch.audit.log import SYSTEM, Actor, record
from envwatch.auth.sessions import active_user
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.rectification import evidence
from envwatch.rectification.campaigns import (
    CampaignSpec,
    ResultRow,
    TargetState,
    problem_item_no,
    progress_by_county,
    result_column,
)
from envwatch.rectification.desk import ProblemError, RectificationDesk, link, queue
from envwatch.rectification.policy import CLOSED
from envwatch.registry.importing import RowError, validate_rows
from envwatch.registry.registers import REGISTERS
from envwatch.store.schema import (
    Campaign,
    CampaignItem,
    CampaignResult,
    CampaignTarget,
    County,
    Enterprise,
    RectificationProblem,
)
from envwatch.times import utc_as_cst_text

SOURCE = "campaign"
CREATORS = frozenset({"city_admin", "city_supervisor"})
"""Who creates campaigns (the city bureau)."""
INSPECTORS = frozenset({"city_admin", "city_supervisor", "enforcement_officer", "county_officer"})
"""Who records inspection results (a county officer in their counties)."""


class CampaignError(ProblemError):
    """A campaign action refused: unknown campaign or user, out of scope, bad input."""


def _unknown(campaign_id: int) -> CampaignError:
    return CampaignError("unknown_campaign", f"no campaign {campaign_id}",
                         f"没有编号为{campaign_id}的排查整治行动")  # fmt: skip


def _user(connection: Connection, username: str) -> Any:
    user = active_user(connection, username)
    if user is None:
        raise CampaignError("unknown_user", f"no active user {username!r}",
                            f"没有有效用户“{username}”")  # fmt: skip
    return user


def _counties(connection: Connection) -> dict[str, str]:
    """County codes and names, both to the code."""
    codes = {code: code for code in connection.execute(select(County.code)).scalars()}
    return codes | dict(connection.execute(select(County.name_zh, County.code)).all())


def create_campaign(
    desk: RectificationDesk, spec: CampaignSpec, actor: Actor, *, now: datetime | None = None
) -> tuple[int | None, list[RowError]]:
    """Create the campaign with its checklist and targets (every part or none):
    its id, or every problem found (``row`` counts items or targets from 1,
    ``column`` names the field)."""
    now = now or datetime.now(UTC)
    policy = desk.policy.campaigns
    errors: list[RowError] = []
    if actor.role not in CREATORS | {"system"}:
        raise CampaignError("role_not_allowed", f"the role {actor.role!r} creates no campaigns",
                            "该角色不能创建排查整治行动")  # fmt: skip
    theme = policy.theme_code(spec.theme)
    if theme is None:
        known = ", ".join(name for name, _ in policy.themes.values())
        errors.append(RowError(0, "theme", f"unknown theme {spec.theme!r}; known: {known}"))
    severities = [policy.severity_code(item.severity) for item in spec.items]
    for number, (item, code) in enumerate(zip(spec.items, severities, strict=True), start=1):
        if code is None:
            known = ", ".join(name for name, _ in policy.severities.values())
            errors.append(
                RowError(
                    number, "items.severity", f"unknown severity {item.severity!r}; known: {known}"
                )
            )
    with desk.engine.begin() as connection:  # fmt: skip
        counties = _counties(connection)
        covered = []
        for county in spec.counties:
            if county not in counties:
                errors.append(RowError(0, "counties", f"unknown county {county!r}"))
            else:
                covered.append(counties[county])
        if connection.execute(select(Campaign.id).where(Campaign.name == spec.name)).first():
            errors.append(RowError(0, "name", "a campaign of this name exists"))
        found, target_errors = _targets(connection, spec, set(covered))
        errors += target_errors
        if errors:
            return None, errors
        assert theme is not None
        values = {"name": spec.name, "theme": theme, "starts_on": spec.starts_on,
                  "ends_on": spec.ends_on, "county_codes": ",".join(sorted(set(covered))),
                  "created_at": now, "created_by": actor.name}  # fmt: skip
        campaign = int(
            connection.execute(insert(Campaign).values(**values).returning(Campaign.id))
            .scalar_one()
        )  # fmt: skip
        items = [{"campaign_id": campaign, "number": number, "text": item.text,
                  "legal_basis": item.legal_basis, "severity": code}
                 for number, (item, code) in enumerate(zip(spec.items, severities, strict=True),
                                                       start=1)]  # fmt: skip
        connection.execute(insert(CampaignItem), items)
        if found:
            connection.execute(
                insert(CampaignTarget), [{"campaign_id": campaign, **target} for target in found]
            )
        listed = [{k: v for k, v in i.items() if k != "campaign_id"} for i in items]
        targets = [f"{t['kind']}:{t['ref_id']}" for t in found]
        record(connection, actor, "campaign.create", "campaign", campaign,
               after={**values, "items": listed, "targets": targets}, at=now)  # fmt: skip
    return campaign, []


def _targets(
    connection: Connection, spec: CampaignSpec, covered: set[str]
) -> tuple[list[dict[str, Any]], list[RowError]]:
    """The targets' rows (name, county, enterprise from their registers), or the problems."""
    errors: list[RowError] = []
    wanted: dict[str, set[int]] = {}
    for number, target in enumerate(spec.targets, start=1):
        if target.kind not in REGISTERS:
            errors.append(RowError(number, "targets.kind", f"unknown kind {target.kind!r}; "
                                   f"known: {', '.join(REGISTERS)}"))  # fmt: skip
        else:
            wanted.setdefault(target.kind, set()).add(target.id)
    rows: dict[tuple[str, int], Any] = {}
    for kind, ids in wanted.items():
        register = REGISTERS[kind]
        for found_row in connection.execute(
            register.entries().where(register.key.in_(sorted(ids)))
        ):
            rows[(kind, found_row.id)] = found_row
    found, seen = [], set()
    for number, target in enumerate(spec.targets, start=1):
        key = (target.kind, target.id)
        if target.kind not in REGISTERS:
            continue
        row = rows.get(key)
        if row is None:
            errors.append(RowError(number, "targets.id", f"no {target.kind} {target.id}"))
        elif key in seen:
            errors.append(RowError(number, "targets", "repeats an earlier target"))
        elif covered and row.county_code not in covered:
            errors.append(
                RowError(
                    number,
                    "targets.id",
                    f"{target.kind} {target.id} lies in "
                    f"{row.county_code}, outside the campaign's counties",
                )
            )
        else:
            found.append({"kind": target.kind, "ref_id": target.id, "name": row.name[:200],
                          "county_code": row.county_code, "enterprise_id": row.enterprise_id,
                          "inspected_by": ""})  # fmt: skip
        seen.add(key)
    return found, errors


def target_scope(user: Viewer) -> ColumnElement[bool]:
    return scope_by(user, CampaignTarget.county_code, CampaignTarget.enterprise_id)


def campaign_scope(user: Viewer) -> ColumnElement[bool]:
    """The campaigns ``user`` may see: the city's all; a county officer's those
    covering their counties; anyone's those with a target they see."""
    if user.role in CITY_ROLES:
        return true()
    with_target = Campaign.id.in_(select(CampaignTarget.campaign_id).where(target_scope(user)))
    if user.role == "county_officer" and user.counties:
        covering = [("," + Campaign.county_codes + ",").contains(f",{county},")
                    for county in sorted(user.counties)]  # fmt: skip
        return or_(Campaign.county_codes == "", with_target, *covering)
    if user.role == "county_officer":
        return false()
    return with_target


def campaign_view(row: Any, policy: Any) -> dict[str, Any]:
    theme = policy.campaigns.themes.get(row.theme, (row.theme, ""))
    return {"id": row.id, "name": row.name, "theme": row.theme, "theme_zh": theme[0],
            "category": theme[1], "starts_on": row.starts_on.isoformat(),
            "ends_on": row.ends_on.isoformat(),
            "counties": [c for c in row.county_codes.split(",") if c],
            "created_at": utc_as_cst_text(row.created_at),
            "created_by": row.created_by}  # fmt: skip


def visible_campaigns(
    connection: Connection, viewer: Viewer, desk: RectificationDesk, *, limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    condition = campaign_scope(viewer)
    rows = connection.execute(
        select(Campaign).where(condition).order_by(Campaign.starts_on.desc(), Campaign.id.desc())
        .limit(limit).offset(offset)
    ).all()  # fmt: skip
    total = connection.execute(select(func.count()).select_from(Campaign).where(condition))
    return [campaign_view(row, desk.policy) for row in rows], int(total.scalar_one())


def visible_campaign(
    connection: Connection, viewer: Viewer, campaign_id: int, desk: RectificationDesk
) -> dict[str, Any] | None:
    """A campaign with its checklist, the targets ``viewer`` sees with their
    results, and progress by county over those targets (None: unknown or out
    of scope, alike)."""
    row = connection.execute(
        select(Campaign).where(Campaign.id == campaign_id, campaign_scope(viewer))
    ).first()
    if row is None:
        return None
    items = connection.execute(
        select(CampaignItem).where(CampaignItem.campaign_id == campaign_id)
        .order_by(CampaignItem.number)
    ).all()  # fmt: skip
    targets = connection.execute(
        select(CampaignTarget, County.name_zh.label("county_name"))
        .join(County, County.code == CampaignTarget.county_code)
        .where(CampaignTarget.campaign_id == campaign_id, target_scope(viewer))
        .order_by(CampaignTarget.county_code, CampaignTarget.id)
    ).all()  # fmt: skip
    ids = [t.id for t in targets]
    results: dict[int, list[Any]] = {}
    states: dict[int, str] = {}
    if ids:
        for result in connection.execute(
            select(CampaignResult, RectificationProblem.state.label("problem_state"))
            .outerjoin(RectificationProblem,
                       RectificationProblem.id == CampaignResult.problem_id)
            .where(CampaignResult.target_id.in_(ids))
        ):  # fmt: skip
            results.setdefault(result.target_id, []).append(result)
            if result.problem_id is not None:
                states[result.problem_id] = result.problem_state
    number_of = {item.id: item.number for item in items}
    severities = desk.policy.campaigns.severities
    target_views = []
    for target in targets:
        own = sorted(results.get(target.id, []), key=lambda r: number_of[r.item_id])
        kind = REGISTERS.get(target.kind)
        target_views.append({
            "id": target.id, "kind": target.kind,
            "kind_zh": kind.name_zh if kind else target.kind, "ref_id": target.ref_id,
            "page": kind.page_of(target.ref_id) if kind else "",
            "name": target.name, "county": target.county_code, "county_name": target.county_name,
            "enterprise_id": target.enterprise_id,
            "inspected_at": utc_as_cst_text(target.inspected_at),
            "inspected_by": target.inspected_by,
            "results": {str(number_of[r.item_id]): {
                "result": r.result, "note": r.note, "evidence_name": r.evidence_name,
                "evidence_sha256": r.evidence_sha256, "problem_id": r.problem_id,
                "problem_state": states.get(r.problem_id) if r.problem_id else None,
                "recorded_at": utc_as_cst_text(r.recorded_at), "recorded_by": r.recorded_by,
            } for r in own},
        })  # fmt: skip
    progress = progress_by_county(
        TargetState(
            t["county"],
            t["inspected_at"] is not None,
            sum(r["result"] == "fail" for r in t["results"].values()),
            sum(r["problem_id"] is not None for r in t["results"].values()),
            sum(r["problem_state"] == CLOSED for r in t["results"].values()),
        )
        for t in target_views
    )
    return campaign_view(row, desk.policy) | {
        "items": [{"number": i.number, "text": i.text, "legal_basis": i.legal_basis,
                   "severity": i.severity,
                   "severity_zh": severities.get(i.severity, (i.severity, 0))[0]}
                  for i in items],
        "targets": target_views,
        "progress": progress,
    }  # fmt: skip


def record_results(
    desk: RectificationDesk, campaign_id: int, username: str, rows: Sequence[Mapping[str, Any]],
    *, peer: str, now: datetime | None = None,
) -> tuple[list[int], list[RowError]]:  # fmt: skip
    """Record inspection results (a file's rows or the form's), every one or
    none; the problems the failed items opened (new ones only: a failed item
    opens one problem, however often it is recorded), or every problem found.
    Rows count from 2 as a spreadsheet shows them."""
    now = now or datetime.now(UTC)
    parsed, errors = validate_rows(ResultRow, rows, first_row=2)
    if errors:
        return [], errors
    opened: list[int] = []
    with desk.engine.begin() as connection:
        user = _user(connection, username)
        if user.role not in INSPECTORS:
            raise CampaignError("role_not_allowed", f"the role {user.role!r} records no "
                                "inspection results", "该角色不能录入排查结果")  # fmt: skip
        viewer = viewer_of(user)
        campaign = connection.execute(
            select(Campaign).where(Campaign.id == campaign_id, campaign_scope(viewer))
        ).first()
        if campaign is None:
            raise _unknown(campaign_id)
        items = {i.number: i for i in connection.execute(
            select(CampaignItem).where(CampaignItem.campaign_id == campaign_id))}  # fmt: skip
        targets = {(t.kind, t.ref_id): t for t in connection.execute(
            select(CampaignTarget).where(CampaignTarget.campaign_id == campaign_id,
                                         target_scope(viewer)))}  # fmt: skip
        seen: set[tuple[str, int, int]] = set()
        for number, row in enumerate(parsed, start=2):
            if (row.kind, row.ref_id) not in targets:
                errors.append(RowError(number, result_column("ref_id"), f"no target "
                                       f"{row.kind} {row.ref_id} in this campaign"))  # fmt: skip
            if row.item not in items:
                errors.append(RowError(number, result_column("item"),
                                       f"no item {row.item} in the checklist"))  # fmt: skip
            if (
                row.evidence_sha256
                and evidence.stored_type(connection, row.evidence_sha256) is None
            ):
                errors.append(RowError(number, result_column("evidence_sha256"),
                                       "no such stored file (upload it first)"))  # fmt: skip
            key = (row.kind, row.ref_id, row.item)
            if key in seen:
                errors.append(RowError(number, "", "repeats an earlier row of this file"))
            seen.add(key)
        if errors:
            return [], errors
        actor = Actor(user.username, user.role, peer)
        for row in parsed:
            target = targets[(row.kind, row.ref_id)]
            problem = _record(desk, connection, campaign=campaign, target=target,
                              item=items[row.item], row=row, actor=actor, now=now)  # fmt: skip
            if problem is not None:
                opened.append(problem)
        for target in {targets[(row.kind, row.ref_id)].id for row in parsed}:
            connection.execute(update(CampaignTarget).where(CampaignTarget.id == target)
                               .values(inspected_at=now, inspected_by=user.username))  # fmt: skip
    return opened, []


def _record(
    desk: RectificationDesk, connection: Connection, *, campaign: Any, target: Any, item: Any,
    row: ResultRow, actor: Actor, now: datetime,
) -> int | None:  # fmt: skip
    """Keep one result; the problem it opened, if it opened one now."""
    before = connection.execute(
        select(CampaignResult).where(CampaignResult.target_id == target.id,
                                     CampaignResult.item_id == item.id)
    ).first()  # fmt: skip
    values: dict[str, Any] = {"result": row.result, "note": row.note, "recorded_at": now,
                              "recorded_by": actor.name}  # fmt: skip
    if row.evidence_sha256:
        values |= {"evidence_sha256": row.evidence_sha256,
                   "evidence_name": evidence.clean_name(row.evidence_name)}  # fmt: skip
    # (A result recorded again without a file keeps the file it had.)
    problem = before.problem_id if before is not None else None
    new_problem = None
    if row.result == "fail" and problem is None:
        problem = new_problem = _open_problem(desk, connection, campaign=campaign, target=target,
                                              item=item, row=row, actor=actor, now=now)  # fmt: skip
    values["problem_id"] = problem
    if before is None:
        connection.execute(insert(CampaignResult).values(target_id=target.id, item_id=item.id,
                                                         **values))  # fmt: skip
    else:
        connection.execute(
            update(CampaignResult).where(CampaignResult.target_id == target.id,
                                         CampaignResult.item_id == item.id).values(**values)
        )  # fmt: skip
    shown = {k: v for k, v in values.items() if k != "recorded_at"}
    record(connection, actor, "campaign.result", "campaign", campaign.id,
           before=None if before is None else {"result": before.result, "note": before.note},
           after={**shown, "target": f"{target.kind}:{target.ref_id}", "item": item.number},
           at=now)  # fmt: skip
    return new_problem


def _open_problem(
    desk: RectificationDesk, connection: Connection, *, campaign: Any, target: Any, item: Any,
    row: ResultRow, actor: Actor, now: datetime,
) -> int:  # fmt: skip
    """The problem a failed item opens (or the one it opened before, when the
    result was taken back and failed again), assigned to the target's county."""
    item_no = problem_item_no(target.id, item.number)
    known = connection.execute(
        select(RectificationProblem.id).where(
            RectificationProblem.source == SOURCE, RectificationProblem.batch == campaign.name,
            RectificationProblem.item_no == item_no)
    ).scalar()  # fmt: skip
    if known is not None:
        return int(known)
    policy = desk.policy
    _, category = policy.campaigns.themes.get(campaign.theme, ("", "other"))
    _, days = policy.campaigns.severities.get(item.severity, ("", 30))
    county_name = connection.execute(
        select(County.name_zh).where(County.code == target.county_code)
    ).scalar_one()
    lead = f"{county_name}人民政府"
    if target.enterprise_id is not None:
        lead = connection.execute(
            select(Enterprise.name).where(Enterprise.id == target.enterprise_id)
        ).scalar_one()
    today = now.astimezone(CHINA_STANDARD_TIME).date()
    description = "；".join(part for part in (
        f"排查发现：{item.text}", f"依据：{item.legal_basis}" if item.legal_basis else "",
        f"检查说明：{row.note}" if row.note else "") if part)  # fmt: skip
    values = {
        "source": SOURCE, "batch": campaign.name, "item_no": item_no,
        "title": f"{target.name}：{item.text}"[:200], "description": description,
        "category": category, "county_code": target.county_code,
        "enterprise_id": target.enterprise_id, "lead_unit": lead[:200],
        "cooperating_units": "", "measures": "",
        "deadline": datetime.combine(today + timedelta(days=days), datetime.min.time()),
        "state": "new", "escalation": 0, "created_at": now, "reopened": 0, "summary": "",
    }  # fmt: skip
    problem = int(
        connection.execute(
            insert(RectificationProblem).values(**values).returning(RectificationProblem.id)
        ).scalar_one()
    )
    if target.enterprise_id is not None:
        link(connection, problem, "enterprise", target.enterprise_id)
    record(connection, actor, "problem.from_campaign", "rectification_problem", problem,
           after={**values, "campaign": campaign.id, "target": f"{target.kind}:{target.ref_id}",
                  "item": item.number}, at=now)  # fmt: skip
    desk.change(connection, problem, "assign", SYSTEM, now=now,
                note=f"{campaign.name}排查发现，交办至{county_name}")  # fmt: skip
    queue(connection, problem, target.county_code, policy.escalation.chain[0], event="assigned",
          now=now)  # fmt: skip
    return problem


def store_evidence(
    desk: RectificationDesk, campaign_id: int, username: str, upload: evidence.Upload,
    now: datetime | None = None,
) -> tuple[str, str]:  # fmt: skip
    """Keep a file backing inspection results (its SHA-256 and media type), for
    an inspector who sees the campaign; name it in the results."""
    media_type = evidence.check_file(upload, desk.policy.evidence)
    with desk.engine.begin() as connection:
        user = _user(connection, username)
        seen = connection.execute(
            select(Campaign.id).where(Campaign.id == campaign_id,
                                      campaign_scope(viewer_of(user)))
        ).first()  # fmt: skip
        if seen is None:
            raise _unknown(campaign_id)
        if user.role not in INSPECTORS:
            raise CampaignError("role_not_allowed", f"the role {user.role!r} adds no evidence",
                                "该角色不能上传佐证材料")  # fmt: skip
        return evidence.put(connection, upload.content, media_type, now), media_type


def campaign_file(
    connection: Connection, viewer: Viewer, campaign_id: int, digest: str
) -> tuple[str, evidence.StoredFile] | None:
    """A file backing a result of a target ``viewer`` sees (its hash verified on reading)."""
    name = connection.execute(
        select(CampaignResult.evidence_name)
        .join(CampaignTarget, CampaignTarget.id == CampaignResult.target_id)
        .where(CampaignTarget.campaign_id == campaign_id, target_scope(viewer),
               CampaignResult.evidence_sha256 == digest)
        .limit(1)
    ).scalar()  # fmt: skip
    if name is None:
        return None
    stored = evidence.get(connection, digest)
    return None if stored is None else (name, stored)
