"""Analysis and county judgement on a year of the demo city: each main slice
of the analysis API (``judgement/facts.py`` ``analyse``), the drill-down, a
weekly snapshot (``judge_week``: every indicator read from the store and
scored) and a weekly report with its PDF and XLSX, each timed (best of 3;
``--quick``: 30 days of history, one run, same keys). Targets (issue 17):
each slice under 1 s, a snapshot under 10 s, a report with PDF under 30 s.

The demo city with a year of air-station and river-section history stored
through the archive (as ``envwatch demo`` seeds it), plus a year of alerts
(one per enterprise and day on a fifth of the days) and of hourly emissions
of 20 devices, bulk-inserted. SQLite. Prints one JSON object."""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from envwatch.demo.quality_seed import seed_quality_history
from envwatch.demo.seed import seed_demo
from envwatch.judgement.core import Parameters, load_parameters
from envwatch.judgement.facts import analyse, drill
from envwatch.judgement.report import weekly_report
from envwatch.judgement.store import judge_week
from envwatch.judgement.weeks import last_ended_week
from envwatch.store.db import make_engine, upgrade
from envwatch.store.schema import Alert, Enterprise, HourlyEmission, MonitoringPoint

END = datetime(2026, 11, 30, 0)
SLICES = (
    ("alerts_by_county", "alerts", "county", "2026"),
    ("alerts_by_county_industry_month", "alerts", "county,industry,month", "2026"),
    ("alerts_on_time_by_county", "alerts_on_time", "county", "2026-Q4"),
    ("air_by_county_month", "air", "county,pollutant,month", "2026"),
    ("water_by_county_pollutant", "water", "county,pollutant", "2026-11"),
    ("emissions_top_enterprises", "emissions", "enterprise,pollutant", "2026"),
)


def seed_activity(engine: Any, days: int) -> dict[str, int]:
    rng = random.Random(17)
    with engine.begin() as connection:
        enterprises = connection.execute(select(Enterprise.id, Enterprise.county_code)).all()
        devices = connection.execute(
            select(MonitoringPoint.mn, MonitoringPoint.enterprise_id)
            .where(MonitoringPoint.enterprise_id.is_not(None)).limit(20)
        ).all()  # fmt: skip
        alerts = []
        for day in range(days):
            opened = datetime(2026, 11, 29, 2, tzinfo=UTC) - timedelta(days=day)
            for enterprise, county in enterprises:
                if rng.random() > 0.2:
                    continue
                late = rng.random() < 0.3
                alerts.append({
                    "mn": "BENCH", "pollutant": rng.choice(("a21026", "a21002", "a34013")),
                    "rule": rng.choice(("exceedance", "constant", "offline", "zero")),
                    "enterprise_id": enterprise, "county_code": county, "level": "yellow",
                    "state": "closed", "explanation": "", "evidence": {}, "finding_count": 1,
                    "first_finding_at": opened.replace(tzinfo=None),
                    "last_finding_at": opened.replace(tzinfo=None), "opened_at": opened,
                    "handle_by": opened + timedelta(hours=24),
                    "handled_at": opened + timedelta(hours=30 if late else 5),
                    "escalation": 0})  # fmt: skip
        connection.execute(insert(Alert), alerts)
        hours = []
        for mn, enterprise in devices:
            for hour in range(days * 24):
                when = END - timedelta(hours=hour + 1)
                for pollutant in ("a21026", "a21002"):
                    hours.append({"mn": mn, "pollutant": pollutant, "hour": when,
                                  "enterprise_id": enterprise, "validity": "valid",
                                  "method": "measured", "emission_kg": rng.random()})  # fmt: skip
        for start in range(0, len(hours), 20_000):
            connection.execute(insert(HourlyEmission), hours[start : start + 20_000])
    return {"alerts": len(alerts), "emission_hours": len(hours)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    runs, days = (1, 30) if quick else (3, 370)
    figures: dict[str, Any] = {"runs": runs, "days": days}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        seed_demo(engine)
        started = time.perf_counter()
        seed_quality_history(engine, END, days)
        figures["seed_quality_s"] = round(time.perf_counter() - started, 1)
        figures |= seed_activity(engine, days)
        slices: dict[str, float] = {}
        rows: dict[str, int] = {}
        for name, measure, by, period in SLICES:
            best = float("inf")
            for _ in range(runs):
                with engine.connect() as connection:
                    started = time.perf_counter()
                    document = analyse(connection, measure, by, period,
                                       top=10 if "top" in name else None)  # fmt: skip
                    best = min(best, time.perf_counter() - started)
            slices[name] = round(best, 4)
            rows[name] = document["count"]
        with engine.connect() as connection:
            started = time.perf_counter()
            drilled = drill(connection, "alerts", "2026-11", {"county": "371502"})
            figures["drill_s"] = round(time.perf_counter() - started, 4)
            figures["drill_rows"] = drilled["count"]
        figures["slices_s"] = slices
        figures["slice_rows"] = rows
        week = last_ended_week(END)
        base = load_parameters()
        snapshot_best = report_best = float("inf")
        for run in range(runs):
            # A new parameter version each run: computed afresh, never the kept one.
            content = json.loads(json.dumps(base.content))
            content["version"] = f"bench-{run}"
            parameters = Parameters(content)
            started = time.perf_counter()
            judge_week(engine, week, parameters, now=END.replace(tzinfo=UTC) + timedelta(days=2))
            snapshot_best = min(snapshot_best, time.perf_counter() - started)
            started = time.perf_counter()
            report = weekly_report(engine, week, parameters, now=datetime.now(UTC))
            report_best = min(report_best, time.perf_counter() - started)
        figures["snapshot_s"] = round(snapshot_best, 3)
        figures["report_with_pdf_s"] = round(report_best, 3)
        figures["pdf_bytes"] = len(report.pdf)
        engine.dispose()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
