"""The city table of enterprises by the share of their permit used (a year):
per enterprise the pollutant whose cumulative emission is the largest share
of its annual permitted total, with the rules.md §5.2 status, read in three
grouped queries (not one enterprise after another), within a scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from envwatch.permits.accounting import ACCOUNTED
from envwatch.permits.parameters import PermitParameters
from envwatch.permits.store import limit_in_force_version, newest_versions
from envwatch.permits.totals import pollutant_total, year_bounds
from envwatch.store.schema import County, Enterprise, HourlyEmission, Permit, PermitLimit

HOUR = timedelta(hours=1)
STATUS_ORDER = {"alarm": 0, "warning": 1, "ok": 2, "no_permit": 3}


def usage_rows(
    connection: Connection,
    year: int,
    visible: ColumnElement[bool],
    parameters: PermitParameters,
    now: datetime,
) -> list[dict[str, Any]]:
    """Every enterprise in ``visible`` with a permitted total or an emission in
    ``year``, the largest share first (then those without a permitted total);
    ``valid_permit`` whether it holds a permit in force at ``now`` (naive CST),
    so the enterprises emitting without one stand out (issue 14 §4)."""
    start, end = year_bounds(year)
    enterprises = {row.id: row for row in connection.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.county_code,
               County.name_zh.label("county"))
        .join(County, County.code == Enterprise.county_code).where(visible)
    )}  # fmt: skip
    kg: dict[int, dict[str, dict[str, float]]] = {}
    newest: dict[int, datetime] = {}
    for row in connection.execute(
        select(HourlyEmission.enterprise_id, HourlyEmission.pollutant, HourlyEmission.method,
               func.sum(HourlyEmission.emission_kg).label("kg"),
               func.max(HourlyEmission.hour).label("newest"))
        .where(HourlyEmission.hour >= start, HourlyEmission.hour < end,
               HourlyEmission.method.in_([str(m) for m in ACCOUNTED]))
        .group_by(HourlyEmission.enterprise_id, HourlyEmission.pollutant, HourlyEmission.method)
    ):  # fmt: skip
        if row.enterprise_id not in enterprises:
            continue
        by_method = kg.setdefault(row.enterprise_id, {}).setdefault(row.pollutant, {})
        by_method[row.method] = float(row.kg or 0.0)
        newest[row.enterprise_id] = max(newest.get(row.enterprise_id, row.newest), row.newest)
    permitted: dict[int, dict[str, float]] = {}
    for limit in connection.execute(
        select(PermitLimit.enterprise_id, PermitLimit.outlet_id, PermitLimit.pollutant,
               func.max(PermitLimit.annual_tonnes).label("tonnes"))
        .where(PermitLimit.annual_tonnes.is_not(None), PermitLimit.valid_from < end,
               PermitLimit.valid_to.is_(None) | (PermitLimit.valid_to > start),
               limit_in_force_version())
        .group_by(PermitLimit.enterprise_id, PermitLimit.outlet_id, PermitLimit.pollutant)
    ):  # fmt: skip
        if limit.enterprise_id in enterprises:
            by_code = permitted.setdefault(limit.enterprise_id, {})
            by_code[limit.pollutant] = by_code.get(limit.pollutant, 0.0) + float(limit.tonnes)
    in_force = set(connection.execute(
        select(Permit.enterprise_id).where(newest_versions(), Permit.valid_from <= now,
                                           Permit.valid_to > now)
    ).scalars())  # fmt: skip
    rows = []
    for enterprise_id in sorted(set(kg) | set(permitted)):
        until = newest.get(enterprise_id)
        codes = set(kg.get(enterprise_id, {})) | set(permitted.get(enterprise_id, {}))
        totals = [
            pollutant_total(code, kg.get(enterprise_id, {}).get(code, {}),
                            permitted.get(enterprise_id, {}).get(code), year,
                            None if until is None else until + HOUR, parameters.totals)
            for code in sorted(codes)
        ]  # fmt: skip
        top = max(totals, key=lambda t: (t.share is not None, t.share or 0.0, t.actual_t))
        enterprise = enterprises[enterprise_id]
        rows.append({
            "enterprise_id": enterprise_id, "enterprise": enterprise.name,
            "county_code": enterprise.county_code, "county": enterprise.county,
            "pollutant": top.code, "permitted_t": top.permitted_t,
            "actual_t": round(top.actual_t, 6),
            "measured_t": round(top.measured_t, 6), "substituted_t": round(top.substituted_t, 6),
            "direct_t": round(top.direct_t, 6), "manual_t": round(top.manual_t, 6),
            "share": None if top.share is None else round(top.share, 6),
            "projection_t": None if top.projection_t is None else round(top.projection_t, 6),
            "status": str(top.status),
            "pollutants": len(totals),
            "valid_permit": enterprise_id in in_force,
            "emitting_without_permit": enterprise_id not in in_force
            and any(t.actual_t > 0 for t in totals),
        })  # fmt: skip
    rows.sort(key=lambda r: (r["share"] is None, -(r["share"] or 0.0), r["enterprise_id"]))
    return rows


SORT_KEYS = ("share", "actual_t", "permitted_t", "projection_t", "enterprise", "county", "status")


def sorted_rows(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """``rows`` by ``key`` (a ``SORT_KEYS`` name), empty values last either way."""
    if key not in SORT_KEYS:
        return rows
    present = [r for r in rows if r[key] is not None]
    absent = [r for r in rows if r[key] is None]
    if key == "status":
        present.sort(key=lambda r: STATUS_ORDER.get(r["status"], 9), reverse=descending)
    else:
        present.sort(key=lambda r: r[key], reverse=descending)
    return present + absent
