"""Permits as versioned data and the emissions accounted against them, on
SQLite and PostgreSQL: the import (all or nothing, row errors), versions that
never rewrite the past, only the newest version's limits in force, totals by
method with direct discharge, and the §5.2 warning as one alert a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from envwatch.alerts.desk import AlertDesk
from envwatch.audit.log import Actor
from envwatch.permits.importing import import_file
from envwatch.permits.materialise import Materialiser
from envwatch.permits.report import hours_json, year_totals
from envwatch.permits.store import current_permits, permit_view, versions_of
from envwatch.registry.limits import limits_in_force
from envwatch.store.schema import Alert, FindingRecord, PermitLimit
from tests.permits.helpers import MN, SO2, hourly, permit_csv, seed, store

ACTOR = Actor("tester", "city_admin", "test")
JAN = datetime(2026, 1, 1)
H = timedelta(hours=1)


def test_a_permit_change_is_a_new_version_and_only_the_newest_limits_hold(engine: Engine) -> None:
    seed(engine)
    assert import_file(engine, "permits.csv", permit_csv(so2_t=1.0), ACTOR) == []
    assert import_file(engine, "permits.csv", permit_csv(so2_t=2.0), ACTOR) == []
    with engine.connect() as connection:
        versions = versions_of(connection, "91371500000000001X001P")
        assert [v.version for v in versions] == [1, 2]
        first, second = (permit_view(connection, v) for v in versions)
        # The past version is kept as it was.
        assert [i["annual_tonnes"] for i in first["items"]] == [1.0, 5.0]
        assert [i["annual_tonnes"] for i in second["items"]] == [2.0, 5.0]
        assert (first["current"], second["current"]) == (False, True)
        assert second["category"] == "key"
        assert second["plan"][1] == {
            "outlet_id": 2, "pollutant": SO2, "method": "automatic", "frequency": "continuous",
            "untreated_concentration": 1000.0, "design_flow_m3h": 10000.0,
        }  # fmt: skip
        assert [p.version for p in current_permits(connection, 1)] == [2]
        assert connection.execute(select(func.count()).select_from(PermitLimit)).scalar() == 4
        in_force = limits_in_force(connection, datetime(2026, 6, 1))
        assert [limit.value for limit in in_force[1][SO2]] == [35.0]  # one, not one per version


def test_a_bad_file_writes_nothing_and_names_each_row(engine: Engine) -> None:
    seed(engine)
    bad = (
        permit_csv()
        .decode()
        .replace("DA002", "DA009")
        .replace("自动,continuous,1000", "自动,,1000")
    )
    errors = import_file(engine, "permits.csv", bad.encode(), ACTOR)
    assert [(e.row, e.column) for e in errors] == [(3, "")]  # 监测方式 without 监测频次
    errors = import_file(engine, "permits.csv", permit_csv().decode().replace(
        "DA002", "DA009").encode(), ACTOR)  # fmt: skip
    assert [(e.row, e.column) for e in errors] == [(3, "outlet_code")]
    with engine.connect() as connection:
        assert current_permits(connection) == []


def test_totals_split_by_method_and_a_warning_opens_one_alert_a_day(engine: Engine) -> None:
    seed(engine)
    assert import_file(engine, "permits.csv", permit_csv(so2_t=2.0), ACTOR) == []
    # SO2 100 mg/m³ at 100 m³/s: 36 kg an hour; 04:00 and 05:00 never sent.
    store(engine, [hourly(JAN + i * H, 100.0) for i in range(12) if i not in (4, 5)])
    materialiser = Materialiser.create(engine)
    materialiser.catch_up(JAN + 12 * H)
    with engine.connect() as connection:
        hours = list(hours_json(connection, MN, JAN, JAN + 12 * H))
        (total,) = year_totals(connection, 1, 2026, materialiser.parameters)
    assert len(hours) == 12
    gap = [h for h in hours if h["hour"] in ("2026-01-01T04:00:00", "2026-01-01T05:00:00")]
    # α = 10/12 (75-90 %): the largest of the last 2160 valid hours.
    assert [(h["method"], h["rule"]) for h in gap] == [
        ("substituted", "max of the last 2160 valid hours")
    ] * 2
    assert [h["emission_kg"] for h in gap] == pytest.approx([36.0, 36.0])
    assert total.code == SO2
    assert total.permitted_t == pytest.approx(7.0)  # DA001 2 t + DA002 5 t
    assert total.measured_t == pytest.approx(0.36)
    assert total.substituted_t == pytest.approx(0.072)
    # DA002 has no device: 1000 mg/m³ × 10 000 m³/h, 10 kg an hour since the permit holds.
    assert total.direct_t == pytest.approx(0.12)
    assert total.actual_t == pytest.approx(0.552)
    assert total.projection_t == pytest.approx(0.552 * 730)  # half a day of 365
    assert str(total.status) == "warning"  # projected above the permit
    desk = AlertDesk(engine)
    desk.run_once(datetime(2026, 1, 1, 4, tzinfo=UTC))
    # More data the same day: judged again, no second finding nor alert.
    store(engine, [hourly(JAN + 12 * H, 100.0)])
    materialiser.catch_up(JAN + 13 * H)
    desk.run_once(datetime(2026, 1, 1, 5, tzinfo=UTC))
    with engine.connect() as connection:
        findings = connection.execute(select(FindingRecord)).all()
        alerts = connection.execute(select(Alert)).all()
    assert [(f.rule, f.mn, f.pollutant, f.severity) for f in findings] == [
        ("permit_total", "enterprise:1", SO2, "warning")
    ]
    assert [(a.mn, a.enterprise_id, a.county_code) for a in alerts] == [
        ("enterprise:1", 1, "371502")
    ]
