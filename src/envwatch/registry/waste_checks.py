"""The hazardous-waste checks over the stored register (I/O around the pure
``registry/hazardous_waste.py``): every unit and manifest is read (a receiver
in another county still decides whether a transfer was licensed), the
findings kept are those about units in the viewer's scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from envwatch.alerts.scope import Viewer
from envwatch.registry.hazardous_waste import Finding, Transfer, Unit, check
from envwatch.registry.registers import REGISTERS, vocabulary
from envwatch.store.schema import HazardousWasteUnit, WasteTransfer


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
