"""``envwatch seed demo``: Liaocheng's counties and zones with about 120
fictional enterprises, their outlets, monitoring points, permits and meters.

Deterministic for a given seed. A few key enterprises are left without a
monitor or meter on purpose, so the coverage view (应装尽装) has something to show.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Engine, func, select, text

from envwatch.auth.passwords import hash_password
from envwatch.demo.city import City, load_city
from envwatch.demo.emergency_week import seed_emergency_week
from envwatch.demo.ledger import positive_list_rows
from envwatch.demo.manual import add_manual_monitoring
from envwatch.demo.quality_seed import seed_quality_sites
from envwatch.demo.zoning import demo_emergency_lines, demo_zoning_rows
from envwatch.glossary import factor
from envwatch.rules.shifts import format_shifts
from envwatch.rules.units import accounting_of
from envwatch.store.schema import (
    AccessClause,
    AppUser,
    Contractor,
    ControlUnit,
    County,
    EmergencyLine,
    EmergencyLineMeter,
    Enterprise,
    ManualResult,
    Meter,
    MeterLink,
    MonitoringPoint,
    Outlet,
    Permit,
    PermitLimit,
    PermitMonitoring,
    PointFactor,
    PositiveListEntry,
)

DEMO_PW_LENGTH = 6
# Shares of the demo devices by protocol edition, and of strict ones.
EDITION_SHARES = (("2017", 0.8), ("2005", 0.1), ("2025", 0.1))
STRICT_SHARE = 0.2
UNMONITORED_SHARE = 0.04  # key enterprises with no monitor registered yet
# The demo permits (排污许可证): issued for five years from the demo's year; what
# their applications declare for direct discharge (按直排核算) is fictional:
# the untreated concentration a multiple of the limit, a design flow by kind.
DEMO_PERMIT_FROM = datetime(2026, 1, 1)
DEMO_PERMIT_TO = datetime(2031, 1, 1)
DEMO_PERMIT_RECORDED = datetime(2025, 12, 20, tzinfo=UTC)
DEMO_UNTREATED_TIMES_LIMIT = 10.0
DEMO_DESIGN_FLOW_M3H = {"air": 200_000.0, "water": 100.0}
UNMETERED_SHARE = 0.06
# The showcase enterprise's permit also requires CO monitored automatically at
# its first stack, which its analyser does not measure: its emissions page and
# audit file show direct discharge (按直排核算) beside measured and substituted
# hours (fictional untreated concentration [mg/m³]).
DEMO_DIRECT_SHOWCASE = (1, "a21005", 50.0)
# HJ 212-2017 has no system code for electricity monitoring: the demo's meters
# say air pollution source, as collectors in the field often do.
METER_ST = "31"


# The demo operation contractors (运维单位): enterprise ids by remainder of
# ``DEMO_CONTRACTOR_EVERY`` (1: the first, 2: the second; the rest run their
# own devices), so each runs the analysers of enterprises in every county and
# the first runs enterprise 1's, as ``contractor-1`` shows.
DEMO_CONTRACTORS = (
    (1, "聊城示例环境监测运维有限公司", "913715009000000001"),
    (2, "聊城示例环保设施运营有限公司", "913715009000000002"),
)
DEMO_CONTRACTOR_EVERY = 3

# The demo users' password: printed by ``envwatch demo``; never for real accounts.
DEMO_PASSWORD = "envwatch-demo"
# Every this many demo enterprises is on the enforcement positive list (正面清单).
POSITIVE_LIST_EVERY = 5
# Heavy-pollution-weather performance grades (绩效分级), in turn; most firms have none.
DEMO_GRADES = ("", "B", "", "C", "", "A", "", "B", "", "D")


def _short(name: str) -> str:
    for suffix in ("区", "县", "市"):
        if name.endswith(suffix) and len(name) > 2:
            return name[: -len(suffix)]
    return name


def _edition(rng: random.Random) -> str:
    draw = rng.random()
    for edition, share in EDITION_SHARES:
        if draw < share:
            return edition
        draw -= share
    return EDITION_SHARES[0][0]


def _mn(edition: str, county: str, enterprise_id: int, index: int) -> str:
    if edition == "2005":
        return f"{county}{enterprise_id:06d}{index:02d}"  # 14 characters
    return f"3715{county[-2:]}{enterprise_id:010d}{index:02d}{0:06d}"  # 24 hex digits


def _meter_mn(county: str, enterprise_id: int, position: int) -> str:
    return f"3715{county[-2:]}{enterprise_id:010d}{position + 1:02d}E{0:05d}"  # 24 hex digits


def demo_rows(city: City, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """Every row of the demo registry, by table (pure)."""
    rng = random.Random(seed)
    rows: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in (
            "county", "enterprise", "outlet", "monitoring_point",
            "point_factor", "permit", "permit_limit", "permit_monitoring", "meter", "meter_link",
            "contractor", "app_user",
        )
    }  # fmt: skip
    for county in city.counties:
        rows["county"].append(
            {
                "code": county.code,
                "name_zh": county.name_zh,
                "name_en": county.name_en,
                "kind": county.kind,
                "host_code": county.host,
                "longitude": county.centre[0],
                "latitude": county.centre[1],
            }
        )
    enterprise_id = outlet_id = limit_id = meter_id = 0
    used_names: set[str] = set()
    valid_from = datetime(2024, 1, 1)
    for industry in city.industries:
        for _ in range(industry.count):
            enterprise_id += 1
            county = rng.choice(city.counties)
            name = ""
            for attempt in range(1000):
                # Stems first; numbered names only once they run out.
                number = str(attempt) if attempt >= 50 else ""
                stem = rng.choice(city.name_stems)
                name = f"{_short(county.name_zh)}{stem}{number}示例{industry.name_zh}有限公司"
                if name not in used_names:
                    break
            used_names.add(name)
            longitude = county.centre[0] + rng.uniform(-0.12, 0.12)
            latitude = county.centre[1] + rng.uniform(-0.10, 0.10)
            rows["enterprise"].append(
                {
                    "id": enterprise_id,
                    "name": name,
                    "credit_code": f"913715{enterprise_id:011d}X",
                    "county_code": county.code,
                    "industry_code": industry.code,
                    "key_categories": industry.key_categories,
                    "longitude": round(longitude, 6),
                    "latitude": round(latitude, 6),
                    "performance_grade": DEMO_GRADES[enterprise_id % len(DEMO_GRADES)],
                    "emergency_exempt": False,
                    "work_shifts": format_shifts(
                        ((industry.shift[0] * 60, industry.shift[1] * 60),)
                    ),
                }
            )
            monitored = rng.random() >= UNMONITORED_SHARE
            rows["permit"].append(
                {
                    "id": enterprise_id,
                    "number": f"913715{enterprise_id:011d}X001P",
                    "version": 1,
                    "enterprise_id": enterprise_id,
                    "category": "key" if industry.key_categories else "simplified",
                    "valid_from": DEMO_PERMIT_FROM,
                    "valid_to": DEMO_PERMIT_TO,
                    "recorded_by": "demo",
                    "recorded_at": DEMO_PERMIT_RECORDED,
                    "note": "",
                }
            )
            for index, template in enumerate(industry.outlets, start=1):
                outlet_id += 1
                prefix = "DA" if template.kind == "air" else "DW"
                rows["outlet"].append(
                    {
                        "id": outlet_id,
                        "enterprise_id": enterprise_id,
                        "code": f"{prefix}{index:03d}",
                        "name": f"{'废气' if template.kind == 'air' else '废水'}排放口{index}",
                        "kind": template.kind,
                        "longitude": round(longitude + 0.001 * index, 6),
                        "latitude": round(latitude, 6),
                        "height_m": template.height_m,
                    }
                )
                limit_set = city.limit_sets[template.limits]
                for code, (value, unit) in limit_set.limits.items():
                    limit_id += 1
                    rows["permit_limit"].append(
                        {
                            "id": limit_id,
                            "enterprise_id": enterprise_id,
                            "outlet_id": outlet_id,
                            "pollutant": code,
                            "limit_value": value,
                            "unit": unit,
                            "reference_o2": limit_set.reference_o2,
                            "basis": limit_set.basis,
                            "annual_tonnes": round(rng.uniform(5, 200), 1),
                            "valid_from": valid_from,
                            "valid_to": None,
                            "permit_id": enterprise_id,
                        }
                    )
                    watched = monitored and code in industry.factors
                    if accounting_of(code) is not None and (watched or not monitored):
                        # The plan monitors it automatically; an unmonitored key
                        # enterprise's outlet is accounted as direct discharge.
                        rows["permit_monitoring"].append(
                            {
                                "permit_id": enterprise_id,
                                "outlet_id": outlet_id,
                                "pollutant": code,
                                "method": "automatic",
                                "frequency": "continuous",
                                "untreated_concentration": value * DEMO_UNTREATED_TIMES_LIMIT,
                                "design_flow_m3h": DEMO_DESIGN_FLOW_M3H[template.kind],
                            }
                        )
                showcase, direct_code, untreated = DEMO_DIRECT_SHOWCASE
                if enterprise_id == showcase and index == 1 and monitored:
                    rows["permit_monitoring"].append(
                        {
                            "permit_id": enterprise_id,
                            "outlet_id": outlet_id,
                            "pollutant": direct_code,
                            "method": "automatic",
                            "frequency": "continuous",
                            "untreated_concentration": untreated,
                            "design_flow_m3h": DEMO_DESIGN_FLOW_M3H[template.kind],
                        }
                    )
                if not monitored:
                    continue
                edition = _edition(rng)
                mn = _mn(edition, county.code, enterprise_id, index)
                rows["monitoring_point"].append(
                    {
                        "mn": mn,
                        "pw": f"{rng.randrange(10**DEMO_PW_LENGTH):06d}",
                        "enterprise_id": enterprise_id,
                        "outlet_id": outlet_id,
                        "st": template.st,
                        "protocol_version": edition,
                        "lenient": rng.random() >= STRICT_SHARE,
                        "verify_crc": True,
                        "verify_length": True,
                        "active": True,
                    }
                )
                medium = "a" if template.kind == "air" else "w"
                for code in industry.factors:
                    if code.startswith(medium):
                        known = factor(code)
                        rows["point_factor"].append(
                            {"mn": mn, "pollutant": code, "unit": known.unit if known else ""}
                        )
            if rng.random() < UNMETERED_SHARE:
                continue
            production_id = None
            for position, meter_name in enumerate(industry.meters):
                meter_id += 1
                meter_mn = _meter_mn(county.code, enterprise_id, position)
                rows["monitoring_point"].append(
                    {
                        "mn": meter_mn,
                        "pw": f"{rng.randrange(10**DEMO_PW_LENGTH):06d}",
                        "enterprise_id": enterprise_id,
                        "outlet_id": None,
                        "st": METER_ST,
                        "protocol_version": "2017",
                        "lenient": True,
                        "verify_crc": True,
                        "verify_length": True,
                        "active": True,
                    }
                )
                kind = (
                    "total"
                    if "总表" in meter_name
                    else "production"
                    if position == 0
                    else "treatment"
                )
                if kind == "production":
                    production_id = meter_id
                elif kind == "treatment" and production_id is not None:
                    rows["meter_link"].append(
                        {"treatment_meter_id": meter_id, "production_meter_id": production_id}
                    )
                rows["meter"].append(
                    {
                        "id": meter_id,
                        "enterprise_id": enterprise_id,
                        "name": meter_name,
                        "kind": kind,
                        "rated_kw": round(rng.uniform(50, 2000), 0),
                        "mn": meter_mn,
                        "outlet_id": None,
                    }
                )
    add_manual_monitoring(rows, DEMO_DESIGN_FLOW_M3H)
    rows["positive_list_entry"] = positive_list_rows(rows["enterprise"], POSITIVE_LIST_EVERY)
    rows["contractor"] = demo_contractors(rows)
    rows["app_user"] = demo_users(city)
    rows |= demo_zoning_rows(city) | demo_emergency_lines(rows)
    return rows


def demo_contractors(rows: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The demo contractors; sets ``contractor_id`` on the analyser points
    (never the meters: a contractor runs monitoring equipment) they run.
    Drawn from the enterprise ids, not the random draws, so adding them left
    every other demo row as it was."""
    meters = {meter["mn"] for meter in rows["meter"]}
    for point in rows["monitoring_point"]:
        share = point["enterprise_id"] % DEMO_CONTRACTOR_EVERY
        runs = point["mn"] not in meters and share in {c[0] for c in DEMO_CONTRACTORS}
        point["contractor_id"] = share if runs else None
    return [{"id": cid, "name": name, "credit_code": code} for cid, name, code in DEMO_CONTRACTORS]


