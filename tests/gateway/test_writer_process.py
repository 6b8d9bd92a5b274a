"""The archive writer process: same results as the in-process archive, and a
lost or failing child never gets a batch acknowledged."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, text

from envwatch.gateway.writer_process import ArchiveProcess, WriterFailedError, _from_wire, _to_wire
from envwatch.store.archive import MeasurementRow, MeterReading, ReceivedFrame, verify
from envwatch.store.schema import ArchivedFrame, Measurement

NOW = datetime(2026, 11, 29, 3, 0, 0, 123456, tzinfo=UTC)
HOUR = datetime(2026, 11, 29, 11, 0)


def frame(qn: str, mn: str | None = "MN1") -> ReceivedFrame:
    return ReceivedFrame(
        received_at=NOW,
        peer="127.0.0.1:5000",
        raw=f"##frame {qn}".encode(),
        verdict="accepted" if mn else "rejected",
        error_code=None if mn else "garbage",
        warnings="W1 a warning",
        mn=mn,
        cn="2061" if mn else None,
        qn=qn,
        measurements=(
            (MeasurementRow(mn, "2061", HOUR, "a21026", avg=float(qn), flag="N"),) if mn else ()
        ),
    )


@pytest.fixture
def writer(database_url: str, engine: Engine) -> Iterator[ArchiveProcess]:
    process = ArchiveProcess(database_url)
    yield process
    process.close()


def test_the_child_stores_what_the_archive_would(writer: ArchiveProcess, engine: Engine) -> None:
    ids = writer.write_batch([frame("1"), frame("2", mn=None), frame("3", mn="MN2")])
    assert len(set(ids)) == 3
    with engine.connect() as connection:
        stored = connection.execute(
            select(ArchivedFrame.id, ArchivedFrame.chain, ArchivedFrame.warnings).order_by(
                ArchivedFrame.id
            )
        ).all()
        assert [tuple(row) for row in stored] == [
            (ids[0], "MN1", "W1 a warning"),
            (ids[1], "-", "W1 a warning"),
            (ids[2], "MN2", "W1 a warning"),
        ]
        measured = connection.execute(select(Measurement.mn, Measurement.avg, Measurement.frame_id))
        assert {tuple(row) for row in measured} == {("MN1", 1.0, ids[0]), ("MN2", 3.0, ids[2])}
    assert verify(engine).broken == ()


def test_a_child_killed_mid_batch_fails_it_and_the_next_batch_restarts_it(
    writer: ArchiveProcess, engine: Engine
) -> None:
    writer.write_batch([frame("1")])
    assert writer.pid is not None
    # Hold the archive locked, so the next batch is in the child's hands when it dies.
    with engine.connect() as blocker:
        if engine.dialect.name == "sqlite":
            blocker.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            blocker.begin()
            blocker.exec_driver_sql("LOCK TABLE archived_frame IN EXCLUSIVE MODE")
        in_flight = writer.submit([frame("2")])
        time.sleep(0.5)
        assert not in_flight.done()
        os.kill(writer.pid, signal.SIGKILL)
        with pytest.raises(WriterFailedError, match="lost"):
            in_flight.result(timeout=30)
        blocker.rollback()
    writer.write_batch([frame("3")])
    assert writer.starts == 2
    with engine.connect() as connection:
        qns = connection.execute(select(ArchivedFrame.qn).order_by(ArchivedFrame.seq)).scalars()
        assert list(qns) == ["1", "3"]
    # The new child read the chain head back: the chain is unbroken.
    assert verify(engine).broken == ()


def test_batches_sent_together_are_stored_in_order(writer: ArchiveProcess, engine: Engine) -> None:
    futures = [writer.submit([frame(str(n))]) for n in range(1, 21)]
    ids = [i for future in futures if (i := future.result(timeout=60)[0]) is not None]
    assert len(ids) == len(futures) and ids == sorted(ids)
    with engine.connect() as connection:
        qns = connection.execute(select(ArchivedFrame.qn).order_by(ArchivedFrame.seq)).scalars()
        assert list(qns) == [str(n) for n in range(1, 21)]
    assert verify(engine).broken == ()


def test_a_store_error_in_the_child_is_raised_not_acknowledged(
    writer: ArchiveProcess, engine: Engine
) -> None:
    # The store itself failing (here: its table gone) is no refused row: it raises.
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE archived_frame RENAME TO archived_frame_away"))
    try:
        with pytest.raises(WriterFailedError, match=r"archived_frame"):
            writer.write_batch([frame("1")])
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE archived_frame_away RENAME TO archived_frame"))
    # The child survives its failed batch and stores the next one.
    assert writer.write_batch([frame("2")])[0] is not None
    assert writer.starts == 1
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ArchivedFrame)).scalar() == 1


def test_a_row_the_store_refuses_in_the_child_is_archived_rejected_not_acknowledged(
    writer: ArchiveProcess, engine: Engine
) -> None:
    without_verdict = ReceivedFrame(
        received_at=NOW,
        peer="p",
        raw=b"x",
        verdict=None,  # type: ignore[arg-type]
        mn="MN1",
        cn="2011",
    )
    assert writer.write_batch([frame("1"), without_verdict, frame("3")])[1] is None
    with engine.connect() as connection:
        rows = connection.execute(
            select(ArchivedFrame.qn, ArchivedFrame.verdict).order_by(ArchivedFrame.seq)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("1", "accepted"),
        (None, "rejected"),
        ("3", "accepted"),
    ]


def test_a_frame_crosses_to_the_child_unchanged() -> None:
    sent = replace(
        frame("1"), electricity=(MeterReading(5, HOUR, 412.5, None, 620.0),), error_code="x"
    )
    assert _from_wire(_to_wire(sent)) == sent


def test_ctrl_c_to_the_process_group_does_not_kill_the_child_mid_batch(
    writer: ArchiveProcess, engine: Engine
) -> None:
    writer.write_batch([frame("1")])
    assert writer.pid is not None
    os.kill(writer.pid, signal.SIGINT)
    os.kill(writer.pid, signal.SIGTERM)
    writer.write_batch([frame("2")])
    assert writer.starts == 1


def test_a_child_killed_while_idle_is_replaced_for_the_next_batch(
    writer: ArchiveProcess, engine: Engine
) -> None:
    writer.write_batch([frame("1")])
    assert writer.pid is not None
    os.kill(writer.pid, signal.SIGKILL)
    # Sent before the death shows: that batch fails unacknowledged (its fate is
    # unknown); sent after: it goes to a new child. Either way the next one is stored.
    with contextlib.suppress(WriterFailedError):
        writer.write_batch([frame("2")])
    writer.write_batch([frame("3")])
    assert writer.starts == 2
    with engine.connect() as connection:
        qns = set(connection.execute(select(ArchivedFrame.qn)).scalars())
    assert {"1", "3"} <= qns
    assert verify(engine).broken == ()
