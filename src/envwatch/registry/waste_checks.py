"""The hazardous-waste checks over the stored register (I/O around the pure
``registry/hazardous_waste.py``): every unit and manifest is read (a receiver
in another county still decides whether a transfer was licensed), the
findings kept are those about units in the viewer's scope."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from envwatch.alerts.scope import Viewer
from envwatch.audit.log import Actor
from envwatch.registry.hazardous_waste import RULE_NAMES_ZH, Finding, Transfer, Unit, check
from envwatch.registry.importing import RowError
from envwatch.registry.registers import REGISTERS, vocabulary
from envwatch.store.schema import (
    Enterprise,
    HazardousWasteUnit,
    RectificationProblem,
    WasteTransfer,
)

if TYPE_CHECKING:
    from envwatch.rectification.desk import RectificationDesk


def load_units(connection: Connection) -> list[Unit]:
    return [
        Unit(id=row.id, name=row.name, credit_code=row.credit_code, role=row.role,
             licensed_categories=frozenset(row.licensed_categories or ()),
             licensed_capacity_t=row.licensed_capacity_t,
             licence_valid_until=row.licence_valid_until, declared=dict(row.declared or {}))
        for row in connection.execute(select(HazardousWasteUnit).order_by(HazardousWasteUnit.id))
    ]  # fmt: skip


def load_transfers(connection: Connection) -> list[Transfer]:
    return [
        Transfer(row.manifest_no, row.producer_id, row.receiver_credit_code, row.hw_code,
                 row.quantity_t, row.transferred_on)
        for row in connection.execute(select(WasteTransfer).order_by(WasteTransfer.id))
    ]  # fmt: skip


def findings_for(
    connection: Connection, user: Viewer | None, year: int, today: date
) -> list[tuple[Finding, Any]]:
    """The findings of ``year`` about units ``user`` may see (all with ``None``),
    each with its unit's row (id, name, county_code, enterprise_id)."""
    found = check(load_units(connection), load_transfers(connection), year, today,
                  vocabulary().check_params)  # fmt: skip
    visible = {row.id: row for row in connection.execute(
        REGISTERS["hazardous_waste_unit"].entries(user))}  # fmt: skip
    return [(finding, visible[finding.unit_id]) for finding in found
            if finding.unit_id in visible]  # fmt: skip


def problem_key(finding: Finding) -> str:
    """A finding's item number in its year's batch: stable, so a finding made a
    problem once is never made one again."""
    facts = [finding.rule, finding.unit_id, finding.hw_code,
             finding.evidence.get("manifest_no")]  # fmt: skip
    digest = hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:12]
    return f"HW-{digest}"


def batch_of(year: int) -> str:
    return f"{year}年度危险废物核查"


def findings_to_problems(
    desk: RectificationDesk, user: Viewer, year: int, today: date, actor: Actor
) -> tuple[list[int], int, list[RowError]]:
    """Make each of ``year``'s findings in ``user``'s scope a rectification problem
    (source "register check", category hazardous waste, the unit its lead
    responsible unit, assigned to its county), all or none; those made before
    are left as they are. (new ids, how many existed already, problems)."""
    settings = vocabulary().hazardous_waste.problems
    batch = batch_of(year)
    with desk.engine.connect() as connection:
        found = findings_for(connection, user, year, today)
        made = set(connection.execute(
            select(RectificationProblem.item_no).where(
                RectificationProblem.source == settings.source,
                RectificationProblem.batch == batch)).scalars())  # fmt: skip
        linked = select(HazardousWasteUnit.id, Enterprise.credit_code).join(
            Enterprise, Enterprise.id == HazardousWasteUnit.enterprise_id
        )
        credits = dict(connection.execute(linked).all())
    rows = []
    for finding, unit in found:
        key = problem_key(finding)
        if key in made:
            continue
        made.add(key)
        evidence = "；".join(f"{k}={v}" for k, v in finding.evidence.items())
        rows.append({
            "source": settings.source, "batch": batch, "item_no": key,
            "title": f"{unit.name}：{RULE_NAMES_ZH[finding.rule]}"[:200],
            "description": f"{finding.hw_code or ''} {evidence}（{finding.version}）".strip(),
            "category": "hazardous_waste", "county": unit.county_code,
            "lead_unit": unit.name if len(unit.name) >= 2 else f"{unit.name}单位",
            "deadline": today + timedelta(days=settings.deadline_days),
            "enterprises": credits.get(unit.id, ""),
        })  # fmt: skip
    if not rows:
        return [], len(found), []
    from envwatch.rectification.importing import take_problems  # noqa: PLC0415

    ids, errors = take_problems(desk, rows, actor, source="register check")
    return ids, len(found) - len(rows), errors
