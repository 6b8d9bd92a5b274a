"""An upload a rule fails on is quarantined with its error and processing goes
on past it, across restarts; administrators see it in the CLI and the API
(issue 12 item 1), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from envwatch.demo.seed import seed_demo
from envwatch.processing.worker import Processor, store_findings
from envwatch.rules.engine import RuleEngine
from envwatch.rules.model import Finding, Severity
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.schema import FindingRecord, ProcessingCursor, QuarantinedUpload
from tests.gateway.helpers import register
from tests.rules.test_totality import Brittle
from tests.web.server import serving
from tests.web.test_pages_and_api import session

MN = "010000A8900016F000169DC1"
T0 = datetime(2026, 11, 29, 8, 0)


def store(engine: Engine, *levels: float) -> None:
    frames = []
    for i, level in enumerate(levels):
        row = MeasurementRow(MN, "2011", T0 + timedelta(minutes=i), "a21026", rtd=level, flag="N")
        frames.append(ReceivedFrame(datetime.now(UTC), "p", b"##", "accepted", mn=MN, cn="2011",
                                    measurements=(row,)))  # fmt: skip
    Archive(engine).write_batch(frames)


def processor(engine: Engine) -> Processor:
    made = Processor.create(engine)
    made.refresh_registry()
    assert made.rules is not None
    made.rules = RuleEngine(made.rule_set, made.rules.contexts, rules=[Brittle()])
    return made


def test_a_failing_upload_is_quarantined_and_processing_goes_on(
    engine: Engine, database_url: str
) -> None:
    register(engine, (MN, "123456"))
    store(engine, 12.0, 13.0, 14.0)  # the rule fails on 13
    first = processor(engine)
    while first.run_once():
        pass
    assert first.quarantined == 1
    with engine.connect() as connection:
        (row,) = connection.execute(select(QuarantinedUpload)).all()
        cursor = connection.execute(select(ProcessingCursor.last_frame_id)).scalar()
    assert (row.mn, row.cn, row.rule) == (MN, "2011", "brittle_for_test")
    assert row.data_time == T0 + timedelta(minutes=1) and "ZeroDivisionError" in row.error
    assert cursor == first.last_frame_id and cursor is not None
    # A restart neither repeats it nor stops at it.
    store(engine, 15.0)
    second = processor(engine)
    while second.run_once():
        pass
    assert second.quarantined == 0 and (second.last_frame_id or 0) > cursor
    done = subprocess.run(
        [sys.executable, "-m", "envwatch", "rules", "quarantine", "--db", database_url, "--json"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (listed,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert listed["rule"] == "brittle_for_test" and listed["data_time"].endswith("+08:00")


def test_a_finding_the_database_refuses_is_quarantined_not_fatal(engine: Engine) -> None:
    good = Finding(MN, "a21026", "zero", 1, T0, T0, Severity.WARNING, "零值", {"x": float("nan")})
    refused = Finding("M" * 40, None, "zero", 1, T0, T0, Severity.WARNING, "零值", {})
    with engine.begin() as connection:
        assert store_findings(connection, [good, refused], "test") == 2
    with engine.connect() as connection:
        stored = connection.execute(select(FindingRecord.mn, FindingRecord.evidence)).all()
        quarantined = connection.execute(select(QuarantinedUpload.mn)).scalars().all()
    # NaN is no JSON a database takes: stored as null. An MN past its column,
    # refused (by PostgreSQL; SQLite keeps any length) and set aside.
    assert (MN, {"x": None}) in [(row.mn, row.evidence) for row in stored]
    if engine.dialect.name == "postgresql":
        assert len(stored) == 1 and quarantined == ["M" * 32]


def test_administrators_see_the_quarantine_over_the_api(engine: Engine) -> None:
    seed_demo(engine)
    register_free = "010000A8900016F000169DC9"
    with engine.begin() as connection:
        connection.execute(QuarantinedUpload.__table__.insert(), [{  # type: ignore[attr-defined]
            "mn": register_free, "cn": "2061", "data_time": T0, "frame_id": 7,
            "rule": "exceedance", "error": "OverflowError: date value out of range",
            "quarantined_at": datetime.now(UTC)}])  # fmt: skip
    with serving(engine) as url:
        admin, _ = session(url, "admin")
        viewer, _ = session(url, "viewer")
        try:
            listed = admin.get("/api/v1/processing/quarantine").json()
            assert listed["total"] == 1
            assert listed["items"][0]["error"].startswith("OverflowError")
            assert viewer.get("/api/v1/processing/quarantine").status_code == 403
        finally:
            admin.close()
            viewer.close()
