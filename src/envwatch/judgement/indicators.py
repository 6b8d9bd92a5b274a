"""The judgement's inputs (the store's edge): per county, each indicator's
value for a week, read from what the other parts keep, with the query it
came from in words. Everything a score needs is in the returned inputs, so
a snapshot scores again without the database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.judgement.core import Parameters
from envwatch.judgement.weeks import week_days
from envwatch.quality.queries import (
    area_periods,
    areas_of,
    section_period,
    stations,
    year_earlier,
)
from envwatch.store.schema import (
    Alert,
    County,
    Enterprise,
    HourlyEmission,
    RectificationProblem,
)


def cst_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """``first`` 00:00 to the day after ``last`` 00:00, China Standard Time, as UTC."""
    start = datetime.combine(first, time.min, CHINA_STANDARD_TIME)
    end = datetime.combine(last + timedelta(days=1), time.min, CHINA_STANDARD_TIME)
    return start.astimezone(UTC), end.astimezone(UTC)


def counties(connection: Connection) -> dict[str, dict[str, Any]]:
    rows = connection.execute(
        select(County.code, County.name_zh, County.kind, County.host_code).order_by(County.code)
    )
    return {r.code: {"name": r.name_zh, "kind": r.kind, "host": r.host_code} for r in rows}


def _entry(value: float | None, source: str, **detail: Any) -> dict[str, Any]:
    return {"value": None if value is None else round(float(value), 4), "source": source,
            "detail": detail}  # fmt: skip


def week_inputs(connection: Connection, week: str, parameters: Parameters) -> dict[str, Any]:
    """Every county's indicator values for ``week`` with their sources."""
    first, last = week_days(week)
    start, end = cst_bounds(first, last)
    known = counties(connection)
    by_county: dict[str, dict[str, Any]] = {c: {} for c in known}
    span = f"{first.isoformat()}..{last.isoformat()}"

    # Air: the week's composite index (HJ 663) and the same days a year earlier.
    areas = {k: v for k, v in areas_of(stations(connection)).items() if k in known}
    now = area_periods(connection, first, last, areas)
    before = area_periods(connection, year_earlier(first), year_earlier(last), areas)
    for code in known:
        period = now.get(code)
        index = None if period is None else period.composite_index
        earlier = before.get(code)
        old = None if earlier is None else earlier.composite_index
        source = (f"quality_day kind=air, stations of {code} ({len(areas.get(code, []))}), "
                  f"{span}: composite index Σ C/S (HJ 663)")  # fmt: skip
        by_county[code]["air_index"] = _entry(
            None if index is None else float(index), source,
            good_day_ratio=None if period is None or period.good_day_ratio is None
            else round(float(period.good_day_ratio), 2),
        )  # fmt: skip
        change = None
        if index is not None and old is not None and old != 0:
            change = float((index - old) / old)
        by_county[code]["air_yoy"] = _entry(
            change,
            f"{source}, against {year_earlier(first)}..{year_earlier(last)}",
            index_year_earlier=None if old is None else float(old),
        )

    # Water: the share of the county's sections meeting their target class.
    judged = section_period(connection, first, last)
    sections: dict[str, list[bool]] = defaultdict(list)
    for judgement in judged.values():
        if judgement.meets_target is not None:
            sections[judgement.section.county_code].append(judgement.meets_target)
    for code in known:
        met = sections.get(code, [])
        by_county[code]["water_attainment"] = _entry(
            sum(met) / len(met) if met else None,
            f"quality_day kind=water, sections of {code}, {span}: class vs target (GB 3838)",
            sections=len(met), meeting=sum(met),
        )  # fmt: skip

    # Alerts opened in the week: every stage whose deadline fell in the week met.
    fraud_rules = set(parameters.sources.get("fraud_rules", []))
    dismissing = set(parameters.sources.get("dismissing_outcomes", []))
    alerts: dict[str, list[bool]] = defaultdict(list)
    fraud: dict[str, int] = defaultdict(int)
    rows = connection.execute(
        select(Alert.county_code, Alert.rule, Alert.outcome, Alert.acknowledge_by,
               Alert.acknowledged_at, Alert.handle_by, Alert.handled_at, Alert.close_by,
               Alert.closed_at)
        .where(Alert.opened_at >= start, Alert.opened_at < end, Alert.county_code.is_not(None),
               Alert.merged_into.is_(None))
    )  # fmt: skip
    for row in rows:
        on_time = True
        stages: tuple[tuple[datetime | None, datetime | None], ...] = (
            (row.acknowledge_by, row.acknowledged_at),
            (row.handle_by, row.handled_at),
            (row.close_by, row.closed_at),
        )
        for deadline_at, done in stages:
            due_utc = _utc(deadline_at)
            if due_utc is not None and due_utc <= end:
                done_utc = _utc(done)
                on_time = on_time and done_utc is not None and done_utc <= due_utc
        alerts[row.county_code].append(on_time)
        if row.rule in fraud_rules and row.outcome not in dismissing:
            fraud[row.county_code] += 1
    for code in known:
        handled = alerts.get(code, [])
        by_county[code]["alert_on_time"] = _entry(
            sum(handled) / len(handled) if handled else None,
            f"alert opened {span} (CST) in {code}: stages due by week end met",
            alerts=len(handled), on_time=sum(handled),
        )  # fmt: skip
        by_county[code]["fraud"] = _entry(
            float(fraud.get(code, 0)),
            f"alert opened {span} in {code}, rule in falsification rules, not dismissed",
        )

    # Data quality: valid device-hours of the county's enterprises in the week.
    hour_first = datetime.combine(first, time.min)
    hour_end = datetime.combine(last + timedelta(days=1), time.min)
    hour_rows = connection.execute(
        select(Enterprise.county_code, HourlyEmission.validity, func.count())
        .join(Enterprise, Enterprise.id == HourlyEmission.enterprise_id)
        .where(HourlyEmission.hour >= hour_first, HourlyEmission.hour < hour_end,
               HourlyEmission.mn.not_like("outlet:%"))
        .group_by(Enterprise.county_code, HourlyEmission.validity)
    )  # fmt: skip
    hours: dict[str, dict[str, int]] = defaultdict(dict)
    for hour_row in hour_rows:
        county_code, validity, count = hour_row[0], hour_row[1], hour_row[2]
        hours[county_code][validity] = int(count)
    for code in known:
        counted = hours.get(code, {})
        valid = counted.get("valid", 0)
        judged_hours = valid + counted.get("invalid", 0)
        by_county[code]["data_quality"] = _entry(
            valid / judged_hours if judged_hours else None,
            f"hourly_emission of enterprises in {code}, hours {span}: valid / (valid + invalid)",
            hours=judged_hours, valid=valid,
        )  # fmt: skip

    # Rectification: the county's problems due by the week's end, closed by their deadline.
    problem_rows = connection.execute(
        select(RectificationProblem.county_code, RectificationProblem.deadline,
               RectificationProblem.closed_at)
        .where(RectificationProblem.deadline < hour_end)
    )  # fmt: skip
    due_by: dict[str, list[bool]] = defaultdict(list)
    for problem_row in problem_rows:
        county_code, deadline, closed_at = problem_row[0], problem_row[1], problem_row[2]
        limit = datetime.combine(deadline.date() + timedelta(days=1), time.min,
                                 CHINA_STANDARD_TIME)  # fmt: skip
        closed = _utc(closed_at)
        due_by[county_code].append(closed is not None and closed <= min(limit, end))
    for code in known:
        items = due_by.get(code, [])
        by_county[code]["rectification_on_time"] = _entry(
            sum(items) / len(items) if items else None,
            f"rectification_problem of {code} due before {last + timedelta(days=1)}: "
            "closed by the deadline",
            due=len(items), on_time=sum(items),
        )  # fmt: skip

    return {
        "week": week,
        "first_day": first.isoformat(),
        "counties": {
            code: {"name": info["name"], "kind": info["kind"], "host": info["host"],
                   "indicators": {k: v for k, v in by_county[code].items()
                                  if k in parameters.indicators}}
            for code, info in known.items()
        },
    }  # fmt: skip


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def quarter_means(
    connection: Connection, first: date, last: date
) -> Mapping[str, dict[str, float | None]]:
    """Each county's quarter means for eco-compensation: PM2_5, PM10, SO2,
    NO2 [µg/m³] and the good-day ratio [%] (HJ 663 period statistics)."""
    known = counties(connection)
    areas = {k: v for k, v in areas_of(stations(connection)).items() if k in known}
    periods = area_periods(connection, first, last, areas)
    out: dict[str, dict[str, float | None]] = {}
    for code, period in periods.items():
        values: dict[str, float | None] = {}
        for key in ("PM2_5", "PM10", "SO2", "NO2"):
            statistic = period.statistics.get(key)
            values[key] = (
                None if statistic is None or statistic.value is None else float(statistic.value)
            )
        ratio = period.good_day_ratio
        values["good_day_ratio"] = None if ratio is None else round(float(ratio), 3)
        out[code] = values
    return out
