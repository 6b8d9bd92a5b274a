"""Analysis (分析研判), the store's edge: each measure's facts read from what
the other parts keep (alerts, findings, cases, hourly emissions, complaints,
problems, air and water days), then sliced by ``analysis``. One entry point,
``analyse``, answers the API, the page and the CLI; ``drill`` lists the rows
behind a cell."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.judgement.analysis import (
    GRAINS,
    AnalysisError,
    Fact,
    Period,
    dimensions,
    period_of,
    rows_of,
    slice_facts,
)
from envwatch.judgement.core import load_parameters
from envwatch.store.schema import (
    AirStation,
    Alert,
    Complaint,
    County,
    EnforcementCase,
    Enterprise,
    FindingRecord,
    HourlyEmission,
    MonitoringPoint,
    QualityDay,
    RectificationProblem,
    WaterSection,
)

Reader = Callable[[Connection, date, date, "Context"], list[Fact]]


@dataclass(frozen=True)
class Context:
    """What every reader needs: enterprises' county and industry, zones' hosts."""

    enterprises: Mapping[int, tuple[str, str]]
    devices: Mapping[str, int]
    hosts: Mapping[str, str]


@dataclass(frozen=True)
class Measure:
    name: str
    zh: str
    en: str
    aggregate: str  # sum / mean / rate
    unit: str
    read: Reader
    drill: str  # what a cell's rows are: alerts, findings, cases, ...


def context(connection: Connection) -> Context:
    enterprises = {
        r.id: (r.county_code, r.industry_code or "")
        for r in connection.execute(
            select(Enterprise.id, Enterprise.county_code, Enterprise.industry_code)
        )
    }
    devices = {
        r.mn: r.enterprise_id
        for r in connection.execute(select(MonitoringPoint.mn, MonitoringPoint.enterprise_id))
        if r.enterprise_id is not None
    }
    hosts = {
        r.code: r.host_code
        for r in connection.execute(select(County.code, County.host_code))
        if r.host_code
    }
    return Context(enterprises, devices, hosts)


def _utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time.min, CHINA_STANDARD_TIME).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, CHINA_STANDARD_TIME)
    return start, end.astimezone(UTC)


def _cst_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA_STANDARD_TIME).date()


def _enterprise_fact(
    ctx: Context, day: date, enterprise: int | None, county: str | None, *,
    pollutant: str | None, kind: str | None, total: float, n: float = 1.0,
) -> Fact:  # fmt: skip
    known = ctx.enterprises.get(enterprise) if enterprise is not None else None
    return Fact(day, county or (known[0] if known else None), known[1] if known else None,
                enterprise, pollutant or None, kind, total, n)  # fmt: skip


def read_alerts(connection: Connection, first: date, last: date, ctx: Context) -> list[Fact]:
    start, end = _utc_bounds(first, last)
    rows = connection.execute(
        select(Alert.opened_at, Alert.enterprise_id, Alert.county_code, Alert.pollutant,
               Alert.rule, Alert.level)
        .where(Alert.opened_at >= start, Alert.opened_at < end, Alert.merged_into.is_(None))
    )  # fmt: skip
    return [_enterprise_fact(ctx, _cst_day(r.opened_at), r.enterprise_id, r.county_code,
                             pollutant=r.pollutant, kind=f"{r.rule}:{r.level}", total=1.0)
            for r in rows]  # fmt: skip


def read_on_time(connection: Connection, first: date, last: date, ctx: Context) -> list[Fact]:
    start, end = _utc_bounds(first, last)
    rows = connection.execute(
        select(Alert.opened_at, Alert.enterprise_id, Alert.county_code, Alert.pollutant,
               Alert.rule, Alert.handle_by, Alert.handled_at)
        .where(Alert.opened_at >= start, Alert.opened_at < end, Alert.merged_into.is_(None),
               Alert.handle_by.is_not(None))
    )  # fmt: skip
    out = []
    for r in rows:
        handled = r.handled_at is not None and _aware(r.handled_at) <= _aware(r.handle_by)
        out.append(_enterprise_fact(ctx, _cst_day(r.opened_at), r.enterprise_id, r.county_code,
                                    pollutant=r.pollutant, kind=r.rule,
                                    total=1.0 if handled else 0.0))  # fmt: skip
    return out


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _findings(rules: Sequence[str] | None) -> Reader:
    def read(connection: Connection, first: date, last: date, ctx: Context) -> list[Fact]:
        query = select(FindingRecord.window_start, FindingRecord.mn, FindingRecord.pollutant,
                       FindingRecord.rule).where(
            FindingRecord.window_start >= datetime.combine(first, time.min),
            FindingRecord.window_start < datetime.combine(last + timedelta(days=1), time.min),
        )  # fmt: skip
        if rules is not None:
            query = query.where(FindingRecord.rule.in_(list(rules)))
        return [_enterprise_fact(ctx, r.window_start.date(), ctx.devices.get(r.mn), None,
                                 pollutant=r.pollutant, kind=r.rule, total=1.0)
                for r in connection.execute(query)]  # fmt: skip

    return read


def read_cases(connection: Connection, first: date, last: date, ctx: Context) -> list[Fact]:
    start, end = _utc_bounds(first, last)
    rows = connection.execute(
        select(EnforcementCase.opened_at, EnforcementCase.enterprise_id, EnforcementCase.kind,
               EnforcementCase.penalty_reference)
        .where(EnforcementCase.opened_at >= start, EnforcementCase.opened_at < end)
    )  # fmt: skip
    return [_enterprise_fact(ctx, _cst_day(r.opened_at), r.enterprise_id, None, pollutant=None,
                             kind="penalty" if r.penalty_reference else r.kind, total=1.0)
            for r in rows]  # fmt: skip


def read_emissions(connection: Connection, first: date, last: date, ctx: Context) -> list[Fact]:
    day = func.date(HourlyEmission.hour)
    rows = connection.execute(
        select(day, HourlyEmission.enterprise_id, HourlyEmission.pollutant,
               func.sum(HourlyEmission.emission_kg))
        .where(HourlyEmission.hour >= datetime.combine(first, time.min),
               HourlyEmission.hour < datetime.combine(last + timedelta(days=1), time.min),
               HourlyEmission.emission_kg.is_not(None))
        .group_by(day, HourlyEmission.enterprise_id, HourlyEmission.pollutant)
    )  # fmt: skip
    out = []
    for r in rows:
        when = r[0] if isinstance(r[0], date) else date.fromisoformat(str(r[0]))
        out.append(_enterprise_fact(ctx, when, r[1], None, pollutant=r[2], kind=None,
                                    total=float(r[3] or 0.0)))  # fmt: skip
    return out


def read_complaints(connection: Connection, first: date, last: date, ctx: Context) -> list[Fact]:
    rows = connection.execute(
        select(Complaint.received_at, Complaint.county_code, Complaint.category)
        .where(Complaint.received_at >= datetime.combine(first, time.min),
               Complaint.received_at < datetime.combine(last + timedelta(days=1), time.min))
    )  # fmt: skip
    return [Fact(r.received_at.date(), r.county_code, None, None, None, r.category, 1.0)
            for r in rows]  # fmt: skip


def read_rectification(connection: Connection, first: date, last: date, ctx: Context) -> list[Fact]:
    """Problems due in the period: closed (1) or not (0), by their deadline's day."""
    rows = connection.execute(
        select(RectificationProblem.deadline, RectificationProblem.county_code,
               RectificationProblem.enterprise_id, RectificationProblem.category,
               RectificationProblem.state)
        .where(RectificationProblem.deadline >= datetime.combine(first, time.min),
               RectificationProblem.deadline < datetime.combine(last + timedelta(days=1),
                                                                time.min))
    )  # fmt: skip
    return [_enterprise_fact(ctx, r.deadline.date(), r.enterprise_id, r.county_code,
                             pollutant=None, kind=r.category,
                             total=1.0 if r.state == "closed" else 0.0) for r in rows]  # fmt: skip


