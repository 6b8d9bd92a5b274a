"""Emergency lists (应急减排清单): each enterprise's production lines with their
meters and the measure at each warning level, in versions per season; and the
daily compliance report during a warning (I/O around the pure
``electricity/emergency.py``).

Lines come from CSV/XLSX with the registry import's row-level errors, all or
nothing; a file replaces every line of each (enterprise, season) it names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, NamedTuple

from pydantic import Field, field_validator, model_validator
from sqlalchemy import Connection, delete, insert, select, true

from envwatch.alerts.scope import Viewer, scope_by
from envwatch.electricity.emergency import (
    ComplianceParams,
    LineVerdict,
    Measure,
    assess,
    hourly_energy,
    judge_line,
    line_energy,
    parse_measure,
    warning_hours,
)
from envwatch.registry.importing import RowError, _Row, read_table, validate_rows
from envwatch.rules.catalogue.electricity import EmergencyConsumptionParams, TreatmentOffParams
from envwatch.rules.engine import default_rule_set
from envwatch.store.schema import (
    County,
    ElectricityReading,
    EmergencyLine,
    EmergencyLineMeter,
    EmergencyPeriod,
    Enterprise,
    HourlyEmission,
    Meter,
    Notification,
    NotificationTarget,
)

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2199, 12, 31)
"""The days a compliance report may be asked for (beyond them, no warnings)."""
LEVEL_COLUMNS = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}


class LineRow(_Row):
    credit_code: str = Field(alias="统一社会信用代码")
    season: str = Field(alias="版本", pattern=r"^\d{4}-\d{4}$")
    """The list's season, e.g. 2026-2027 (autumn and winter)."""
    valid_from: date = Field(alias="生效日期")
    valid_until: date = Field(alias="失效日期")
    name: str = Field(alias="生产线", min_length=1, max_length=100)
    process: str = Field(default="", alias="工序", max_length=100)
    meters: str = Field(alias="电表", min_length=1, max_length=500)
    """The line's production meters by name, comma-separated."""
    blue: str = Field(default="", alias="蓝色")
    yellow: str = Field(default="", alias="黄色")
    orange: str = Field(default="", alias="橙色")
    red: str = Field(default="", alias="红色")

    @field_validator("blue", "yellow", "orange", "red")
    @classmethod
    def _measure(cls, value: str) -> str:
        measure = parse_measure(value)
        return measure.text if measure is not None else ""

    @model_validator(mode="after")
    def _period(self) -> LineRow:
        if self.valid_until <= self.valid_from:
            raise ValueError("失效日期 must be after 生效日期")
        return self

    @property
    def meter_names(self) -> list[str]:
        return [m.strip() for m in self.meters.replace("，", ",").split(",") if m.strip()]

    @property
    def measures(self) -> dict[str, str]:
        return {level: getattr(self, level) for level in LEVEL_COLUMNS if getattr(self, level)}


def import_lines(connection: Connection, name: str, content: bytes) -> tuple[int, list[RowError]]:
    """Store the lines of a CSV/XLSX file: (how many, []) or, with any problem,
    (0, every problem) and nothing stored. Raises ``ImportFileError`` when the
    file is not a table at all."""
    rows = read_table(name, content)
    parsed: list[tuple[int, LineRow]] = []
    errors: list[RowError] = []
    for number, record in enumerate(rows, start=2):
        one, problems = validate_rows(LineRow, [record], first_row=number)
        parsed += [(number, row) for row in one]
        errors += problems
    enterprises = dict(connection.execute(select(Enterprise.credit_code, Enterprise.id)).all())
    meters: dict[tuple[int, str], int] = {
        (row.enterprise_id, row.name): row.id
        for row in connection.execute(
            select(Meter.id, Meter.enterprise_id, Meter.name).where(Meter.kind == "production")
        )
    }
    seen: dict[tuple[str, str, str], int] = {}
    for number, row in parsed:
        enterprise = enterprises.get(row.credit_code)
        if enterprise is None:
            unknown = f"no enterprise with credit code {row.credit_code!r}"
            errors.append(RowError(number, "统一社会信用代码", unknown))
            continue
        for meter in row.meter_names:
            if (enterprise, meter) not in meters:
                unknown = f"the enterprise has no production meter {meter!r}"
                errors.append(RowError(number, "电表", unknown))
        key = (row.credit_code, row.season, row.name)
        if key in seen:
            errors.append(
                RowError(number, "生产线", f"line {row.name!r} is already row {seen[key]}")
            )
        seen.setdefault(key, number)
    if errors:
        errors.sort(key=lambda e: e.row)
        return 0, errors
    for credit_code, season in {(row.credit_code, row.season) for _, row in parsed}:
        old = select(EmergencyLine.id).where(
            EmergencyLine.enterprise_id == enterprises[credit_code], EmergencyLine.season == season
        )
        connection.execute(delete(EmergencyLineMeter).where(EmergencyLineMeter.line_id.in_(old)))
        connection.execute(
            delete(EmergencyLine).where(
                EmergencyLine.enterprise_id == enterprises[credit_code],
                EmergencyLine.season == season,
            )
        )
    table = EmergencyLine.__table__
    for _, row in parsed:
        enterprise = enterprises[row.credit_code]
        line_id = connection.execute(
            table.insert().returning(table.c.id),  # type: ignore[attr-defined]
            {"enterprise_id": enterprise, "season": row.season, "valid_from": row.valid_from,
             "valid_until": row.valid_until, "name": row.name, "process": row.process,
             "measures": row.measures},
        ).scalar_one()  # fmt: skip
        connection.execute(
            EmergencyLineMeter.__table__.insert(),  # type: ignore[attr-defined]
            [{"line_id": line_id, "meter_id": meters[(enterprise, m)]} for m in row.meter_names],
        )
    return len(parsed), []


