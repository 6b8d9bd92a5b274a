"""The columnar replay from the database (``processing/columnar_replay.py``)
stores what the streaming replay stores, on SQLite and PostgreSQL; a dry run
counts the differences and writes nothing."""

from __future__ import annotations

import json
import math
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from typer.testing import CliRunner

from envwatch.cli import app
from envwatch.processing.columnar_replay import job_name, replay_columnar
from envwatch.processing.columns import Reader, read_columns
from envwatch.processing.worker import replay
from envwatch.rules.columnar import DeviceColumns
from envwatch.rules.model import O2_CODE
from envwatch.store.cursors import read_cursor, save_cursor
from envwatch.store.db import make_engine
from envwatch.store.schema import FindingRecord, Measurement

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
from rules import POLLUTANT, START, store
from rules_fleet import Device, fleet, o2_of

MINUTES = 600
SINCE, UNTIL = START - timedelta(days=1), START + timedelta(minutes=MINUTES + 1)
RULES = ["negative", "zero", "constant", "spike", "o2_dilution", "pinned",
         "concentration_without_flow", "offline"]  # fmt: skip


def add_o2(engine: Engine, devices: list[Device]) -> None:
    """An O2 value (``o2_of``) beside each stored upload's pollutant."""
    by_mn = {device.mn: device for device in devices}
    with engine.begin() as connection:
        uploads = connection.execute(
            select(
                Measurement.mn, Measurement.cn, Measurement.data_time, Measurement.frame_id
            ).where(Measurement.pollutant == POLLUTANT)
        ).all()
        connection.execute(
            insert(Measurement),
            [{"mn": mn, "cn": cn, "data_time": at, "pollutant": O2_CODE, "flag": "N",
              "rtd": o2_of(by_mn[mn], int((at - START).total_seconds() // 60)),
              "frame_id": frame} for mn, cn, at, frame in uploads],
        )  # fmt: skip


def stored(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return sorted(
            tuple(row)
            for row in connection.execute(
                select(
                    FindingRecord.mn,
                    FindingRecord.rule,
                    FindingRecord.pollutant,
                    FindingRecord.window_start,
                    FindingRecord.window_end,
                    FindingRecord.severity,
                    FindingRecord.explanation,
                    FindingRecord.evidence,
                )
            )
        )


def test_columnar_replay_stores_the_streaming_findings(engine: Engine) -> None:
    devices = fleet(12, MINUTES)
    store(engine, devices, MINUTES)
    add_o2(engine, devices)
    replay(engine, SINCE, UNTIL, trust_arrival=False)
    streamed = stored(engine)
    assert {row[1] for row in streamed} >= {"negative", "zero", "constant", "spike", "o2_dilution",
                                          "offline"}  # fmt: skip

    # Every rule, as the streaming replay ran them: the same findings.
    report = replay_columnar(engine, SINCE, UNTIL, trust_arrival=False, dry_run=True)
    assert report.changes == {"new": 0, "removed": 0, "changed": 0, "unchanged": len(streamed)}
    assert not report.streamed_devices and not report.engine_devices
    assert {"exceedance", "offline"} <= set(report.columnar_rules)
    report = replay_columnar(engine, SINCE, UNTIL, rules=RULES, trust_arrival=False, dry_run=True)
    assert report.changes == {"new": 0, "removed": 0, "changed": 0, "unchanged": len(streamed)}
    assert not report.streamed_rules and not report.streamed_devices  # offline too

    with engine.begin() as connection:  # one removed, one changed: the dry run says so
        first = connection.execute(select(FindingRecord.id).order_by(FindingRecord.id)).scalars()
        ids = list(first)[:2]
        connection.execute(delete(FindingRecord).where(FindingRecord.id == ids[0]))
        connection.execute(
            update(FindingRecord).where(FindingRecord.id == ids[1]).values(explanation="x")
        )
    report = replay_columnar(engine, SINCE, UNTIL, rules=RULES, trust_arrival=False, dry_run=True)
    assert report.changes is not None
    assert (report.changes["new"], report.changes["changed"]) == (1, 1)
    assert stored(engine) != streamed  # nothing written

    replay_columnar(engine, SINCE, UNTIL, rules=RULES, trust_arrival=False)
    assert stored(engine) == streamed

    # The columns read through ADBC are those read row by row (without it).
    mns = sorted(d.mn for d in fleet(12, MINUTES))
    columns = [list(read_columns(engine, mns, SINCE, UNTIL, devices_per_pass=5, arrow=arrow))
               for arrow in (True, False)]  # fmt: skip
    reader = Reader(engine)
    # PostgreSQL's driver is installed (both ways were read); SQLite is never
    # read through ADBC (its second copy of SQLite corrupts the file).
    assert reader.arrow == (engine.dialect.name == "postgresql")
    reader.close()
    assert [c.mn for c in columns[0]] == mns
    assert list(map(_plain, columns[0])) == list(map(_plain, columns[1]))


def _plain(columns: DeviceColumns) -> tuple[Any, ...]:
    def levels(values: list[float]) -> list[float | None]:
        return [None if math.isnan(v) else v for v in values]

    return (
        columns.mn, columns.frame_id.tolist(), columns.cn.tolist(), columns.data_time.tolist(),
        columns.received_at.tolist(),
        {code: (f.rows.tolist(), levels(f.level.tolist()), f.flag.tolist())
         for code, f in columns.factors.items()},
    )  # fmt: skip


def test_the_cli_dry_run_reports_and_refuses_unknown_rules(sqlite_url: str) -> None:
    runner = CliRunner()
    base = ["rules", "replay", "--db", sqlite_url, "--since", "2026-01-01", "--until", "2026-01-10"]
    done = runner.invoke(app, [*base, "--columnar", "--dry-run", "--rules", "zero,negative"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output.strip().splitlines()[-1])
    assert report["changes"] == {"new": 0, "removed": 0, "changed": 0, "unchanged": 0}
    assert report["columnar_rules"] == ["zero", "negative"] and report["streamed_rules"] == []
    refused = runner.invoke(app, [*base, "--columnar", "--rules", "nonesuch"])
    assert refused.exit_code != 0


def test_an_interrupted_replay_resumes_after_the_devices_it_replaced(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    devices = fleet(12, MINUTES)
    store(engine, devices, MINUTES)
    rules = ["negative", "zero", "constant"]
    replay_columnar(engine, SINCE, UNTIL, rules=rules, trust_arrival=False)
    everything = stored(engine)
    with engine.begin() as connection:  # as if stopped after 5 devices, the rest unwritten
        connection.execute(delete(FindingRecord))
        save_cursor(connection, job_name(SINCE, UNTIL, rules), 5)
    report = replay_columnar(engine, SINCE, UNTIL, rules=rules, trust_arrival=False, resume=True)
    assert report.resumed_after == 5 and report.devices == len(devices) - 5
    first_five = {d.mn for d in sorted(devices, key=lambda d: d.mn)[:5]}
    assert stored(engine) == [row for row in everything if row[0] not in first_five]
    with engine.connect() as connection:  # done: the next run starts afresh
        assert read_cursor(connection, job_name(SINCE, UNTIL, rules)) == 0
    engine.dispose()
