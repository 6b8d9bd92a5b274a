"""Permit totals read from the store: an enterprise's year per pollutant (the
``envwatch permits emissions`` contract), its monthly totals, a device's
accounted hours, and the rules.md §5.2 warnings as findings the alert desk
turns into alerts (device ``enterprise:<id>``; one finding per enterprise,
pollutant and day: the finding table's key)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from envwatch.permits.caps import (
    CapKind,
    CapPeriod,
    CapTotal,
    cap_total,
    month_period,
    season_period,
)
from envwatch.permits.checks import Check, PermitSpan, validity_checks
from envwatch.permits.parameters import PermitParameters
from envwatch.permits.store import current_permits, limit_in_force_version
from envwatch.permits.totals import (
    KG_PER_TONNE,
    PollutantTotal,
    Status,
    pollutant_total,
    year_bounds,
)
from envwatch.processing.worker import store_findings
from envwatch.rules.model import Finding, Severity
from envwatch.store.schema import EmissionMonth, FindingRecord, HourlyEmission, PermitLimit

HOUR = timedelta(hours=1)
RULE = "permit_total"
RULE_VERSION = 1


def enterprise_device(enterprise_id: int) -> str:
    """The pseudo-device of an enterprise's findings (``alerts/desk.py`` ``owner_of``)."""
    return f"enterprise:{enterprise_id}"


def permitted_tonnes(connection: Connection, enterprise_id: int, year: int) -> dict[str, float]:
    """The annual permitted totals [t] by pollutant: per outlet the largest
    annual total of the limits in force in the year (a national and a permit
    row of one outlet are not added), summed over outlets."""
    start, end = year_bounds(year)
    rows = connection.execute(
        select(PermitLimit.outlet_id, PermitLimit.pollutant,
               func.max(PermitLimit.annual_tonnes).label("tonnes"))
        .where(PermitLimit.enterprise_id == enterprise_id, PermitLimit.annual_tonnes.is_not(None),
               PermitLimit.valid_from < end,
               PermitLimit.valid_to.is_(None) | (PermitLimit.valid_to > start),
               limit_in_force_version())
        .group_by(PermitLimit.outlet_id, PermitLimit.pollutant)
    ).all()  # fmt: skip
    totals: dict[str, float] = {}
    for row in rows:
        totals[row.pollutant] = totals.get(row.pollutant, 0.0) + float(row.tonnes)
    return totals


def year_totals(
    connection: Connection, enterprise_id: int, year: int, parameters: PermitParameters
) -> list[PollutantTotal]:
    """The enterprise's pollutants of ``year`` (those permitted or accounted)."""
    start, end = year_bounds(year)
    # The monthly totals (permits/rollup.py): the hours' sums, a year in a few hundred rows.
    months = connection.execute(
        select(EmissionMonth.pollutant, EmissionMonth.method, EmissionMonth.emission_kg,
               EmissionMonth.newest)
        .where(EmissionMonth.enterprise_id == enterprise_id,
               EmissionMonth.month >= start, EmissionMonth.month < end)
    ).all()  # fmt: skip
    kgs: dict[str, dict[str, list[float]]] = {}
    newest: datetime | None = None
    for row in months:
        parts = kgs.setdefault(row.pollutant, {}).setdefault(row.method, [])
        if row.emission_kg is not None:
            parts.append(row.emission_kg)
        newest = row.newest if newest is None else max(newest, row.newest)
    by_pollutant = {
        code: {method: math.fsum(parts) for method, parts in methods.items()}
        for code, methods in kgs.items()
    }
    permitted = permitted_tonnes(connection, enterprise_id, year)
    until = None if newest is None else newest + HOUR
    return [
        pollutant_total(
            code, by_pollutant.get(code, {}), permitted.get(code), year, until, parameters.totals
        )
        for code in sorted(set(by_pollutant) | set(permitted))
    ]


def emissions_json(enterprise_id: int, year: int, totals: list[PollutantTotal]) -> dict[str, Any]:
    """The ``envwatch permits emissions --json`` contract."""
    return {
        "enterprise": enterprise_id,
        "year": year,
        "pollutants": [{**asdict(total), "status": str(total.status)} for total in totals],
    }


def monthly_totals(
    connection: Connection, enterprise_id: int, year: int
) -> dict[str, list[dict[str, float]]]:
    """By pollutant, twelve months of accounted tonnes by method."""
    start, end = year_bounds(year)
    rows = connection.execute(
        select(HourlyEmission.pollutant, HourlyEmission.method, HourlyEmission.hour,
               HourlyEmission.emission_kg)
        .where(HourlyEmission.enterprise_id == enterprise_id, HourlyEmission.hour >= start,
               HourlyEmission.hour < end, HourlyEmission.emission_kg.is_not(None))
    )  # fmt: skip
    months: dict[str, list[dict[str, float]]] = {}
    for row in rows:
        month = months.setdefault(row.pollutant, [{} for _ in range(12)])[row.hour.month - 1]
        month[row.method] = month.get(row.method, 0.0) + row.emission_kg / KG_PER_TONNE
    return months