def compliance_params() -> ComplianceParams:
    """The parameters of the electricity rules (``rules/rules.toml``)."""
    rules = default_rule_set()
    consumption = rules.for_point("emergency_consumption")
    running = rules.for_point("treatment_off")
    assert isinstance(consumption, EmergencyConsumptionParams)
    assert isinstance(running, TreatmentOffParams)
    return ComplianceParams(
        production_on_share=running.production_on_share,
        tolerance=consumption.tolerance,
        baseline_days=consumption.baseline_days,
        min_baseline_days=consumption.min_baseline_days,
        max_gap_minutes=consumption.max_gap_minutes,
    )


@dataclass(frozen=True, slots=True)
class LineCompliance:
    enterprise_id: int
    enterprise: str
    county_code: str
    grade: str
    line: str
    level: str
    required: Measure | None
    verdict: LineVerdict
    period_id: int = 0
    """The warning period judged."""

    def as_json(self) -> dict[str, Any]:
        """The ``envwatch emergency compliance --json`` line."""
        return {
            "enterprise": self.enterprise,
            "county": self.county_code,
            "grade": self.grade,
            "line": self.line,
            "level": self.level,
            "required": self.required.text if self.required else "none",
            "measured": self.verdict.measured_kwh,
            "baseline": self.verdict.baseline_kwh,
            "status": self.verdict.status,
            "evidence": self.verdict.evidence,
        }


def _covers(period_county: str | None, county: str, hosts: dict[str, str | None]) -> bool:
    # The city's warning covers every county; a county's also the zones it hosts.
    return period_county is None or period_county in (county, hosts.get(county))


class _WarningWindow(NamedTuple):
    start: datetime
    end: datetime
    lookback: datetime
    periods: Sequence[Any]  # rows of (id, level, starts_at, ends_at, county_code)
    hosts: dict[str, str | None]


def _warning_window(connection: Connection, day: date, baseline_days: int) -> _WarningWindow | None:
    """``day``'s bounds, the warning periods from far enough back for the
    baseline days before it, and the counties' host zones; ``None`` when no
    warning is in force on ``day`` (nothing to judge)."""
    start = datetime.combine(day, datetime.min.time())
    end = start + timedelta(days=1)
    lookback = start - timedelta(days=baseline_days * 3 + 1)
    periods = connection.execute(
        select(EmergencyPeriod.id, EmergencyPeriod.level, EmergencyPeriod.starts_at,
               EmergencyPeriod.ends_at, EmergencyPeriod.county_code)
        .where(EmergencyPeriod.ends_at > lookback, EmergencyPeriod.starts_at < end)
        .order_by(EmergencyPeriod.starts_at)
    ).all()  # fmt: skip
    if not any(p.starts_at < end and p.ends_at > start for p in periods):
        return None
    hosts: dict[str, str | None] = dict(
        connection.execute(select(County.code, County.host_code)).all()
    )
    return _WarningWindow(start, end, lookback, periods, hosts)