def _quality(kind: str) -> Reader:
    def read(connection: Connection, first: date, last: date, ctx: Context) -> list[Fact]:
        table = AirStation if kind == "air" else WaterSection
        sites = {r[0]: r[1] for r in connection.execute(select(table.code, table.county_code))}
        rows = connection.execute(
            select(QualityDay.site, QualityDay.day, QualityDay.figures)
            .where(QualityDay.kind == kind, QualityDay.day >= first, QualityDay.day <= last)
        )  # fmt: skip
        out = []
        for site, day, figures in rows:
            for item, number in figures.items():
                if number is None or not isinstance(number, int | float):
                    continue
                out.append(Fact(day, sites.get(site), None, None, item, site, float(number)))
        return out

    return read


MEASURES: dict[str, Measure] = {
    m.name: m for m in (
        Measure("alerts", "预警数", "Alerts", "sum", "条", read_alerts, "alerts"),
        Measure("alerts_on_time", "预警按时处置率", "Alerts handled on time", "rate", "",
                read_on_time, "alerts"),
        Measure("exceedance", "超标小时数", "Exceedance hours", "sum", "h",
                _findings(("exceedance", "daily_exceedance")), "findings"),
        Measure("offline", "离线次数", "Offline episodes", "sum", "次",
                _findings(("offline",)), "findings"),
        Measure("cases", "执法案件数", "Enforcement cases", "sum", "件", read_cases, "cases"),
        Measure("emissions", "排放量", "Emissions", "sum", "kg", read_emissions, "emissions"),
        Measure("complaints", "投诉数", "Complaints", "sum", "件", read_complaints, "complaints"),
        Measure("rectification", "整改到期销号率", "Rectification closed when due", "rate", "",
                read_rectification, "problems"),
        Measure("air", "空气质量浓度", "Air quality (daily mean)", "mean", "µg/m³",
                _quality("air"), "quality"),
        Measure("water", "水质浓度", "Water quality (daily mean)", "mean", "mg/L",
                _quality("water"), "quality"),
    )
}  # fmt: skip


def _falsification_rules() -> tuple[str, ...]:
    return tuple(load_parameters().sources.get("fraud_rules", ()))