def demo_users(city: City) -> list[dict[str, Any]]:
    """One demo user per role (a county officer per county; the enterprise user
    of enterprise 1; a user of each demo contractor, ``contractor-1`` running
    enterprise 1's devices among others): the logins the README prints."""
    users: list[tuple[str, str, str, str, int | None, int | None]] = [
        ("admin", "演示市局管理员", "city_admin", "", None, None),
        ("supervisor", "演示市局监管人员", "city_supervisor", "", None, None),
        ("enforcer", "演示执法人员", "enforcement_officer", "", None, None),
        ("viewer", "演示只读用户", "viewer", "", None, None),
        ("enterprise-1", "演示企业用户", "enterprise_user", "", 1, None),
        ("contractor-1", "演示运维单位", "contractor", "", None, 1),
        ("contractor-2", "演示运维单位二", "contractor", "", None, 2),
    ]
    users += [
        (f"county-{county.code}", f"{county.name_zh}监管人员", "county_officer", county.code,
         None, None)
        for county in city.counties
    ]  # fmt: skip
    password_hash = demo_password_hash()
    return [
        {"username": username, "display_name": name, "role": role, "county_codes": counties,
         "enterprise_id": enterprise, "contractor_id": contractor, "email": None,
         "active": True, "password_hash": password_hash, "failed_logins": 0}
        for username, name, role, counties, enterprise, contractor in users
    ]  # fmt: skip


