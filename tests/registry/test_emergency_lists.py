"""Emergency lists imported by line and the daily compliance report during a
warning, on SQLite and PostgreSQL; ``envwatch emergency compliance`` follows
its contract."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from envwatch.alerts.notify import Mail, Notifier
from envwatch.errors import PeerError
from envwatch.registry.emergency_lists import (
    daily_compliance,
    daily_emissions,
    import_lines,
    queue_warning_notices,
)
from envwatch.registry.maintenance import change_emergency, declare_emergency
from envwatch.store.schema import (
    County,
    ElectricityReading,
    EmergencyLine,
    EmergencyPeriod,
    Enterprise,
    HourlyEmission,
    Meter,
    NotificationTarget,
)
from tests.alerts.servers import Received, smtp_receiver, webhook_receiver
from tests.test_cli_contract import envwatch

DAY = datetime(2026, 12, 10)
HEADER = "统一社会信用代码,版本,生效日期,失效日期,生产线,工序,电表,黄色,橙色,红色\n"
LINES = HEADER + (
    "91371500000000001A,2026-2027,2026-10-01,2027-03-16,1号烧结机,烧结,烧结主抽风机,限产20%,停产,停产\n"
    "91371500000000001A,2026-2027,2026-10-01,2027-03-16,球团线,球团,球团回转窑,限产10%,限产30%,停产\n"
    "91371500000000002A,2026-2027,2026-10-01,2027-03-16,熟料线,熟料烧成,水泥窑,限产10%,限产20%,停产\n"
    "91371500000000003A,2026-2027,2026-10-01,2027-03-16,供热锅炉,供热,锅炉,,,\n"
)


def registry(engine: Engine) -> None:
    firms = [("钢铁厂", "C"), ("水泥厂", "B"), ("热力公司", "")]
    meters = ["烧结主抽风机", "球团回转窑", "水泥窑", "锅炉"]
    with engine.begin() as connection:
        connection.execute(insert(County), [{"code": "371502", "name_zh": "东昌府区"}])
        connection.execute(insert(Enterprise), [
            {"id": n, "name": name, "credit_code": f"9137150000000000{n}A",
             "county_code": "371502", "performance_grade": grade, "emergency_exempt": n == 3}
            for n, (name, grade) in enumerate(firms, start=1)
        ])  # fmt: skip
        connection.execute(insert(Meter), [
            {"id": n, "enterprise_id": (1, 1, 2, 3)[n - 1], "name": name, "kind": "production",
             "rated_kw": 500.0}
            for n, name in enumerate(meters, start=1)
        ])  # fmt: skip
        # An orange warning over the whole day; an earlier one three days before.
        connection.execute(insert(EmergencyPeriod), [
            {"level": "orange", "starts_at": DAY, "ends_at": DAY + timedelta(days=1),
             "county_code": None, "declared_by": "admin", "declared_at": datetime.now(UTC)},
            {"level": "yellow", "starts_at": DAY - timedelta(days=3),
             "ends_at": DAY - timedelta(days=2), "county_code": "371502",
             "declared_by": "admin", "declared_at": datetime.now(UTC)},
        ])  # fmt: skip

        def kw(meter: int, moment: datetime) -> float | None:
            warned = moment >= DAY
            earlier = DAY - timedelta(days=3) <= moment < DAY - timedelta(days=2)
            if earlier:
                return 100.0  # cut hard then: a baseline that kept it would be low
            if not warned:
                return 400.0
            return {1: 5.0, 2: 360.0, 3: None, 4: 450.0}[meter]

        rows = []
        for step in range(11 * 96 + 1):
            moment = DAY - timedelta(days=10) + timedelta(minutes=15 * step)
            for meter in (1, 2, 3, 4):
                value = kw(meter, moment)
                if value is not None:
                    rows.append({"meter_id": meter, "time": moment, "power_kw": value,
                                 "energy_kwh": None, "current_a": None,
                                 "source": "batch"})  # fmt: skip
        connection.execute(insert(ElectricityReading), rows)


def test_lines_import_and_the_day_is_judged_line_by_line(engine: Engine) -> None:
    registry(engine)
    with engine.begin() as connection:
        assert import_lines(connection, "lines.csv", LINES.encode()) == (4, [])
    with engine.connect() as connection:
        report = {row.line: row.as_json() for row in daily_compliance(connection, DAY.date())}
        assert daily_compliance(connection, date(2026, 12, 5)) == []  # no warning that day
    sinter, pellet, kiln, boiler = (
        report[n] for n in ("1号烧结机", "球团线", "熟料线", "供热锅炉")
    )
    assert sinter["status"] == "complied"
    assert (sinter["required"], sinter["measured"]) == ("stop", 120.0)
    # The baseline skips the earlier warning day (100 kW then): 24 h × 400 kW.
    assert sinter["baseline"] == 9600.0
    assert "2026-12-07" not in sinter["evidence"]["baseline_days"]
    assert pellet["status"] == "not_complied"
    assert pellet["required"] == "cut:0.3"
    assert pellet["evidence"]["allowed_kwh"] == 7392.0  # 0.7 × 9600 × 1.1; drew 8640
    assert kiln["status"] == "no_data"
    assert boiler["status"] == "exempt"
    assert {k: sinter[k] for k in ("enterprise", "county", "grade", "level")} == {
        "enterprise": "钢铁厂", "county": "371502", "grade": "C", "level": "orange"}  # fmt: skip


def test_a_line_file_with_problems_imports_nothing(engine: Engine) -> None:
    registry(engine)
    bad = HEADER + (
        "91371500000000001A,2026-2027,2026-10-01,2027-03-16,1号烧结机,烧结,烧结主抽风机,限产20%,停产,停产\n"
        "91371500000000009A,2026-2027,2026-10-01,2027-03-16,A线,,水泥窑,,停产,\n"
        "91371500000000002A,2026-2027,2026-10-01,2027-03-16,熟料线,,不存在的表,减半,停产,\n"
        "91371500000000001A,2026-2027,2026-10-01,2027-03-16,1号烧结机,烧结,烧结主抽风机,,停产,\n"
    )
    with engine.begin() as connection:
        count, errors = import_lines(connection, "lines.csv", bad.encode())
    assert count == 0
    assert [(e.row, e.column) for e in errors] == [
        (3, "统一社会信用代码"), (4, "黄色"), (5, "生产线")]  # fmt: skip
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(EmergencyLine)) == 0


def test_cli_follows_the_compliance_contract(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    registry(engine)
    lines = tmp_path / "lines.csv"
    lines.write_text(LINES, encoding="utf-8")
    done = envwatch("emergency", "lines", "--db", database_url, str(lines))
    assert done.returncode == 0, done.stderr
    done = envwatch(
        "emergency", "compliance", "--db", database_url, "--day", "2026-12-10", "--json"
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 4
    keys = {"enterprise", "county", "grade", "line", "level", "required", "measured", "baseline",
            "status", "evidence"}  # fmt: skip
    assert all(set(row) == keys for row in rows)
    assert sorted(row["status"] for row in rows) == [
        "complied", "exempt", "no_data", "not_complied"]  # fmt: skip
    with engine.connect() as connection:
        orange = connection.scalar(select(EmergencyPeriod.id).where(
            EmergencyPeriod.level == "orange"))  # fmt: skip
    done = envwatch("emergency", "assessment", "--db", database_url, "--warning", str(orange))
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document) == {"warning", "by_county", "by_grade", "total"}
    assert [g["group"] for g in document["by_grade"]] == ["-", "B", "C"]
    done = envwatch("emergency", "assessment", "--db", database_url, "--warning", "999")
    assert done.returncode == 1 and "unknown_warning" in done.stderr


def test_a_declared_warning_notifies_the_enterprises_it_covers_with_their_measures(
    engine: Engine,
) -> None:
    registry(engine)
    with engine.begin() as connection:
        import_lines(connection, "lines.csv", LINES.encode())
        connection.execute(insert(County), [{"code": "371503", "name_zh": "茌平区"}])
        connection.execute(insert(Enterprise), [
            {"id": 4, "name": "茌平铝业", "credit_code": "91371500000000004A",
             "county_code": "371503"}])  # fmt: skip
    received = Received()
    with webhook_receiver(received) as url, smtp_receiver(received) as smtp_port:
        with engine.begin() as connection:
            connection.execute(insert(NotificationTarget), [
                {"role": "enterprise_user", "channel": "webhook", "address": url,
                 "enterprise_id": 1, "active": True},
                {"role": "enterprise_user", "channel": "email", "address": "env@steel.example",
                 "enterprise_id": 1, "active": True},
                {"role": "enterprise_user", "channel": "email", "address": "env@al.example",
                 "enterprise_id": 4, "active": True},
            ])  # fmt: skip
            start = DAY + timedelta(days=2)
            period = declare_emergency(connection, level="red", starts_at=start,
                                       ends_at=start + timedelta(days=1), county_code="371502",
                                       reference="聊重污办〔2026〕9号",
                                       declared_by="admin")  # fmt: skip
            # The enterprise in the other county hears nothing.
            assert queue_warning_notices(connection, period, datetime.now(UTC)) == 2
        notifier = Notifier(engine, Mail("127.0.0.1", smtp_port, "envwatch@city.example"),
                            timeout_s=5)  # fmt: skip
        assert notifier.deliver_due() == 2
    ((_, body),) = received.requests
    payload = json.loads(body)
    assert payload["event"] == "warning_declared"
    assert payload["warning"]["level"] == "red" and payload["enterprise"]["grade"] == "C"
    assert payload["measures"] == [{"line": "1号烧结机", "measure": "stop"},
                                   {"line": "球团线", "measure": "stop"}]  # fmt: skip
    (mail,) = received.mail
    assert mail["To"] == "env@steel.example" and "红色预警" in mail["Subject"]
    assert "1号烧结机：停产" in mail.get_content() and "聊重污办〔2026〕9号" in mail.get_content()


def test_a_warning_is_upgraded_and_lifted_as_periods_of_their_own(engine: Engine) -> None:
    registry(engine)
    start = DAY + timedelta(days=5)
    with engine.begin() as connection:
        import_lines(connection, "lines.csv", LINES.encode())
        first = declare_emergency(connection, level="orange", starts_at=start,
                                  ends_at=start + timedelta(days=2), county_code=None,
                                  reference="聊重污办〔2026〕20号",
                                  declared_by="admin")  # fmt: skip
        red = change_emergency(connection, first, at=start + timedelta(hours=12), level="red",
                               declared_by="admin")  # fmt: skip
        assert red is not None
        assert change_emergency(connection, red, at=start + timedelta(hours=30), level=None,
                                declared_by="admin") is None  # fmt: skip
        for at, level, code in (
            (start + timedelta(days=3), "yellow", "not_in_warning"),  # after the lift
            (start + timedelta(hours=20), "red", "same_level"),
        ):
            with pytest.raises(PeerError) as refused:
                change_emergency(connection, red, at=at, level=level, declared_by="admin")
            assert refused.value.code == code
    with engine.connect() as connection:
        periods = connection.execute(
            select(EmergencyPeriod.level, EmergencyPeriod.starts_at, EmergencyPeriod.ends_at,
                   EmergencyPeriod.reference)
            .where(EmergencyPeriod.starts_at >= start).order_by(EmergencyPeriod.starts_at)
        ).all()  # fmt: skip
        # The first day: 12 hours orange, then 12 hours red, each judged by its own measure.
        levels = sorted((r.line, r.level, r.required.text if r.required else "none")
                        for r in daily_compliance(connection, start.date()))  # fmt: skip
    assert [(p.level, p.starts_at, p.ends_at) for p in periods] == [
        ("orange", start, start + timedelta(hours=12)),
        ("red", start + timedelta(hours=12), start + timedelta(hours=30)),
    ]
    assert {p.reference for p in periods} == {"聊重污办〔2026〕20号"}
    assert ("1号烧结机", "orange", "stop") in levels and ("球团线", "red", "stop") in levels
    assert ("球团线", "orange", "cut:0.3") in levels


def test_the_emissions_view_judges_hourly_emissions_against_the_baseline(
    database_url: str, engine: Engine
) -> None:
    """Steel (grade C) cuts SO2 by 30 % (orange asks 20 %), cement (B) only by
    5 % and its NOx stack is silent on the warning day, the heating firm is
    exempt; the earlier yellow-warning day is no baseline."""
    registry(engine)
    during = {("STEEL", "a21026"): 7.0, ("CEMENT", "a21026"): 9.5, ("CEMENT", "a21002"): None,
              ("HEAT", "a21026"): 10.0}  # fmt: skip
    firm = {"STEEL": 1, "CEMENT": 2, "HEAT": 3}
    rows = []
    for (mn, pollutant), warned in during.items():
        for step in range(11 * 24):
            hour = DAY - timedelta(days=10) + timedelta(hours=step)
            value = warned if hour >= DAY else 10.0
            if DAY - timedelta(days=3) <= hour < DAY - timedelta(days=2):
                value = 1.0  # cut hard in the earlier warning
            if value is not None:
                rows.append({"mn": mn, "pollutant": pollutant, "hour": hour,
                             "enterprise_id": firm[mn], "outlet_id": None, "validity": "valid",
                             "cause": None, "concentration": None, "flow_m3": None,
                             "measured_kg": value, "emission_kg": value, "method": "measured",
                             "rule": None})  # fmt: skip
    with engine.begin() as connection:
        assert import_lines(connection, "lines.csv", LINES.encode())[1] == []
        connection.execute(insert(HourlyEmission), rows)
    with engine.connect() as connection:
        report = {(row.enterprise, row.pollutant): row
                  for row in daily_emissions(connection, DAY.date())}  # fmt: skip
    assert {key: row.verdict.status for key, row in report.items()} == {
        ("钢铁厂", "a21026"): "complied", ("水泥厂", "a21026"): "not_complied",
        ("水泥厂", "a21002"): "no_data", ("热力公司", "a21026"): "exempt"}  # fmt: skip
    cement = report[("水泥厂", "a21026")]
    assert cement.required_cut == 0.2
    assert cement.verdict.baseline_kwh == 240.0  # 24 h × 10 kg: the 1 kg day skipped
    done = envwatch("emergency", "emissions", "--db", database_url, "--day", DAY.date().isoformat())
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 4
    assert all(line.keys() >= {"enterprise", "county", "grade", "pollutant", "level",
                               "required_cut", "emission_kg", "baseline_kg", "achieved_cut",
                               "status", "evidence"} for line in lines)  # fmt: skip
    shown = next(line for line in lines if line["pollutant"] == "a21026"
                 and line["enterprise"] == "水泥厂")  # fmt: skip
    assert shown["achieved_cut"] == 0.05 and shown["evidence"]["allowed_kg"] == 211.2