def daily_compliance(
    connection: Connection, day: date, viewer: Viewer | None = None
) -> list[LineCompliance]:
    """Each listed line of each enterprise (in ``viewer``'s scope) under a
    warning on ``day``, judged (one row per line and warning period), by
    county, enterprise and line."""
    if not FIRST_DAY <= day <= LAST_DAY:
        return []
    params = compliance_params()
    window = _warning_window(connection, day, params.baseline_days)
    if window is None:
        return []
    start, end, lookback, periods, hosts = window
    where = scope_by(viewer, Enterprise.county_code, Enterprise.id) if viewer else true()
    lines_query = (
        select(EmergencyLine.id, EmergencyLine.name, EmergencyLine.measures,
               EmergencyLine.valid_from, EmergencyLine.enterprise_id, Enterprise.name.label("firm"),
               Enterprise.county_code, Enterprise.performance_grade, Enterprise.emergency_exempt)
        .join(Enterprise, EmergencyLine.enterprise_id == Enterprise.id)
        .where(where, EmergencyLine.valid_from <= day, EmergencyLine.valid_until > day)
        .order_by(Enterprise.county_code, Enterprise.name, EmergencyLine.name, EmergencyLine.id)
    )  # fmt: skip
    lines = connection.execute(lines_query).all()
    # A newer season's version of a list supersedes an older one still in force.
    newest: dict[int, date] = {}
    for line in lines:
        newest[line.enterprise_id] = max(newest.get(line.enterprise_id, line.valid_from),
                                         line.valid_from)  # fmt: skip
    lines = [line for line in lines if line.valid_from == newest[line.enterprise_id]]
    line_meters: dict[int, list[int]] = defaultdict(list)
    rated: dict[int, float | None] = {}
    for row in connection.execute(
        select(EmergencyLineMeter.line_id, Meter.id, Meter.rated_kw)
        .join(Meter, EmergencyLineMeter.meter_id == Meter.id)
        .where(EmergencyLineMeter.line_id.in_([line.id for line in lines]))
    ):
        line_meters[row.line_id].append(row.id)
        rated[row.id] = row.rated_kw
    readings: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    meter_ids = sorted({m for ms in line_meters.values() for m in ms})
    for reading in connection.execute(
        select(ElectricityReading.meter_id, ElectricityReading.time, ElectricityReading.power_kw)
        .where(ElectricityReading.meter_id.in_(meter_ids), ElectricityReading.time >= lookback,
               ElectricityReading.time < end, ElectricityReading.power_kw.is_not(None))
        .order_by(ElectricityReading.meter_id, ElectricityReading.time)
    ):  # fmt: skip
        readings[reading.meter_id].append((reading.time, reading.power_kw))
    max_gap = timedelta(minutes=params.max_gap_minutes)
    energy = {meter: hourly_energy(readings[meter], max_gap) for meter in meter_ids}
    report: list[LineCompliance] = []
    for line in lines:
        covering = [p for p in periods if _covers(p.county_code, line.county_code, hosts)]
        warned = {hour for p in covering for hour in warning_hours(p.starts_at, p.ends_at)}
        ratings = [rated[m] for m in line_meters[line.id]]
        rated_kw = sum(r for r in ratings if r) if ratings and all(ratings) else None
        line_kwh = line_energy(energy[m] for m in line_meters[line.id])
        for period in covering:
            hours = [h for h in warning_hours(period.starts_at, period.ends_at) if start <= h < end]
            if not hours:
                continue
            measure = parse_measure(line.measures.get(period.level, ""))
            verdict = judge_line(hours=hours, energy=line_kwh, warning_hours=warned,
                                 measure=measure, rated_kw=rated_kw,
                                 exempt=bool(line.emergency_exempt), params=params)  # fmt: skip
            report.append(LineCompliance(line.enterprise_id, line.firm, line.county_code,
                                         line.performance_grade, line.name, period.level,
                                         measure, verdict, period.id))  # fmt: skip
    return report


def enterprise_lines(connection: Connection, enterprise_id: int) -> list[dict[str, Any]]:
    """An enterprise's emergency-list lines, newest season first, with their meters."""
    meters: dict[int, list[str]] = defaultdict(list)
    for row in connection.execute(
        select(EmergencyLineMeter.line_id, Meter.name)
        .join(Meter, EmergencyLineMeter.meter_id == Meter.id)
        .where(Meter.enterprise_id == enterprise_id)
        .order_by(Meter.id)
    ):
        meters[row.line_id].append(row.name)
    return [
        {"id": row.id, "season": row.season, "valid_from": row.valid_from.isoformat(),
         "valid_until": row.valid_until.isoformat(), "name": row.name, "process": row.process,
         "meters": meters[row.id], "measures": dict(row.measures)}
        for row in connection.execute(
            select(EmergencyLine).where(EmergencyLine.enterprise_id == enterprise_id)
            .order_by(EmergencyLine.valid_from.desc(), EmergencyLine.name)
        )
    ]  # fmt: skip


