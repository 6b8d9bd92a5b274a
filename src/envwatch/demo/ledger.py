"""The demo's positive lists, total-quantity ledgers and carbon data (pure
rows, then one transaction): every fifth enterprise on the enforcement list
and every seventh on the EIA-approval list, some with an earlier spell that
ended and began again; per county, capacity freed by closures and upgrades
and some of it allocated to new projects; two years of billed monthly
electricity and annual output for the enterprises with meters, so the carbon
page has a year-on-year change to show (most cut both, some not)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from envwatch.carbon.core import default_data
from envwatch.hj212.codes import now_cst
from envwatch.ledger.quota import GRAMS_PER_TONNE
from envwatch.store.schema import (
    EmissionDeclaration,
    EnergyDeclaration,
    Enterprise,
    EnterpriseOutput,
    Meter,
    PermitLimit,
    QuotaDraw,
    QuotaEntry,
)

DECIDED_BY = "聊城市生态环境局局务会（示例）"
EIA_EVERY = 7
RELISTED_EVERY = 3
"""Of the enforcement list's enterprises, every third was removed once and re-admitted."""
ENFORCEMENT_CRITERIA = (
    ("no_violation_24m", "online_monitoring"),
    ("livelihood", "no_violation_24m"),
    ("high_performance", "online_monitoring", "no_violation_24m"),
)
EIA_CRITERIA = (("commitment_approval",), ("major_project", "no_violation_24m"))
QUOTA_POLLUTANTS = ("a21026", "a21002", "w01018")
"""SO2, NOx and COD: the counties' ledgers."""
OUTPUT_UNIT = "t"


