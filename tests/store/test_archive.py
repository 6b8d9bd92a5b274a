"""The raw archive and measurements on real SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from envwatch.store.archive import (
    FIELD_TOO_LONG,
    UNSTORABLE,
    Archive,
    MeasurementRow,
    ReceivedFrame,
    fitted,
    verify,
)
from envwatch.store.db import error_summary
from envwatch.store.schema import ArchivedFrame, Measurement

NOW = datetime(2026, 11, 29, 3, 0, 0, 123456, tzinfo=UTC)
HOUR = datetime(2026, 11, 29, 11, 0)


def frame(qn: str, mn: str | None = "MN1", value: float | None = 1.5) -> ReceivedFrame:
    measurements = (MeasurementRow(mn, "2061", HOUR, "a21026", avg=value, flag="N"),) if mn else ()
    return ReceivedFrame(
        received_at=NOW,
        peer="127.0.0.1:5000",
        raw=f"##frame {qn}".encode(),
        verdict="accepted" if mn else "rejected",
        error_code=None if mn else "garbage",
        mn=mn,
        cn="2061" if mn else None,
        qn=qn,
        measurements=measurements,
    )


def test_a_batch_commits_frames_and_measurements_together(engine: Engine) -> None:
    ids = Archive(engine).write_batch([frame("1"), frame("2", mn=None), frame("3", mn="MN2")])
    assert len(ids) == 3 and len(set(ids)) == 3
    with engine.connect() as connection:
        rows = connection.execute(
            select(ArchivedFrame.chain, ArchivedFrame.seq, ArchivedFrame.qn).order_by(
                ArchivedFrame.id
            )
        ).all()
        assert [tuple(r) for r in rows] == [("MN1", 1, "1"), ("-", 1, "2"), ("MN2", 1, "3")]
        stored = connection.execute(select(Measurement)).all()
        assert {(m.mn, m.pollutant, m.avg, m.frame_id) for m in stored} == {
            ("MN1", "a21026", 1.5, ids[0]),
            ("MN2", "a21026", 1.5, ids[2]),
        }
    assert verify(engine).broken == ()


def test_a_resend_is_archived_but_measured_once(engine: Engine) -> None:
    archive = Archive(engine)
    archive.write_batch([frame("1")])
    archive.write_batch([frame("1"), frame("1", value=9.9)])
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ArchivedFrame)).scalar() == 3
        values = connection.execute(select(Measurement.avg)).scalars().all()
    assert values == [1.5]


def test_chains_continue_across_restarts(engine: Engine) -> None:
    Archive(engine).write_batch([frame("1"), frame("2")])
    Archive(engine).write_batch([frame("3")])  # a new process knows no heads
    with engine.connect() as connection:
        seqs = connection.execute(
            select(ArchivedFrame.seq)
            .where(ArchivedFrame.chain == "MN1")
            .order_by(ArchivedFrame.seq)
        ).scalars()
        assert list(seqs) == [1, 2, 3]
    report = verify(engine)
    assert (report.chains, report.links, report.broken) == (1, 3, ())


def test_verify_names_the_edited_row(engine: Engine, database_url: str) -> None:
    ids = Archive(engine).write_batch([frame(str(n)) for n in range(1, 6)])
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE archived_frame SET qn = 'forged' WHERE id = :id"), {"id": ids[3]}
        )
    (broken,) = verify(engine).broken
    assert (broken.chain, broken.seq, broken.row_id) == ("MN1", 4, ids[3])
    result = subprocess.run(
        [sys.executable, "-m", "envwatch", "archive", "verify", "--db", database_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"BROKEN chain MN1: link 4 (row {ids[3]})" in result.stdout


def test_verify_names_a_deleted_row(engine: Engine) -> None:
    ids = Archive(engine).write_batch([frame(str(n), value=None) for n in range(1, 4)])
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM archived_frame WHERE id = :id"), {"id": ids[1]})
    (broken,) = verify(engine).broken
    assert (broken.seq, broken.reason) == (2, "link 2 is missing")


def test_verify_finds_the_newest_links_cut_off(engine: Engine) -> None:
    ids = Archive(engine).write_batch([frame(str(n), value=None) for n in range(1, 5)])
    assert verify(engine).broken == ()
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM archived_frame WHERE id >= :id"), {"id": ids[2]})
    (broken,) = verify(engine).broken
    assert (broken.chain, broken.seq, broken.reason) == (
        "MN1",
        3,
        "links 3 to 4 are missing (cut off)",
    )


def test_times_written_in_bulk_match_queries_through_the_orm(engine: Engine) -> None:
    # Bulk writes bypass SQLAlchemy: the stored times must still compare equal
    # (and in order) with the times SQLAlchemy binds, or time-window queries miss rows.
    Archive(engine).write_batch([frame("1")])
    with engine.connect() as connection:
        assert (
            connection.execute(
                select(func.count()).select_from(Measurement).where(Measurement.data_time == HOUR)
            ).scalar()
            == 1
        )
        assert (
            connection.execute(
                select(func.count()).select_from(Measurement).where(Measurement.data_time >= HOUR)
            ).scalar()
            == 1
        )
        assert (
            connection.execute(
                select(func.count())
                .select_from(ArchivedFrame)
                .where(ArchivedFrame.received_at >= NOW, ArchivedFrame.received_at <= NOW)
            ).scalar()
            == 1
        )


def test_two_writers_of_one_chain_both_store_and_the_chain_stays_whole(engine: Engine) -> None:
    # A device that reconnects to another gateway process: that writer's view
    # of the chain head is stale, its first write collides and is retried.
    first, second = Archive(engine), Archive(engine)
    first.write_batch([frame("1")])
    second.write_batch([frame("2")])
    first.write_batch([frame("3")])
    with engine.connect() as connection:
        rows = connection.execute(select(ArchivedFrame.seq, ArchivedFrame.qn).order_by("seq"))
        assert [tuple(row) for row in rows] == [(1, "1"), (2, "2"), (3, "3")]
    assert verify(engine).broken == ()


def test_a_row_the_database_refuses_never_fails_its_neighbours(engine: Engine) -> None:
    # A QN longer than its column (PostgreSQL refuses it) and a measurement without
    # its key (both databases refuse it), each between good frames of other devices.
    long_qn = replace(frame("1" * 24, mn="MN1"), qn="1" * 24)
    keyless_row = MeasurementRow("MN3", "2061", HOUR, None)  # type: ignore[arg-type]
    keyless = replace(frame("5", mn="MN3"), measurements=(keyless_row,))
    batch = [frame("2", mn="MN2"), long_qn, frame("4", mn="MN4"), keyless]
    ids = Archive(engine).write_batch(batch)
    assert ids[0] is not None and ids[2] is not None and ids[3] is None
    if engine.dialect.name == "postgresql":
        assert ids[1] is None
    with engine.connect() as connection:
        rows = {
            row.mn: row
            for row in connection.execute(
                select(ArchivedFrame.mn, ArchivedFrame.verdict, ArchivedFrame.error_code)
            )
        }
        measured = set(connection.execute(select(Measurement.mn)).scalars())
    assert rows["MN2"].verdict == rows["MN4"].verdict == "accepted"
    assert {"MN2", "MN4"} <= measured and "MN3" not in measured
    # The refused frame is archived all the same, rejected, on its own chain.
    assert (rows["MN3"].verdict, rows["MN3"].error_code) == ("rejected", UNSTORABLE)
    assert verify(engine).broken == ()


def test_every_value_is_cut_to_fit_its_column_with_a_warning() -> None:
    vendor = MeasurementRow("MN1", "2061", HOUR, "a34004-A-B-C-D-E-F", avg=1.0)
    received = replace(frame("1" * 24), qn="1" * 24, peer="p" * 100,
                       measurements=(*frame("x").measurements, vendor))  # fmt: skip
    kept = fitted(received)
    assert kept.qn == "1" * 20 and kept.peer == "p" * 64
    assert [m.pollutant for m in kept.measurements] == ["a21026"]
    (note,) = json.loads(kept.warnings)
    assert note["code"] == FIELD_TOO_LONG and "qn" in note["message"]
    assert kept.raw == received.raw
    # An MN that cannot be a chain's name names no device.
    assert fitted(replace(received, mn="M" * 40)).chain == "-"
    # What fits is left as it is (the same object: nothing to copy on the hot path).
    plain = frame("1")
    assert fitted(plain) is plain


def test_database_errors_never_quote_a_frames_password(engine: Engine) -> None:
    """Errors reach the log (a failed group commit is logged): the values of the
    failed statement, a raw frame with its PW among them, stay out of them."""
    raw = b"##0101QN=1;ST=32;CN=2011;PW=s3cret!;MN=X;Flag=4;CP=&&&&0000\r\n"
    with pytest.raises(DBAPIError) as failed, engine.begin() as connection:
        connection.execute(text("INSERT INTO archived_frame (raw, peer) VALUES (:raw, :peer)"),
                           {"raw": raw, "peer": "PW=s3cret!"})  # fmt: skip
    # What the log and the archive keep of it: the refusal, not the row.
    summary = error_summary(failed.value)
    assert "s3cret" not in summary and "733363" not in summary  # nor in hex
    assert "null" in summary.lower() or "not null" in summary.lower(), summary
    # SQLAlchemy's own text never quotes the values (PostgreSQL's detail may).
    assert "parameters hidden" in str(failed.value)
