"""Meter readings that arrive in batches over HTTP reach the streaming rules
(and replay) like readings sent over HJ 212. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine, insert, select

from envwatch.alerts.desk import AlertDesk
from envwatch.auth.tokens import create_token
from envwatch.processing.worker import Processor, replay
from envwatch.registry.emergency_lists import import_lines
from envwatch.registry.maintenance import declare_emergency
from envwatch.store.schema import Alert, Enterprise, FindingRecord, Meter
from tests.electricity.test_http_batch import NDJSON, PATH, base_url, bearer, lines

__all__ = ["base_url"]  # the fixture, used by name

T0 = datetime(2026, 11, 29, 8, 0)


def add_meters(engine: Engine) -> tuple[int, int]:
    """A production and a treatment meter without MN (batches only), of enterprise 1."""
    with engine.begin() as connection:
        ids = [
            connection.execute(
                insert(Meter)
                .values(enterprise_id=1, name=name, kind=kind, rated_kw=rated)
                .returning(Meter.id)
            ).scalar_one()
            for name, kind, rated in (("1号生产线", "production", 1000.0),
                                      ("1号除尘器", "treatment", 400.0))
        ]  # fmt: skip
    return ids[0], ids[1]


def findings(engine: Engine) -> list[tuple[str, str, datetime]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(FindingRecord.rule, FindingRecord.mn, FindingRecord.window_start)
            .order_by(FindingRecord.id)
        ).all()  # fmt: skip
    return [(row.rule, row.mn, row.window_start) for row in rows]


def test_treatment_idling_reported_in_a_batch_becomes_a_finding(
    base_url: str, engine: Engine
) -> None:
    production, treatment = add_meters(engine)
    _, token = create_token(engine, "collector", ["electricity:write"])
    readings = []
    for minute in range(31):
        when = (T0 + timedelta(minutes=minute)).strftime("%Y%m%d%H%M%S")
        readings += [{"meter": production, "time": when, "power_kw": 800.0},
                     {"meter": treatment, "time": when, "power_kw": 20.0}]  # fmt: skip
    batch = lines(*readings)
    processor = Processor.create(engine)
    for _ in range(2):  # sent twice: read by the rules once
        response = httpx.post(base_url + PATH, content=batch, headers=bearer(token, **NDJSON))
        assert response.status_code == 200, response.text
        while processor.run_once():
            pass
    streamed = findings(engine)
    assert streamed == [("treatment_off", f"meter:{treatment}", T0)]
    # A meter known only from batches is never "offline" between batches.
    assert not [f for f in streamed if f[0] == "offline"]
    # Replay reads the same batches and finds the same.
    replay(engine, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert sorted(findings(engine)) == sorted(streamed)


def test_a_listed_line_that_keeps_running_in_a_warning_opens_an_alert(
    base_url: str, engine: Engine
) -> None:
    production, _ = add_meters(engine)
    with engine.begin() as connection:
        credit, county = connection.execute(
            select(Enterprise.credit_code, Enterprise.county_code).where(Enterprise.id == 1)
        ).one()  # fmt: skip
        header = "统一社会信用代码,版本,生效日期,失效日期,生产线,电表,橙色\n"
        listed = f"{credit},2026-2027,2026-10-01,2027-03-16,1号生产线,1号生产线,停产\n"
        assert import_lines(connection, "lines.csv", (header + listed).encode()) == (1, [])
        declare_emergency(connection, level="orange", starts_at=T0,
                          ends_at=T0 + timedelta(hours=12), county_code=county,
                          reference="聊重污办〔2026〕3号", declared_by="admin")  # fmt: skip
    _, token = create_token(engine, "collector", ["electricity:write"])
    readings = [
        {"meter": production, "time": (T0 + timedelta(minutes=m)).strftime("%Y%m%d%H%M%S"),
         "power_kw": 800.0}
        for m in range(3)
    ]  # fmt: skip
    response = httpx.post(
        base_url + PATH, content=lines(*readings), headers=bearer(token, **NDJSON)
    )
    assert response.status_code == 200, response.text
    processor = Processor.create(engine)
    while processor.run_once():
        pass
    assert ("emergency_stop", f"meter:{production}", T0) in findings(engine)
    with engine.connect() as connection:
        start, end = connection.execute(
            select(FindingRecord.window_start, FindingRecord.window_end)
            .where(FindingRecord.rule == "emergency_stop")
        ).one()  # fmt: skip
    # Found on the reading that confirms the line runs, a minute after the first
    # one (not at the day's end): the desk's next pass opens the alert.
    assert (start, end) == (T0, T0 + timedelta(minutes=1))
    AlertDesk(engine).run_once()
    with engine.connect() as connection:
        alert = connection.execute(
            select(Alert.rule, Alert.enterprise_id, Alert.county_code, Alert.state)
            .where(Alert.mn == f"meter:{production}")
        ).one()  # fmt: skip
    assert (alert.rule, alert.enterprise_id, alert.county_code) == ("emergency_stop", 1, county)