MEASURES["falsification"] = Measure(
    "falsification", "弄虚作假发现数", "Falsification findings", "sum", "条",
    _findings(_falsification_rules()), "findings")  # fmt: skip


def measure_of(name: str) -> Measure:
    measure = MEASURES.get(name)
    if measure is None:
        raise AnalysisError("unknown_measure", f"unknown measure {name!r} (known: "
                            f"{', '.join(MEASURES)})", f"未知指标：{name}")  # fmt: skip
    return measure


def analyse(
    connection: Connection,
    measure_name: str,
    by_text: str,
    period_text: str,
    *,
    filters: Mapping[str, str] | None = None,
    zones: str = "apart",
    top: int | None = None,
    counties: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One slice: the measure's value per group of ``by`` over the period,
    with the previous period (mom) and the year before (yoy). ``zones``:
    ``apart`` (development zones as their own units) or ``host`` (counted
    with the district they lie in). ``counties``: the viewer's (None: all)."""
    measure = measure_of(measure_name)
    by = dimensions(by_text)
    period = period_of(period_text)
    previous, earlier = period.shifted("mom"), period.shifted("yoy")
    ctx = context(connection)
    first = min(period.first, previous.first, earlier.first)
    facts = measure.read(connection, first, period.last, ctx)
    facts = [_zoned(f, ctx, zones) for f in facts]
    if counties is not None:
        allowed = set(counties)
        facts = [f for f in facts if f.county in allowed]
    chosen = dict(filters or {})

    def within(p: Period) -> list[Fact]:
        return [f for f in facts if p.first <= f.day <= p.last]

    current = slice_facts(within(period), by, measure.aggregate, chosen)
    if any(d in GRAINS for d in by):
        everything = slice_facts(facts, by, measure.aggregate, chosen)
        before, year_before = everything, everything
    else:
        before = slice_facts(within(previous), by, measure.aggregate, chosen)
        year_before = slice_facts(within(earlier), by, measure.aggregate, chosen)
    rows = rows_of(current, before, year_before, by, top=top)
    names = _names(connection)
    for row in rows:
        if "county" in row:
            row["county_name"] = names["county"].get(str(row["county"]), "")
        if "enterprise" in row:
            row["enterprise_name"] = names["enterprise"].get(str(row["enterprise"]), "")
    total = slice_facts(within(period), (), measure.aggregate, chosen).get(())
    return {"measure": measure.name, "measure_zh": measure.zh, "unit": measure.unit,
            "aggregate": measure.aggregate, "by": list(by), "period": period.text,
            "previous_period": previous.text, "year_earlier_period": earlier.text,
            "zones": zones, "filters": chosen, "total": total, "rows": rows,
            "count": len(rows)}  # fmt: skip


def _zoned(fact: Fact, ctx: Context, zones: str) -> Fact:
    host = ctx.hosts.get(fact.county or "")
    if zones == "host" and host is not None:
        return Fact(fact.day, host, fact.industry, fact.enterprise,
                    fact.pollutant, fact.kind, fact.total, fact.n)  # fmt: skip
    return fact


def _names(connection: Connection) -> dict[str, dict[str, str]]:
    return {
        "county": {r[0]: r[1] for r in connection.execute(select(County.code, County.name_zh))},
        "enterprise": {str(r[0]): r[1]
                       for r in connection.execute(select(Enterprise.id, Enterprise.name))},
    }  # fmt: skip


def drill(
    connection: Connection,
    measure_name: str,
    period_text: str,
    filters: Mapping[str, str],
    *,
    zones: str = "apart",
    counties: Sequence[str] | None = None,
    limit: int = 500,
) -> dict[str, Any]:
    """The underlying facts of one cell (its filters), each with its day and
    dimensions: the list a person checks a figure against."""
    measure = measure_of(measure_name)
    period = period_of(period_text)
    ctx = context(connection)
    facts = [_zoned(f, ctx, zones) for f in measure.read(connection, period.first, period.last,
                                                          ctx)]  # fmt: skip
    if counties is not None:
        facts = [f for f in facts if f.county in set(counties)]
    time_filters = {k: v for k, v in filters.items() if k in GRAINS}
    plain = {k: v for k, v in filters.items() if k not in GRAINS}
    chosen = []
    for fact in facts:
        if any(str(getattr(fact, k) or "") != v for k, v in plain.items()):
            continue
        if any(period_of(v).first > fact.day or period_of(v).last < fact.day
               for v in time_filters.values()):  # fmt: skip
            continue
        chosen.append(fact)
    names = _names(connection)
    rows = [{"day": f.day.isoformat(), "county": f.county,
             "county_name": names["county"].get(f.county or "", ""), "industry": f.industry,
             "enterprise": f.enterprise,
             "enterprise_name": names["enterprise"].get(str(f.enterprise), ""),
             "pollutant": f.pollutant, "kind": f.kind, "value": f.total}
            for f in sorted(chosen, key=lambda f: (f.day, f.county or ""))[:limit]]  # fmt: skip
    return {"measure": measure.name, "period": period.text, "filters": dict(filters),
            "rows": rows, "count": len(chosen), "shown": len(rows),
            "drill": measure.drill}  # fmt: skip