@cache
def demo_password_hash() -> str:
    """One hash of the demo password for every demo user (scrypt is slow on purpose)."""
    return hash_password(DEMO_PASSWORD)


_TABLES = (County, Enterprise, PositiveListEntry, Outlet, Contractor, MonitoringPoint,
           PointFactor, Permit, PermitLimit, PermitMonitoring, ManualResult, Meter, MeterLink,
           AppUser, ControlUnit, AccessClause, EmergencyLine, EmergencyLineMeter)  # fmt: skip


def seed_demo(engine: Engine, seed: int = 7, *, emergency: bool = False) -> dict[str, int]:
    """Insert the demo registry into an empty registry; the row count per table.
    With ``emergency``, also the demo's orange warning and its week of line
    readings (``demo/emergency_week.py``)."""
    with engine.connect() as connection:
        if connection.execute(select(func.count()).select_from(County)).scalar_one():
            raise DemoAlreadySeededError
    rows = demo_rows(load_city(), seed)
    with engine.begin() as connection:
        for table in _TABLES:
            name = table.__tablename__
            if rows[name]:
                connection.execute(table.__table__.insert(), rows[name])  # type: ignore[attr-defined]
        if connection.dialect.name == "postgresql":
            # The rows carry their ids: move each id sequence past them, so rows
            # added later (a meter, a user) get fresh ids.
            for table in _TABLES:
                name = table.__tablename__
                if "id" in table.__table__.c and rows[name]:
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"(SELECT max(id) FROM {name}))"
                        )
                    )
        quality = seed_quality_sites(connection)
    counts = {name: len(table_rows) for name, table_rows in rows.items()} | quality
    if emergency:
        counts["electricity_reading"] = seed_emergency_week(engine, rows)
    return counts


class DemoAlreadySeededError(Exception):
    """The registry already holds counties: the demo is not seeded twice."""