def hours_json(
    connection: Connection, mn: str, since: datetime, until: datetime
) -> Iterator[dict[str, Any]]:
    """The ``envwatch permits hours --json`` contract: one device's accounted hours."""
    rows = connection.execute(
        select(HourlyEmission)
        .where(HourlyEmission.mn == mn, HourlyEmission.hour >= since, HourlyEmission.hour < until)
        .order_by(HourlyEmission.hour, HourlyEmission.pollutant)
    )  # fmt: skip
    for row in rows:
        yield {
            "mn": row.mn, "pollutant": row.pollutant, "hour": row.hour.isoformat(),
            "concentration": row.concentration, "flow": row.flow_m3,
            "emission_kg": row.emission_kg, "method": row.method, "rule": row.rule,
        }  # fmt: skip


def total_findings(
    enterprise_id: int, day: datetime, totals: list[PollutantTotal], parameters: PermitParameters
) -> list[Finding]:
    """The warnings and alarms of ``totals`` on ``day`` (00:00 China Standard Time)."""
    found = []
    for total in totals:
        if total.status not in (Status.WARNING, Status.ALARM):
            continue
        assert total.share is not None and total.permitted_t is not None
        projected = "—" if total.projection_t is None else f"{total.projection_t:.3f}"
        word = "报警" if total.status is Status.ALARM else "预警"
        found.append(Finding(
            enterprise_device(enterprise_id), total.code, RULE, RULE_VERSION, day,
            day + timedelta(days=1),
            Severity.ALARM if total.status is Status.ALARM else Severity.WARNING,
            f"排放总量{word}：{total.code} 本年累计 {total.actual_t:.3f} t，占年许可排放量 "
            f"{total.permitted_t:.3f} t 的 {total.share:.1%}，线性预测全年 {projected} t",
            {**asdict(total), "status": str(total.status),
             "thresholds": parameters.totals.model_dump(), "version": parameters.version},
        ))  # fmt: skip
    return found


def store_total_findings(
    connection: Connection, enterprise_id: int, day: datetime, parameters: PermitParameters
) -> int:
    """Judge the enterprise's year to ``day`` and store its findings (once a
    day), and its monthly and seasonal caps (once a period and level)."""
    totals = year_totals(connection, enterprise_id, day.year, parameters)
    found = total_findings(enterprise_id, day, totals, parameters)
    caps = cap_totals(connection, enterprise_id, day, parameters)
    found += new_cap_findings(connection, cap_findings(enterprise_id, day, caps, parameters))
    return store_findings(connection, found, parameters.version)


CAP_RULES = {CapKind.MONTH: "permit_month_cap", CapKind.SEASON: "permit_season_cap"}
"""The rules of the caps' findings: one each per enterprise, pollutant, period and level."""


def cap_totals(
    connection: Connection, enterprise_id: int, day: datetime, parameters: PermitParameters
) -> list[CapTotal]:
    """The enterprise's monthly and seasonal caps in force on ``day``: per
    pollutant and period the caps of its outlets added (per outlet the largest
    of its limits in force), against the period's accounted emission so far."""
    periods: dict[tuple[str, CapPeriod], float] = {}
    month = month_period(day)
    for row in connection.execute(
        select(PermitLimit.outlet_id, PermitLimit.pollutant, PermitLimit.season_from,
               PermitLimit.season_to, func.max(PermitLimit.monthly_tonnes).label("monthly"),
               func.max(PermitLimit.seasonal_tonnes).label("seasonal"))
        .where(PermitLimit.enterprise_id == enterprise_id,
               PermitLimit.monthly_tonnes.is_not(None) | PermitLimit.seasonal_tonnes.is_not(None),
               PermitLimit.valid_from <= day,
               PermitLimit.valid_to.is_(None) | (PermitLimit.valid_to > day),
               limit_in_force_version())
        .group_by(PermitLimit.outlet_id, PermitLimit.pollutant, PermitLimit.season_from,
                  PermitLimit.season_to)
    ):  # fmt: skip
        if row.monthly is not None and row.monthly > 0:
            key = (row.pollutant, month)
            periods[key] = periods.get(key, 0.0) + float(row.monthly)
        if row.seasonal is not None and row.seasonal > 0 and row.season_from and row.season_to:
            season = season_period(day, row.season_from, row.season_to)
            if season is not None:
                key = (row.pollutant, season)
                periods[key] = periods.get(key, 0.0) + float(row.seasonal)
    found = []
    for (code, period), cap in sorted(periods.items(), key=lambda p: (p[0][0], p[0][1].kind)):
        sums = connection.execute(
            select(HourlyEmission.method, func.sum(HourlyEmission.emission_kg).label("kg"),
                   func.max(HourlyEmission.hour).label("newest"))
            .where(HourlyEmission.enterprise_id == enterprise_id,
                   HourlyEmission.pollutant == code,
                   HourlyEmission.hour >= period.start, HourlyEmission.hour < period.end)
            .group_by(HourlyEmission.method)
        ).all()  # fmt: skip
        newest = max((row.newest for row in sums), default=None)
        found.append(cap_total(
            code, period, cap, {row.method: float(row.kg or 0.0) for row in sums},
            None if newest is None else newest + HOUR, parameters.totals,
        ))  # fmt: skip
    return found


