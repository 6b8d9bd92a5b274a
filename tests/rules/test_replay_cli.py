"""``envwatch rules replay`` recomputes stored findings with the rules in
force (ENVWATCH_RULES_FILE), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from envwatch.processing import worker
from envwatch.processing.worker import Processor
from envwatch.rules.parameters import DEFAULT_RULES_FILE
from envwatch.store import cursors
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.schema import FindingRecord
from tests.gateway.helpers import register

MN = "010000A8900016F000169DC1"
T0 = datetime(2026, 11, 29, 8, 0)


def arrived(moment: datetime) -> datetime:
    """Received as it was measured (China Standard Time to UTC): live, not back-filled."""
    return (moment - timedelta(hours=8)).replace(tzinfo=UTC)


def zero_frames(mn: str, first: int, count: int, start: datetime = T0) -> list[ReceivedFrame]:
    """Zeros every 30 s from ``start``, received as measured (live)."""
    frames = []
    for i in range(first, first + count):
        moment = start + timedelta(seconds=30 * i)
        rows = (
            MeasurementRow(mn, "2011", moment, "a21026", rtd=0.0, flag="N"),
            MeasurementRow(mn, "2011", moment, "a00000", rtd=150.0, flag="N"),
        )
        frames.append(ReceivedFrame(arrived(moment), "p", b"##", "accepted", mn=mn,
                                    cn="2011", measurements=rows))  # fmt: skip
    return frames


def store_zeros(engine: Engine) -> None:
    register(engine, (MN, "123456"))
    Archive(engine).write_batch(zero_frames(MN, 0, 15))


def replay(database_url: str, rules_file: Path | None = None) -> dict[str, object]:
    environment = dict(os.environ)
    if rules_file is not None:
        environment["ENVWATCH_RULES_FILE"] = str(rules_file)
    done = subprocess.run(
        [sys.executable, "-m", "envwatch", "rules", "replay", "--db", database_url,
         "--since", "2026-11-29T00:00:00+08:00", "--until", "20261130000000"],
        capture_output=True, text=True, check=False, timeout=60, env=environment,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def rules_of(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.execute(select(FindingRecord.rule)).scalars())


def test_replay_uses_the_rules_in_force(engine: Engine, database_url: str, tmp_path: Path) -> None:
    store_zeros(engine)
    result = replay(database_url)
    assert result["since"] == "2026-11-29T00:00:00+08:00"
    assert rules_of(engine) == ["zero"]
    assert replay(database_url)["findings"] == 1  # again: the same, stored once
    assert rules_of(engine) == ["zero"]
    stricter = tmp_path / "rules.toml"
    text = DEFAULT_RULES_FILE.read_text(encoding="utf-8")
    stricter.write_text(
        text.replace("[rules.zero]", "[rules.zero]\n# needs more").replace(
            "consecutive = 10", "consecutive = 50"
        ),
        encoding="utf-8",
    )
    assert replay(database_url, stricter)["findings"] == 0
    assert rules_of(engine) == []


def test_a_restarted_processor_picks_up_runs_that_span_the_restart(engine: Engine) -> None:
    register(engine, (MN, "123456"))
    archive = Archive(engine)

    archive.write_batch(zero_frames(MN, 0, 6))
    before = Processor.create(engine)
    assert before.run_once() == 6
    assert rules_of(engine) == []
    archive.write_batch(zero_frames(MN, 6, 6))
    after = Processor.create(engine)  # a restart: its state is rebuilt from the store
    assert after.run_once() == 6
    assert rules_of(engine) == ["zero"]
    with engine.connect() as connection:
        start = connection.execute(select(FindingRecord.window_start)).scalar_one()
    assert start == T0


def test_a_page_of_resends_does_not_stall_the_processor(engine: Engine) -> None:
    # Resent frames store no measurements of their own: a pass that reads only
    # such frames must still move the cursor past them.
    register(engine, (MN, "123456"))
    archive = Archive(engine)

    def upload(i: int) -> ReceivedFrame:
        moment = T0 + timedelta(seconds=30 * i)
        rows = (MeasurementRow(MN, "2011", moment, "a21026", rtd=0.0, flag="N"),
                MeasurementRow(MN, "2011", moment, "a00000", rtd=150.0, flag="N"))  # fmt: skip
        return ReceivedFrame(arrived(moment), "p", b"##", "accepted", mn=MN, cn="2011",
                             measurements=rows)  # fmt: skip

    archive.write_batch([upload(0)])
    archive.write_batch([upload(0) for _ in range(5)])  # five resends
    archive.write_batch([upload(i) for i in range(1, 12)])
    processor = Processor.create(engine)
    processor.batch_frames = 3
    passes = 0
    while processor.run_once():
        passes += 1
        assert passes < 20
    assert rules_of(engine) == ["zero"]


def test_a_failed_pass_is_judged_again_as_if_never_seen(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(engine, (MN, "123456"))
    archive = Archive(engine)
    archive.write_batch(zero_frames(MN, 0, 6))
    processor = Processor.create(engine)
    assert processor.run_once() == 6
    archive.write_batch(zero_frames(MN, 6, 6))  # the run of zeros reaches ten here
    real_save_cursor = cursors.save_cursor

    def store_down(*args: object, **kwargs: object) -> None:
        monkeypatch.setattr(worker, "save_cursor", real_save_cursor)  # once
        raise OperationalError("UPDATE processing_cursor", {}, Exception("server closed"))

    monkeypatch.setattr(worker, "save_cursor", store_down)
    with pytest.raises(OperationalError):
        processor.run_once()
    assert rules_of(engine) == []  # the failed pass stored nothing
    # The same uploads again: found once, as if the failed pass had not been.
    assert processor.run_once() == 6
    assert rules_of(engine) == ["zero"]
    with engine.connect() as connection:
        assert connection.execute(select(FindingRecord.window_start)).scalar_one() == T0


def test_a_restart_warms_each_device_up_from_its_own_newest_data(engine: Engine) -> None:
    ahead = "010000A8900016F000169DC2"
    register(engine, (MN, "123456"), (ahead, "123456"))
    archive = Archive(engine)
    archive.write_batch(zero_frames(MN, 0, 6))
    # Another logger's data, two days on, stored after them: the newest data
    # before the cursor is not this device's.
    archive.write_batch(zero_frames(ahead, 0, 1, T0 + timedelta(days=2)))
    assert Processor.create(engine).run_once() == 7
    archive.write_batch(zero_frames(MN, 6, 6))
    assert Processor.create(engine).run_once() == 6  # a restart
    # (This device is also offline by the other's clock, two days on.)
    assert rules_of(engine).count("zero") == 1