def warning_assessment(
    connection: Connection, period_id: int, viewer: Viewer | None = None
) -> dict[str, Any] | None:
    """The after-action assessment of warning ``period_id`` (None: no such
    warning): every day it covered judged line by line (in ``viewer``'s
    scope), then the reduction required against the reduction achieved, by
    county and by grade (``electricity.emergency.assess``)."""
    period = connection.execute(
        select(EmergencyPeriod.id, EmergencyPeriod.level, EmergencyPeriod.starts_at,
               EmergencyPeriod.ends_at, EmergencyPeriod.county_code, EmergencyPeriod.reference)
        .where(EmergencyPeriod.id == period_id)
    ).one_or_none()  # fmt: skip
    if period is None:
        return None
    rows: list[LineCompliance] = []
    day = period.starts_at.date()
    while datetime.combine(day, datetime.min.time()) < period.ends_at:
        rows += [r for r in daily_compliance(connection, day, viewer) if r.period_id == period_id]
        day += timedelta(days=1)
    judged = [(r.county_code, r.grade, r.required, r.verdict) for r in rows]
    return {
        "warning": {"id": period.id, "level": period.level,
                    "starts_at": period.starts_at.isoformat(),
                    "ends_at": period.ends_at.isoformat(),
                    "county_code": period.county_code, "reference": period.reference},
        "by_county": assess(judged, lambda county, grade: county),
        "by_grade": assess(judged, lambda county, grade: grade or "-"),
        "total": assess(judged, lambda county, grade: "all"),
    }  # fmt: skip


EMERGENCY_POLLUTANTS: Final = {"a21026": "SO2", "a21002": "NOx", "a34013": "颗粒物",
                                "a24088": "VOCs (NMHC)"}  # fmt: skip
"""The pollutants whose emissions a warning must cut (rules.md §3.4: SO2, NOx,
PM, VOCs), by HJ 212 code."""


@dataclass(frozen=True, slots=True)
class EmissionCompliance:
    """The emissions view of a warning day: one enterprise and pollutant."""

    enterprise_id: int
    enterprise: str
    county_code: str
    grade: str
    pollutant: str
    level: str
    required_cut: float
    """The share the level (and the grade) requires cut (``rules.toml``)."""
    verdict: LineVerdict
    period_id: int = 0

    def as_json(self) -> dict[str, Any]:
        base, measured = self.verdict.baseline_kwh, self.verdict.measured_kwh
        return {
            "enterprise": self.enterprise, "county": self.county_code, "grade": self.grade,
            "pollutant": self.pollutant, "pollutant_name": EMERGENCY_POLLUTANTS[self.pollutant],
            "level": self.level, "required_cut": self.required_cut,
            "emission_kg": measured, "baseline_kg": base,
            "achieved_cut": round(1 - measured / base, 3) if base and measured is not None
            else None,
            "status": self.verdict.status,
            # judge_line names energy; here the quantity is kg.
            "evidence": {key.replace("_kwh", "_kg"): value
                         for key, value in self.verdict.evidence.items()},
        }  # fmt: skip


