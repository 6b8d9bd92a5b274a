"""Manual monitoring results (手工监测) and the monthly and seasonal caps of a
permit: golden values of the pure accounting (rules.md §5.1 method order,
§5.2 thresholds), then on SQLite and PostgreSQL the import (all or nothing,
row errors), ``manual_t`` in the totals, the audit file's frequency check,
and a monthly cap crossing 80 % opening exactly one alert."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, select
from typer.testing import CliRunner

from envwatch.alerts.desk import AlertDesk
from envwatch.audit.log import Actor
from envwatch.cli import app
from envwatch.permits.audit_file import build_audit, parse_period
from envwatch.permits.audit_store import gather_facts
from envwatch.permits.caps import CapKind, cap_total, month_period, season_period
from envwatch.permits.importing import import_file
from envwatch.permits.manual import (
    OutletHour,
    Sample,
    frequency_hours,
    in_pollutant_unit,
    manual_hours,
    sample_flow,
    windows,
)
from envwatch.permits.manual_store import import_manual
from envwatch.permits.materialise import Materialiser
from envwatch.permits.parameters import load_parameters
from envwatch.permits.report import emissions_json, hours_json, year_totals
from envwatch.permits.store import current_permits, permit_view
from envwatch.rules.engine import default_rule_set
from envwatch.store.archive import MeasurementRow
from envwatch.store.db import make_engine
from envwatch.store.schema import Alert, FindingRecord, HourlyEmission, ManualResult
from tests.permits.helpers import CO, CREDIT, MN, SO2, hourly, seed, store

ACTOR = Actor("tester", "city_admin", "test")
H = timedelta(hours=1)
NOX, COD = "a21002", "w01018"
PARAMETERS = load_parameters()


# ---- pure: golden values -----------------------------------------------------


def test_units_flows_and_frequencies() -> None:
    assert in_pollutant_unit(SO2, 20_000.0, "µg/m³") == pytest.approx(20.0)
    assert in_pollutant_unit(SO2, 20.0, "mg/m3") == pytest.approx(20.0)
    assert in_pollutant_unit(COD, 30.0, "mg/l") == pytest.approx(30.0)
    with pytest.raises(ValueError, match="does not fit"):
        in_pollutant_unit(SO2, 1.0, "mg/L")  # a water unit for a gas
    day = datetime(2026, 3, 5)
    assert sample_flow(None, 2400.0, day, day + 24 * H) == pytest.approx(100.0)
    assert sample_flow(5.0, 2400.0, day, day + 24 * H) == 5.0
    assert sample_flow(None, 2400.0, day, None) is None
    assert (frequency_hours("4/year"), frequency_hours("1/month"),
            frequency_hours("1/quarter"), frequency_hours("continuous")) == (
        2190, 730, 2190, None)  # fmt: skip


def test_each_result_represents_the_hours_to_the_next_at_most_its_interval() -> None:
    first = Sample(datetime(2026, 1, 10, 8, 30), 20.0, 500_000.0, "R1")
    second = Sample(datetime(2026, 1, 20), 10.0, None, "R2")
    found = windows([second, first], 2190, datetime(2026, 2, 1, 5, 40))
    assert [(w.sample.report, w.start, w.end) for w in found] == [
        ("R1", datetime(2026, 1, 10, 8), datetime(2026, 1, 20)),
        ("R2", datetime(2026, 1, 20), datetime(2026, 2, 1, 5)),  # not beyond the current hour
    ]
    assert [w.end for w in windows([first], 24, datetime(2026, 12, 1))] == [
        datetime(2026, 1, 11, 8)
    ]


def test_an_unmonitored_item_is_accounted_every_hour_but_stopped_ones() -> None:
    # rules.md §5.1 worked example: 20 mg/m³ × 500 000 m³/h = 10 kg (0.01 t) an hour.
    start = datetime(2026, 1, 10)
    (window,) = windows([Sample(start, 20.0, 500_000.0, "R1")], 4, start + 10 * H)
    outlet = {start + H: OutletHour(None, True, None),  # the source stopped (F)
              start + 2 * H: OutletHour(None, False, 250_000.0)}  # fmt: skip
    hours = manual_hours(2, SO2, window, automatic=False, outlet_hours=outlet,
                         design_flow_m3h=None)  # fmt: skip
    # Hour 1 stopped; hour 2 at the flow a device measured there (250 000 m³).
    assert [h.hour.hour for h in hours] == [0, 2, 3]
    assert [h.emission_kg for h in hours] == pytest.approx([10.0, 5.0, 10.0])
    assert {str(h.method) for h in hours} == {"manual"}
    assert {h.mn for h in hours} == {"manual:2"}
    assert hours[0].rule == "手工监测（报告R1，采样2026-01-10 00:00）"


def test_a_monitored_item_is_filled_only_where_automatic_data_account_nothing() -> None:
    start = datetime(2026, 1, 10)
    (window,) = windows([Sample(start, 50.0, None, "R9")], 24, start + 4 * H)
    outlet = {start: OutletHour("measured", False, 360_000.0),
              start + H: OutletHour("missing", False, 360_000.0),
              start + 2 * H: OutletHour("substituted", False, None),
              start + 3 * H: OutletHour("missing", False, None)}  # fmt: skip
    hours = manual_hours(1, CO, window, automatic=True, outlet_hours=outlet,
                         design_flow_m3h=100_000.0)  # fmt: skip
    # 50 mg/m³ × 360 000 m³ = 18 kg; without a flow, the design flow: 5 kg.
    assert [h.hour.hour for h in hours] == [1, 3]
    assert [h.emission_kg for h in hours] == pytest.approx([18.0, 5.0])
    assert hours[0].rule is not None and hours[0].rule.endswith("补自动监测无效时段")


def test_water_a_days_volume_times_the_concentration() -> None:
    day = datetime(2026, 3, 5)
    flow = sample_flow(None, 2400.0, day, day + 24 * H)
    (window,) = windows([Sample(day, 30.0, flow, "W1")], 24, day + 48 * H)
    hours = manual_hours(3, COD, window, automatic=False, outlet_hours={}, design_flow_m3h=None)
    # 2400 m³ × 30 mg/L = 72 kg over the day, as rules.md §5.1 Q × C × 1e-6 t.
    assert sum(h.emission_kg or 0.0 for h in hours) == pytest.approx(72.0)
    assert len(hours) == 24


def test_monthly_and_seasonal_caps_judged_like_the_annual_total() -> None:
    thresholds = PARAMETERS.totals
    month = month_period(datetime(2026, 1, 31, 12))
    assert (month.label, month.start, month.end) == ("2026-01", datetime(2026, 1, 1),
                                                    datetime(2026, 2, 1))  # fmt: skip
    heating = season_period(datetime(2026, 1, 31), "11-15", "03-15")
    assert heating is not None and heating.kind is CapKind.SEASON
    assert (heating.start, heating.end) == (datetime(2025, 11, 15), datetime(2026, 3, 16))
    assert season_period(datetime(2026, 6, 1), "11-15", "03-15") is None
    late = datetime(2026, 1, 31, 10)  # 730 of the month's 744 hours accounted
    assert str(cap_total(SO2, month, 0.5, {"measured": 360.0}, late, thresholds).status) == "ok"
    warned = cap_total(SO2, month, 0.5, {"measured": 400.0, "manual": 32.0}, late, thresholds)
    assert str(warned.status) == "warning"
    assert warned.share == pytest.approx(0.864)
    early = datetime(2026, 1, 2)  # 0.1 t in one day: projected 3.1 t
    assert str(cap_total(SO2, month, 0.5, {"measured": 100.0}, early, thresholds).status) == (
        "warning")  # fmt: skip
    assert str(cap_total(SO2, month, 0.5, {"direct": 500.0}, late, thresholds).status) == "alarm"


# ---- stored: import, totals, audit file, cap alert -----------------------------

COLUMNS = (
    "许可证编号,统一社会信用代码,管理类别,有效期起,有效期止,排放口编号,污染物编码,限值,单位,"
    "基准氧含量,依据,年许可排放量,月许可排放量,监测方式,监测频次,产生浓度,设计流量"
)
PERMIT = f"91371500000000001X001P,{CREDIT},重点管理,2026-01-01,2031-01-01"


def permit(monthly_so2: str = "") -> bytes:
    """DA001: SO2 and CO monitored by its device; DA002: NOx by hand, 4 a year."""
    return "\n".join([
        COLUMNS,
        f"{PERMIT},DA001,{SO2},35,mg/m³,6,GB 13223-2011,1000,{monthly_so2},自动,continuous,,",
        f"{PERMIT},DA001,{CO},100,mg/m³,6,GB 13223-2011,,,自动,continuous,,",
        f"{PERMIT},DA002,{NOX},50,mg/m³,6,GB 13223-2011,100,,手工,4/year,,20000",
    ]).encode() + b"\n"  # fmt: skip


MANUAL = (
    "统一社会信用代码,排放口编号,污染物编码,采样开始时间,采样结束时间,浓度,单位,流量,排放体积,"
    "检测机构,报告编号"
)


def manual_csv(*rows: str) -> bytes:
    return ("\n".join([MANUAL, *rows]) + "\n").encode()


def test_manual_results_are_imported_whole_and_accounted(engine: Engine) -> None:
    seed(engine)
    assert import_file(engine, "permit.csv", permit(), ACTOR) == []
    jan = datetime(2026, 1, 1)
    # CO 80 mg/m³ at 100 m³/s; hours 2-3 flagged D (fault): CO is not substituted.
    store(engine, [(*hourly(jan + i * H, 10.0),
                    MeasurementRow(MN, "2061", jan + i * H, CO, avg=80.0,
                                   flag="D" if i in (2, 3) else "N"))
                   for i in range(6)])  # fmt: skip
    now = jan + 6 * H
    Materialiser.create(engine).catch_up(now)
    bad = manual_csv(
        f"{CREDIT},DA002,{NOX},2026-01-01 00:00,,40,mg/L,10000,,聊城检测,R-1",  # a water unit
        f"{CREDIT},DA009,{NOX},2026-01-01 01:00,,40,mg/m³,,,聊城检测,R-2",  # no such outlet
        f"{CREDIT},DA002,{NOX},2026-01-01 02:00,,40,mg/m³,,,聊城检测,R-3",
    )
    outcome = import_manual(engine, "bad.csv", bad, ACTOR, parameters=PARAMETERS, now=now)
    assert [(e.row, e.column) for e in outcome.errors] == [(2, ""), (3, "outlet_code")]
    assert "does not fit" in outcome.errors[0].reason
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ManualResult)).scalar() == 0
    good = manual_csv(
        # NOx by hand at DA002 (no device): 40 mg/m³ × 10 000 m³/h = 0.4 kg an hour.
        f"{CREDIT},DA002,{NOX},2026-01-01 00:00,2026-01-01 01:00,40000,µg/m³,10000,,聊城检测,R-1",
        # CO at DA001 fills the device's two faulty hours: 60 mg/m³ × 360 000 m³ = 21.6 kg.
        f"{CREDIT},DA001,{CO},2026-01-01 01:30,,60,mg/m³,360000,,聊城检测,R-2",
    )
    outcome = import_manual(engine, "good.csv", good, ACTOR, parameters=PARAMETERS, now=now)
    assert outcome.errors == []
    assert outcome.summary("good.csv") == {
        "file": "good.csv", "imported": 2, "enterprises": [1], "accounted_hours": 8,
        "manual_kg": pytest.approx(6 * 0.4 + 2 * 21.6),
    }  # fmt: skip
    again = import_manual(engine, "good.csv", good, ACTOR, parameters=PARAMETERS, now=now)
    assert [(e.row, e.column) for e in again.errors] == [(2, "sampled_from"), (3, "sampled_from")]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ManualResult)).scalar() == 2
        co_hours = list(hours_json(connection, "manual:1", jan, now))
        totals = {t.code: t for t in year_totals(connection, 1, 2026, PARAMETERS)}
    assert [(h["hour"][11:13], h["method"]) for h in co_hours] == [("02", "manual"),
                                                                   ("03", "manual")]  # fmt: skip
    assert totals[NOX].manual_t == pytest.approx(0.0024)  # six hours to the current one
    assert totals[CO].manual_t == pytest.approx(0.0432)
    assert totals[CO].measured_t == pytest.approx(4 * 0.0288)
    # An hour later the NOx result represents one more hour (to its next result,
    # at most 2190 hours for 4/year); a recomputation from scratch agrees.
    # Hour 6 arrives with CO faulty too: the CO result's window, grown by an hour, fills
    # it; the incremental table equals a rebuild from scratch.
    store(engine, [(*hourly(jan + 6 * H, 10.0), MeasurementRow(MN, "2061", jan + 6 * H, CO,
                                                               avg=80.0, flag="D"))])  # fmt: skip
    materialiser = Materialiser.create(engine)
    materialiser.catch_up(now + H)
    with engine.connect() as connection:
        grown = {t.code: t for t in year_totals(connection, 1, 2026, PARAMETERS)}[NOX]
        incremental = manual_rows(connection)
    materialiser.rebuild(now=now + H)
    with engine.connect() as connection:
        rebuilt = {t.code: t for t in year_totals(connection, 1, 2026, PARAMETERS)}[NOX]
        assert manual_rows(connection) == incremental
        facts = gather_facts(connection, 1, parse_period("2026-01"), now + H, PARAMETERS,
                             default_rule_set())  # fmt: skip
    assert grown.manual_t == rebuilt.manual_t == pytest.approx(0.0028)
    co_filled = [row[2] for row in incremental if row[1] == CO]
    assert co_filled == [jan + 2 * H, jan + 3 * H, jan + 6 * H]
    assert facts is not None
    check = next(c for c in build_audit(facts, PARAMETERS)["checks"]
                 if c["code"] == "monitoring_frequency")  # fmt: skip
    assert check["status"] == "ok"  # one result in the month: 4/year asks for one


def manual_rows(connection: Connection) -> list[tuple[object, ...]]:
    return [tuple(row) for row in connection.execute(
        select(HourlyEmission.mn, HourlyEmission.pollutant, HourlyEmission.hour,
               HourlyEmission.emission_kg, HourlyEmission.rule)
        .where(HourlyEmission.method == "manual")
        .order_by(HourlyEmission.mn, HourlyEmission.pollutant, HourlyEmission.hour)
    )]  # fmt: skip


def test_crossing_80_percent_of_a_monthly_cap_opens_one_alert(engine: Engine) -> None:
    seed(engine)
    # A seasonal cap goes with its days (MM-DD, real ones): row errors, nothing written.
    seasonal = permit().decode().replace("设计流量\n", "设计流量,时段许可排放量,时段起,时段止\n")
    lines = seasonal.splitlines()
    bad = [lines[0], lines[1] + ",40,11-15,", lines[2] + ",1,02-30,03-15", lines[3] + ",,,"]
    errors = import_file(engine, "permit.csv", "\n".join(bad).encode(), ACTOR)
    assert [(e.row, e.column) for e in errors] == [(2, ""), (3, "时段起")]
    with engine.connect() as connection:
        assert current_permits(connection) == []
    good = [lines[0], lines[1] + ",40,11-15,03-15", lines[2] + ",,,", lines[3] + ",,,"]
    assert import_file(engine, "permit.csv", "\n".join(good).encode(), ACTOR) == []
    with engine.connect() as connection:
        (stored,) = current_permits(connection)
        item = permit_view(connection, stored)["items"][0]
    assert (item["seasonal_tonnes"], item["season_from"], item["season_to"]) == (
        40.0, "11-15", "03-15")  # fmt: skip
    # The monthly cap: a new version of the permit.
    assert import_file(engine, "permit.csv", permit(monthly_so2="0.5"), ACTOR) == []
    day = datetime(2026, 1, 31)
    materialiser = Materialiser.create(engine)
    desk = AlertDesk(engine)
    # SO2 100 mg/m³ at 100 m³/s: 36 kg an hour. Ten hours: 0.36 t, 72 % of 0.5 t.
    store(engine, [hourly(day + i * H, 100.0) for i in range(10)])
    materialiser.catch_up(day + 10 * H)
    desk.run_once(datetime(2026, 1, 31, 2, tzinfo=UTC))
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Alert)).scalar() == 0
    # Two more: 0.432 t, 86 %: a warning.
    store(engine, [hourly(day + i * H, 100.0) for i in (10, 11)])
    materialiser.catch_up(day + 12 * H)
    desk.run_once(datetime(2026, 1, 31, 4, tzinfo=UTC))
    # Judged again with more data (93.6 %): no second finding, no second alert.
    store(engine, [hourly(day + 12 * H, 100.0)])
    materialiser.catch_up(day + 13 * H)
    materialiser.catch_up(day + 14 * H)
    desk.run_once(datetime(2026, 1, 31, 6, tzinfo=UTC))
    with engine.connect() as connection:
        findings = connection.execute(select(FindingRecord)).all()
        alerts = connection.execute(select(Alert)).all()
    assert [(f.rule, f.mn, f.pollutant, f.severity, f.evidence["period"]) for f in findings] == [
        ("permit_month_cap", "enterprise:1", SO2, "warning", "2026-01")
    ]
    assert findings[0].evidence["share"] == pytest.approx(0.864)
    assert [(a.rule, a.enterprise_id, a.level) for a in alerts] == [
        ("permit_month_cap", 1, "warning")
    ]


def test_manual_import_cli_refuses_a_bad_file_whole_and_prints_a_summary(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    seed(engine)
    assert import_file(engine, "permit.csv", permit(), ACTOR) == []
    good = f"{CREDIT},DA002,{NOX},2026-01-01 00:00,,40,mg/m³,10000,,聊城检测,R-1"
    (tmp_path / "bad.csv").write_bytes(manual_csv(good, good.replace("40,", "-1,")))
    (tmp_path / "good.csv").write_bytes(manual_csv(good))
    now = ("--now", "2026-01-01T10:00:00")
    # In-process (typer's runner): a real process costs seconds of start-up.
    runner = CliRunner()
    refused = runner.invoke(app, ["permits", "manual-import", str(tmp_path / "bad.csv"),
                                  "--db", sqlite_url, *now])  # fmt: skip
    assert refused.exit_code == 1
    assert refused.stderr.startswith("row 3 浓度: ")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ManualResult)).scalar() == 0
    done = runner.invoke(app, ["permits", "manual-import", str(tmp_path / "good.csv"),
                               "--db", sqlite_url, *now])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"file": "good.csv", "imported": 1, "enterprises": [1],
                                       "accounted_hours": 10, "manual_kg": 4.0}  # fmt: skip
    with engine.connect() as connection:
        document = emissions_json(1, 2026, year_totals(connection, 1, 2026, PARAMETERS))
    (nox,) = [p for p in document["pollutants"] if p["code"] == NOX]
    assert nox["manual_t"] == pytest.approx(0.004)  # the contract's manual part
    engine.dispose()
