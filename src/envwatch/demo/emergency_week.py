"""The demo's orange warning (pure rows, then one stored batch): a week of
normal production on every demo emergency-list line, then a city-wide orange
heavy-pollution-weather warning day on which most lines take their listed
measure, some keep running as before, and a few meters fall silent, so the
daily compliance report shows each status and the rules find the lines that
should have stopped (``emergency_stop``). The listed enterprises' stacks emit
as their lines run, for the report's emissions view.

Fixed dates in the past (the lines' 2026-2027 season): the simulator's live
history never reaches them. Readings every 30 minutes come in as one
electricity batch, so the rules read them as they read a collector's.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine, insert

from envwatch.electricity.batch import store_batch
from envwatch.electricity.emergency import parse_measure
from envwatch.permits.rollup import refresh_months
from envwatch.store.schema import EmergencyPeriod, HourlyEmission

WARNING_DAY: Final = date(2026, 11, 27)
LEVEL: Final = "orange"
REFERENCE: Final = "聊城市重污染天气应急指挥部办公室（示例）2026年第1号"
BASELINE_DAYS: Final = 7
STEP: Final = timedelta(minutes=30)
RUNNING_SHARE: Final = 0.75  # of the rated power, while producing
IDLE_SHARE: Final = 0.02  # a stopped line's standby draw
KEEPS_RUNNING_EVERY: Final = 4  # of the lines with a measure, every fourth ignores it
SILENT_EVERY: Final = 9  # and every ninth (another) meter sends nothing that day
SILENT_AT: Final = 2


def _behaviour(number: int) -> str:
    """What the ``number``-th line with a measure does during the warning."""
    if number % KEEPS_RUNNING_EVERY == 0:
        return "keeps_running"
    if number % SILENT_EVERY == SILENT_AT:
        return "silent"
    return "complies"


def emergency_week(rows: dict[str, list[dict[str, Any]]], seed: int = 11) -> dict[str, Any]:
    """The warning period and the readings of every listed meter (pure)."""
    rng = random.Random(seed)
    rated = {m["id"]: m["rated_kw"] or 500.0 for m in rows["meter"]}
    measures = {line["id"]: line["measures"] for line in rows["emergency_line"]}
    start = datetime.combine(WARNING_DAY, datetime.min.time())
    first = start - timedelta(days=BASELINE_DAYS)
    steps = int((start + timedelta(days=1) - first) / STEP) + 1
    readings: list[dict[str, Any]] = []
    number = 0
    line_of = {line["id"]: line["enterprise_id"] for line in rows["emergency_line"]}
    warned_share: dict[int, list[float]] = {}
    for link in rows["emergency_line_meter"]:
        kw = rated[link["meter_id"]]
        measure = parse_measure(measures[link["line_id"]].get(LEVEL, ""))
        if measure is not None and measure.kind == "transport":
            measure = None  # no production measure: runs as usual
        number += measure is not None
        behaviour = _behaviour(number) if measure is not None else "complies"
        cut = (measure.share if measure.kind == "cut" else 1.0) if measure is not None else 0.0
        share = 1.0 if behaviour == "keeps_running" else max(IDLE_SHARE / RUNNING_SHARE,
                                                             1 - cut - 0.05)  # fmt: skip
        warned_share.setdefault(line_of[link["line_id"]], []).append(share)
        for step in range(steps):
            when = first + step * STEP
            load = RUNNING_SHARE
            if when >= start:
                if behaviour == "silent":
                    continue
                if behaviour == "complies" and measure is not None:
                    cut = measure.share if measure.kind == "cut" else 1.0
                    load = max(IDLE_SHARE, RUNNING_SHARE * (1 - cut - 0.05))
            power = round(kw * load * rng.uniform(0.97, 1.03), 1)
            readings.append({"meter": link["meter_id"], "time": when.isoformat(),
                             "power_kw": power})  # fmt: skip
    period = {"level": LEVEL, "starts_at": start, "ends_at": start + timedelta(days=1),
              "county_code": None, "reference": REFERENCE, "declared_by": "admin",
              "declared_at": datetime(2026, 11, 26, 8, 0, tzinfo=UTC)}  # fmt: skip
    emissions = _emission_hours(rows, warned_share, first, start, rng)
    return {"period": period, "readings": readings, "emissions": emissions}


EMISSION_CODES: Final = ("a21026", "a21002", "a34013")
"""SO2, NOx, particulate: the warning pollutants the demo's stacks measure."""


def _emission_hours(
    rows: dict[str, list[dict[str, Any]]],
    warned_share: dict[int, list[float]],
    first: datetime,
    start: datetime,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """Accounted hourly emissions of each listed enterprise's monitored stacks
    over the warning week, following its lines' production (a stack's output
    falls with the lines' load in the warning), for the emissions view. The
    demo has no archived frames for these days, and the materialiser would
    replace a real device's quarter when live data arrive, so the rows are
    stored under the stack's own key ``demo:<outlet id>``."""
    air = {o["id"] for o in rows["outlet"] if o["kind"] == "air"}
    factors: dict[str, set[str]] = {}
    for factor in rows["point_factor"]:
        factors.setdefault(factor["mn"], set()).add(factor["pollutant"])
    found: list[dict[str, Any]] = []
    for point in rows["monitoring_point"]:
        shares = warned_share.get(point.get("enterprise_id") or 0)
        if not shares or point.get("outlet_id") not in air:
            continue
        share = sum(shares) / len(shares)
        for code in EMISSION_CODES:
            if code not in factors.get(point["mn"], ()):
                continue
            base = rng.uniform(0.5, 6.0)
            hour = first
            while hour < start + timedelta(days=1):
                load = share if hour >= start else 1.0
                kg = round(base * load * rng.uniform(0.95, 1.05), 3)
                found.append({"mn": f"demo:{point['outlet_id']}", "pollutant": code, "hour": hour,
                              "enterprise_id": point["enterprise_id"],
                              "outlet_id": point["outlet_id"], "validity": "valid",
                              "cause": None, "concentration": None, "flow_m3": None,
                              "measured_kg": kg, "emission_kg": kg, "method": "measured",
                              "rule": "demo warning week (seeded)"})  # fmt: skip
                hour += timedelta(hours=1)
    return found


def seed_emergency_week(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> int:
    """Store the demo warning and its week of readings; how many readings."""
    week = emergency_week(rows)
    with engine.begin() as connection:
        connection.execute(insert(EmergencyPeriod), [week["period"]])
        for chunk in range(0, len(week["emissions"]), 5000):
            connection.execute(insert(HourlyEmission), week["emissions"][chunk : chunk + 5000])
        firsts: dict[tuple[str, str], datetime] = {}
        for row in week["emissions"]:
            key = (row["mn"], row["pollutant"])
            firsts[key] = min(firsts.get(key, row["hour"]), row["hour"])
        for (mn, pollutant), first in sorted(firsts.items()):
            refresh_months(connection, mn, pollutant, first)  # the monthly totals with them
    content = "\n".join(json.dumps(r) for r in week["readings"]).encode()
    result = store_batch(engine, "demo-emergency-week.jsonl", content)
    if result.errors:  # the demo data itself is wrong
        raise ValueError(f"demo readings refused: {result.errors[:3]}")
    return result.readings