def daily_emissions(
    connection: Connection, day: date, viewer: Viewer | None = None
) -> list[EmissionCompliance]:
    """The second view of a warning day: for each enterprise on an emergency
    list (in ``viewer``'s scope) under a warning, each of its warning
    pollutants' hourly emissions (``hourly_emission``, every device and
    direct-discharge outlet of the enterprise summed, hours all of them
    account) in the warning hours against the same hours of the previous
    non-warning days, judged against the cut the level requires of its grade
    (``rules.toml`` ``emergency_consumption``: 10/20/30 % [S]) with the
    electricity's tolerance (``electricity.emergency.judge_line``)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        return []
    params = compliance_params()
    cuts = _level_cuts()
    window = _warning_window(connection, day, params.baseline_days)
    if window is None:
        return []
    start, end, lookback, periods, hosts = window
    where = scope_by(viewer, Enterprise.county_code, Enterprise.id) if viewer else true()
    listed = select(EmergencyLine.enterprise_id).where(
        EmergencyLine.valid_from <= day, EmergencyLine.valid_until > day
    )
    enterprises = connection.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.county_code,
               Enterprise.performance_grade, Enterprise.emergency_exempt)
        .where(where, Enterprise.id.in_(listed))
        .order_by(Enterprise.county_code, Enterprise.name, Enterprise.id)
    ).all()  # fmt: skip
    series: dict[tuple[int, str], dict[str, dict[datetime, float]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for row in connection.execute(
        select(HourlyEmission.enterprise_id, HourlyEmission.pollutant, HourlyEmission.mn,
               HourlyEmission.hour, HourlyEmission.emission_kg)
        .where(HourlyEmission.enterprise_id.in_([e.id for e in enterprises]),
               HourlyEmission.pollutant.in_(sorted(EMERGENCY_POLLUTANTS)),
               HourlyEmission.hour >= lookback, HourlyEmission.hour < end,
               HourlyEmission.emission_kg.is_not(None))
    ):  # fmt: skip
        series[(row.enterprise_id, row.pollutant)][row.mn][row.hour] = row.emission_kg
    report: list[EmissionCompliance] = []
    for enterprise in enterprises:
        covering = [p for p in periods if _covers(p.county_code, enterprise.county_code, hosts)]
        warned = {hour for p in covering for hour in warning_hours(p.starts_at, p.ends_at)}
        for pollutant in sorted(EMERGENCY_POLLUTANTS):
            devices = series.get((enterprise.id, pollutant))
            if not devices:
                continue
            kg = line_energy(devices.values())
            for period in covering:
                hours = [h for h in warning_hours(period.starts_at, period.ends_at)
                         if start <= h < end]  # fmt: skip
                if not hours:
                    continue
                cut = cuts(period.level, enterprise.performance_grade)
                verdict = judge_line(hours=hours, energy=kg, warning_hours=warned,
                                     measure=Measure("cut", cut) if cut > 0 else None,
                                     rated_kw=None, exempt=bool(enterprise.emergency_exempt),
                                     params=params)  # fmt: skip
                report.append(EmissionCompliance(
                    enterprise.id, enterprise.name, enterprise.county_code,
                    enterprise.performance_grade, pollutant, period.level, cut, verdict,
                    period.id))  # fmt: skip
    return report


def _level_cuts() -> Callable[[str, str], float]:
    """The cut a warning level requires of a performance grade (``rules.toml``)."""
    params = default_rule_set().for_point("emergency_consumption")
    assert isinstance(params, EmergencyConsumptionParams)

    def cut(level: str, grade: str) -> float:
        by_grade = params.cut_by_grade.get(grade, {})
        return float(by_grade.get(level, params.required_cut.get(level, 0.0)))

    return cut


WARNING_EVENT = "warning_declared"


def queue_warning_notices(connection: Connection, period_id: int, now: datetime) -> int:
    """Queue a notice of warning ``period_id`` in the outbox (``alerts/notify.py``
    delivers it) to every active target of each enterprise the warning covers,
    with that enterprise's own required measures (its emergency-list lines in
    force on the warning's first day); how many were queued."""
    period = connection.execute(
        select(EmergencyPeriod).where(EmergencyPeriod.id == period_id)
    ).one()
    hosts: dict[str, str | None] = dict(
        connection.execute(select(County.code, County.host_code)).all()
    )
    day = period.starts_at.date()
    targets = connection.execute(
        select(NotificationTarget.id, NotificationTarget.enterprise_id, Enterprise.name,
               Enterprise.county_code, Enterprise.performance_grade,
               Enterprise.emergency_exempt)
        .join(Enterprise, NotificationTarget.enterprise_id == Enterprise.id)
        .where(NotificationTarget.active.is_(True))
        .order_by(NotificationTarget.id)
    ).all()  # fmt: skip
    rows = []
    for target in targets:
        if not _covers(period.county_code, target.county_code, hosts):
            continue
        lines = connection.execute(
            select(EmergencyLine.name, EmergencyLine.measures)
            .where(EmergencyLine.enterprise_id == target.enterprise_id,
                   EmergencyLine.valid_from <= day, EmergencyLine.valid_until > day)
            .order_by(EmergencyLine.valid_from.desc(), EmergencyLine.name)
        ).all()  # fmt: skip
        payload = {
            "event": WARNING_EVENT,
            "warning": {"id": period.id, "level": period.level,
                        "starts_at": period.starts_at.isoformat(),
                        "ends_at": period.ends_at.isoformat(),
                        "county_code": period.county_code, "reference": period.reference},
            "enterprise": {"id": target.enterprise_id, "name": target.name,
                           "grade": target.performance_grade,
                           "exempt": bool(target.emergency_exempt)},
            "measures": [{"line": line.name, "measure": line.measures.get(period.level, "none")}
                         for line in lines],
        }  # fmt: skip
        rows.append({"alert_id": None, "emergency_id": period.id, "target_id": target.id,
                     "event": WARNING_EVENT, "payload": payload, "state": "pending",
                     "attempts": 0, "next_attempt_at": now, "last_error": "",
                     "created_at": now})  # fmt: skip
    if rows:
        connection.execute(insert(Notification), rows)
    return len(rows)