def cap_json(caps: list[CapTotal]) -> list[dict[str, Any]]:
    """The caps as JSON types (the emissions API and page)."""
    return [{
        "code": cap.code, "kind": str(cap.period.kind), "period": cap.period.label,
        "start": cap.period.start.isoformat(), "end": cap.period.end.isoformat(),
        "cap_t": cap.cap_t, "actual_t": round(cap.actual_t, 6), "share": round(cap.share, 6),
        "projection_t": None if cap.projection_t is None else round(cap.projection_t, 6),
        "status": str(cap.status),
    } for cap in caps]  # fmt: skip


def cap_findings(
    enterprise_id: int, day: datetime, caps: list[CapTotal], parameters: PermitParameters
) -> list[Finding]:
    """The warnings and alarms of ``caps`` judged on ``day`` (00:00 China
    Standard Time): the window from ``day`` to the period's end."""
    found = []
    for cap in caps:
        if cap.status not in (Status.WARNING, Status.ALARM):
            continue
        alarm = cap.status is Status.ALARM
        what = "月许可排放量" if cap.period.kind is CapKind.MONTH else "时段许可排放量"
        projected = "—" if cap.projection_t is None else f"{cap.projection_t:.3f}"
        found.append(Finding(
            enterprise_device(enterprise_id), cap.code, CAP_RULES[cap.period.kind],
            RULE_VERSION, day, cap.period.end,
            Severity.ALARM if alarm else Severity.WARNING,
            f"排放总量{'报警' if alarm else '预警'}：{cap.code} {cap.period.label} 累计 "
            f"{cap.actual_t:.3f} t，占{what} {cap.cap_t:.3f} t 的 {cap.share:.1%}，"
            f"线性预测至期末 {projected} t",
            {"code": cap.code, "kind": str(cap.period.kind), "period": cap.period.label,
             "period_start": cap.period.start.isoformat(),
             "period_end": cap.period.end.isoformat(), "cap_t": cap.cap_t,
             "actual_t": cap.actual_t, "share": cap.share, "projection_t": cap.projection_t,
             "status": str(cap.status), "thresholds": parameters.totals.model_dump(),
             "version": parameters.version},
        ))  # fmt: skip
    return found


def new_cap_findings(connection: Connection, findings: list[Finding]) -> list[Finding]:
    """``findings`` less those whose enterprise, pollutant, period and level
    already has a finding (at most one each: the first day it was reached)."""
    fresh = []
    for finding in findings:
        period_start = datetime.fromisoformat(finding.evidence["period_start"])
        known = connection.execute(
            select(FindingRecord.id).where(
                FindingRecord.rule == finding.rule, FindingRecord.mn == finding.mn,
                FindingRecord.pollutant == finding.pollutant,
                FindingRecord.severity == str(finding.severity),
                FindingRecord.window_start >= period_start,
                FindingRecord.window_end == finding.window_end,
            ).limit(1)
        ).first()  # fmt: skip
        if known is None:
            fresh.append(finding)
    return fresh


def permit_checks(
    connection: Connection,
    enterprise_id: int,
    now: datetime,
    totals: list[PollutantTotal],
    parameters: PermitParameters,
) -> list[Check]:
    """The enterprise's permit validity checks at ``now``: its permits' newest
    versions, and whether it emits (anything accounted in ``totals``)."""
    spans = [PermitSpan(row.number, row.valid_from, row.valid_to)
             for row in current_permits(connection, enterprise_id)]  # fmt: skip
    emitting = any(total.actual_t > 0 for total in totals)
    return validity_checks(spans, now, emitting=emitting,
                           expiring_days=parameters.checks.expiring_days)  # fmt: skip