def positive_list_rows(enterprises: list[dict[str, Any]], every: int) -> list[dict[str, Any]]:
    """The demo's positive-list entries (pure)."""
    rows: list[dict[str, Any]] = []

    def add(
        enterprise_id: int,
        kind: str,
        criteria: tuple[str, ...],
        added: date,
        *,
        removed: date | None = None,
        reason_removed: str = "",
    ) -> None:
        rows.append(
            {
                "id": len(rows) + 1,
                "enterprise_id": enterprise_id,
                "kind": kind,
                "criteria_version": "2020-1",
                "criteria": list(criteria),
                "reason": "符合正面清单条件，经审议纳入（示例）",
                "added_on": added,
                "decided_by": DECIDED_BY,
                "removed_on": removed,
                "removal_reason": reason_removed,
                "removed_by": DECIDED_BY if removed else "",
            }
        )

    for number, enterprise in enumerate(enterprises):
        eid = enterprise["id"]
        if eid % every == 0:
            criteria = ENFORCEMENT_CRITERIA[number % len(ENFORCEMENT_CRITERIA)]
            if (eid // every) % RELISTED_EVERY == 0:
                add(
                    eid,
                    "enforcement",
                    criteria,
                    date(2023, 4, 1),
                    removed=date(2024, 9, 15),
                    reason_removed="发生超标排放被处罚，移出清单（示例）",
                )
                add(eid, "enforcement", criteria, date(2025, 10, 1))
            else:
                add(eid, "enforcement", criteria, date(2024, 3, 1))
        if eid % EIA_EVERY == 0:
            add(eid, "eia", EIA_CRITERIA[number % len(EIA_CRITERIA)], date(2025, 6, 1))
    return rows


def quota_rows(
    enterprises: list[tuple[int, str]], year: int, seed: int = 5
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each county's ledger: per pollutant two freed entries (a closure, an
    upgrade) and one allocation drawing on the first (pure)."""
    rng = random.Random(seed)
    by_county: dict[str, list[int]] = {}
    for enterprise_id, county in enterprises:
        by_county.setdefault(county, []).append(enterprise_id)
    entries: list[dict[str, Any]] = []
    draws: list[dict[str, Any]] = []
    recorded = datetime(year, 1, 1, tzinfo=UTC)
    for county, ids in sorted(by_county.items()):
        for p_number, pollutant in enumerate(QUOTA_POLLUTANTS):
            closure_g = rng.randint(20, 80) * GRAMS_PER_TONNE // 2
            upgrade_g = rng.randint(5, 30) * GRAMS_PER_TONNE // 4
            base = {
                "county_code": county,
                "pollutant": pollutant,
                "project": "",
                "note": "",
                "recorded_by": "admin",
                "recorded_at": recorded,
                "cancelled_on": None,
                "cancel_reason": "",
            }
            closure_id = len(entries) + 1
            entries.append(
                {
                    **base,
                    "id": closure_id,
                    "kind": "freed",
                    "cause": "closure",
                    "grams": closure_g,
                    "effective_on": date(year - 1, 3 + p_number, 10),
                    "document_no": f"{county}环总量〔{year - 1}〕{p_number + 1}号",
                    "enterprise_id": ids[0],
                }
            )
            entries.append(
                {
                    **base,
                    "id": closure_id + 1,
                    "kind": "freed",
                    "cause": "upgrade",
                    "grams": upgrade_g,
                    "effective_on": date(year - 1, 9, 1 + p_number),
                    "document_no": f"{county}环总量〔{year - 1}〕{p_number + 11}号",
                    "enterprise_id": ids[len(ids) // 2],
                }
            )
            allocated_g = closure_g * 3 // 5
            allocation_id = closure_id + 2
            entries.append(
                {
                    **base,
                    "id": allocation_id,
                    "kind": "allocated",
                    "cause": "project",
                    "grams": allocated_g,
                    "effective_on": date(year, 2, 1 + p_number),
                    "document_no": f"{county}环审〔{year}〕{p_number + 1}号",
                    "enterprise_id": None,
                    "project": f"新建项目（腾笼换鸟示例）{p_number + 1}",
                }
            )
            draws.append(
                {"allocation_id": allocation_id, "source_id": closure_id, "grams": allocated_g}
            )
    return entries, draws


TRENDS = ((1.08, 1.05), (0.9, 0.85), (1.06, 0.8), (0.93, 0.9))
"""(electricity, pollutants) this year against last, by enterprise in turn: both
up, both down, pollutants down while carbon rises, both down."""


def carbon_rows(
    enterprises: list[tuple[int, float]],
    permitted: dict[int, dict[str, float]],
    today: date,
    seed: int = 9,
) -> dict[str, list[dict[str, Any]]]:
    """Billed monthly electricity and declared monthly emissions of the previous
    year and of this year to the current month, and annual output, of
    enterprises (id, rated kW) with their permitted t/a by pollutant (pure)."""
    rng = random.Random(seed)
    out: dict[str, list[dict[str, Any]]] = {"energy": [], "emission": [], "output": []}
    year = today.year
    for number, (enterprise_id, rated_kw) in enumerate(enterprises):
        power_trend, pollutant_trend = TRENDS[number % len(TRENDS)]
        base_mwh = rated_kw * 24 * 30 * 0.5 / 1000
        for offset, power, pollution in ((1, 1.0, 1.0), (0, power_trend, pollutant_trend)):
            for month in range(1, 13):
                if offset == 0 and month > today.month:
                    break
                first = date(year - offset, month, 1)
                season = 1.0 + 0.1 * ((month in (1, 2, 7, 8)) - 0.3)
                total = round(base_mwh * power * season * rng.uniform(0.97, 1.03), 3)
                out["energy"].append(
                    {
                        "enterprise_id": enterprise_id,
                        "month": first,
                        "total_mwh": total,
                        "production_mwh": round(total * 0.8, 3),
                        "source": "电费账单（示例）",
                    }
                )
                for code, annual in sorted(permitted.get(enterprise_id, {}).items()):
                    tonnes = annual * 0.5 / 12 * pollution * season * rng.uniform(0.97, 1.03)
                    out["emission"].append(
                        {
                            "enterprise_id": enterprise_id,
                            "month": first,
                            "pollutant": code,
                            "tonnes": round(tonnes, 4),
                            "source": "执行报告（示例）",
                        }
                    )
            out["output"].append(
                {
                    "enterprise_id": enterprise_id,
                    "year": year - offset,
                    "quantity": round(base_mwh * 12 * 2.5 * power**0.5, 1),
                    "unit": OUTPUT_UNIT,
                }
            )
    return out


def seed_ledger(engine: Engine, year: int | None = None) -> dict[str, int]:
    """Insert the demo's ledgers and carbon data (after ``seed_demo``; the
    current year's by default); counts."""
    year = year or now_cst().year
    with engine.begin() as connection:
        if connection.execute(select(QuotaEntry.id).limit(1)).first() is not None:
            return {}
        enterprises = [
            (e.id, e.county_code)
            for e in connection.execute(
                select(Enterprise.id, Enterprise.county_code).order_by(Enterprise.id)
            )
        ]
        metered = {
            row.enterprise_id: row.rated
            for row in connection.execute(
                select(Meter.enterprise_id, Meter.rated_kw.label("rated"))
                .where(Meter.kind == "production")
                .order_by(Meter.enterprise_id, Meter.id)
            )
        }
        permitted: dict[int, dict[str, float]] = {}
        for enterprise_id, pollutant, annual in connection.execute(
            select(
                PermitLimit.enterprise_id, PermitLimit.pollutant, PermitLimit.annual_tonnes
            ).where(
                PermitLimit.pollutant.in_(default_data().main_pollutants),
                PermitLimit.annual_tonnes.is_not(None),
            )
        ):
            held = permitted.setdefault(enterprise_id, {})
            held[pollutant] = held.get(pollutant, 0.0) + (annual or 0.0)
        entries, draws = quota_rows(enterprises, year)
        carbon = carbon_rows(
            [(eid, rated or 500.0) for eid, rated in sorted(metered.items())],
            permitted,
            now_cst().date() if year == now_cst().year else date(year, 12, 31),
        )
        for table, rows in (
            (QuotaEntry, entries),
            (QuotaDraw, draws),
            (EnergyDeclaration, carbon["energy"]),
            (EmissionDeclaration, carbon["emission"]),
            (EnterpriseOutput, carbon["output"]),
        ):
            if rows:
                connection.execute(insert(table), rows)
        if connection.dialect.name == "postgresql" and entries:
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('quota_entry', 'id'), "
                "(SELECT max(id) FROM quota_entry))"
            )
    return {
        "quota_entry": len(entries),
        "energy_declaration": len(carbon["energy"]),
        "emission_declaration": len(carbon["emission"]),
        "enterprise_output": len(carbon["output"]),
    }
