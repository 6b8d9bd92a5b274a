"""Monthly partitions on PostgreSQL: the plan (pure), the migration of a
database with rows across months, ingest, maintenance and detachment."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from envwatch.cli import app
from envwatch.electricity.hj212 import default_codes
from envwatch.processing.inputs import UploadPage, upload_page
from envwatch.settings import Settings
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame, verify
from envwatch.store.db import (
    create_scratch_database,
    drop_scratch_database,
    make_engine,
    upgrade,
)
from envwatch.store.partitions import (
    DETACH_ACTION,
    PlanError,
    TableState,
    add_months,
    at_start,
    create_partition,
    maintain,
    month_of,
    periodic,
    plan,
)
from envwatch.store.schema import (
    ArchivedFrame,
    AuditEntry,
    HourlyEmission,
    Measurement,
    ValueBlock,
)
from tests.conftest import POSTGRES_ADMIN_URL, service_missing

# --- the plan --------------------------------------------------------------------------


def test_the_plan_creates_ahead_moves_waiting_months_and_detaches_before_the_cut() -> None:
    state = {
        "archived_frame": TableState(
            frozenset({date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)})
        ),
        "measurement": TableState(
            frozenset({date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)}),
            {date(1999, 6, 1): 2, date(2026, 7, 1): 5, date(2027, 9, 1): 1},
        ),
        "hourly_emission": TableState(frozenset()),
    }
    planned = plan(
        date(2026, 12, 4),
        state,
        ahead=2,
        detach_before={"archived_frame": date(2026, 11, 1), "measurement": None},
    )
    assert planned.as_json() == {
        "create": [
            "archived_frame_p202701",
            "archived_frame_p202702",
            # 1999 is before any partition, 2027-09 past the horizon: they wait.
            "measurement_p202607",
            "measurement_p202702",
            "hourly_emission_p202612",
            "hourly_emission_p202701",
            "hourly_emission_p202702",
        ],
        "detach": ["archived_frame_p202609", "archived_frame_p202610"],
        "default_rows": {"measurement": {"1999-06": 2, "2026-07": 5, "2027-09": 1}},
    }
    # A month about to be detached is not created for its waiting rows.
    later = plan(date(2026, 12, 4), state, ahead=0, detach_before={"measurement": date(2026, 8, 1)})
    assert [step.partition for step in later.create] == ["hourly_emission_p202612"]
    assert [step.partition for step in later.detach] == []
    with pytest.raises(PlanError, match="current month"):
        plan(date(2026, 12, 4), state, ahead=1, detach_before={"measurement": date(2027, 1, 1)})
    with pytest.raises(PlanError, match="ahead"):
        plan(date(2026, 12, 4), state, ahead=-1, detach_before={})


# --- PostgreSQL ------------------------------------------------------------------------


@pytest.fixture
def url_at_0039() -> Iterator[str]:
    """A PostgreSQL database migrated up to the revision before partitions."""
    try:
        url = create_scratch_database(POSTGRES_ADMIN_URL, "envwatch_test")
    except OperationalError as error:
        service_missing(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}")
    try:
        upgrade(url, "0039")
        yield url
    finally:
        drop_scratch_database(POSTGRES_ADMIN_URL, url)


def received(month: date, day: int = 15) -> datetime:
    return datetime(month.year, month.month, day, 12, tzinfo=UTC)


def upload(mn: str, at: datetime, data_time: datetime, qn: str) -> ReceivedFrame:
    return ReceivedFrame(
        received_at=at,
        peer="127.0.0.1:5000",
        raw=f"##upload {mn} {qn}".encode(),
        verdict="accepted",
        mn=mn,
        cn="2061",
        qn=qn,
        measurements=(
            MeasurementRow(mn, "2061", data_time, "a21026", avg=1.0, flag="N"),
            MeasurementRow(mn, "2061", data_time, "a21002", avg=2.0, flag="N"),
        ),
    )


def where(engine: Engine, table: str) -> dict[str, int]:
    """Rows of ``table`` by the partition holding them."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT tableoid::regclass::text, count(*) FROM {table} GROUP BY 1")
        ).all()
    return dict(rows)


def test_migration_ingest_maintenance_and_detachment(url_at_0039: str) -> None:
    today = datetime.now(UTC).date()
    current = month_of(today)
    m1, m2, m3 = (add_months(current, -n) for n in (3, 2, 1))
    engine = make_engine(url_at_0039)
    try:
        # At 0039 there are no value blocks to invalidate: a clock whose every day is open.
        archive = Archive(engine, today=lambda: date.min)
        frames = [
            upload("MN1", received(m1), datetime(m1.year, m1.month, 15, 20), "1"),
            upload("MN2", received(m1), datetime(m1.year, m1.month, 15, 20), "2"),
            upload("MN1", received(m2), datetime(m2.year, m2.month, 15, 20), "3"),
            # The last moment of m2 (UTC) is m2's; its data time is m3's (CST).
            upload(
                "MN1",
                received(m3, 1) - timedelta(hours=12, microseconds=1),
                datetime(m3.year, m3.month, 1, 7),
                "4",
            ),
            upload("MN2", received(m3), datetime(1999, 6, 1), "5"),  # a clock far off
        ]
        archive.write_batch(frames)
        with engine.begin() as connection:
            connection.execute(
                insert(HourlyEmission),
                [
                    {
                        "mn": "MN1",
                        "pollutant": "a21026",
                        "hour": datetime(m.year, m.month, 2, h),
                        "validity": "valid",
                        "method": "measured",
                    }
                    for m in (m1, m2, m3)
                    for h in (0, 1)
                ],
            )
        engine.dispose()

        upgrade(url_at_0039)  # 0044: partitions, every row moved

        assert where(engine, "archived_frame") == {
            f"archived_frame_p{m1:%Y%m}": 2,
            f"archived_frame_p{m2:%Y%m}": 2,
            f"archived_frame_p{m3:%Y%m}": 1,
        }
        assert where(engine, "measurement") == {
            f"measurement_p{m1:%Y%m}": 4,
            f"measurement_p{m2:%Y%m}": 2,
            f"measurement_p{m3:%Y%m}": 2,
            "measurement_default": 2,
        }
        assert where(engine, "hourly_emission") == {
            f"hourly_emission_p{m:%Y%m}": 2 for m in (m1, m2, m3)
        }
        assert verify(engine).broken == ()

        # A process starts: this month's and the next month's partitions.
        started = at_start(engine, Settings(partitions_ahead_months=1))
        assert started is not None and started["create"] == [
            partition for table in ("archived_frame", "measurement", "hourly_emission")
            for partition in (f"{table}_p{current:%Y%m}", f"{table}_p{add_months(current, 1):%Y%m}")
        ]  # fmt: skip

        # Ingest goes on: this month's partition, resends idempotent, chains whole.
        archive = Archive(engine)
        now = datetime.now(UTC)
        fresh = upload("MN1", now, now.replace(tzinfo=None, minute=0, second=0, microsecond=0), "6")
        archive.write_batch([fresh, fresh])
        assert where(engine, "measurement")[f"measurement_p{current:%Y%m}"] == 2
        assert where(engine, "archived_frame")[f"archived_frame_p{current:%Y%m}"] == 2

        # Two writers on one chain: the stale one's head moves by compare and
        # set only, so it re-reads and extends the chain instead of forking it.
        other = Archive(engine)
        other.write_batch([upload("MN1", now, fresh.measurements[0].data_time, "7")])
        archive.write_batch([upload("MN1", now, fresh.measurements[0].data_time, "8")])
        with engine.connect() as connection:
            seqs = connection.execute(
                select(ArchivedFrame.seq).where(ArchivedFrame.chain == "MN1")
            ).scalars().all()  # fmt: skip
        assert sorted(seqs) == list(range(1, 8))
        assert verify(engine).broken == ()

        # A row of a month without a partition waits in DEFAULT; maintenance
        # makes the month and moves it, and reports what cannot move.
        back = add_months(current, -5)
        archive.write_batch([upload("MN3", now, datetime(back.year, back.month, 3, 8), "9")])
        report = maintain(engine, today=today, ahead=2, detach_before={})
        assert f"measurement_p{back:%Y%m}" in report["create"]
        assert report["moved_from_default"] == {f"measurement_p{back:%Y%m}": 2}
        assert report["default_rows"]["measurement"][f"{back:%Y-%m}"] == 2
        assert f"archived_frame_p{add_months(current, 2):%Y%m}" in report["create"]
        again = maintain(engine, today=today, ahead=2, detach_before={})
        assert again["create"] == [] and again["default_rows"] == {"measurement": {"1999-06": 2}}

        # Detach for archive: the detached table keeps its rows, the chains
        # verify from the recorded anchors, and still catch an edit.
        cut = {"archived_frame": m2, "measurement": m2, "hourly_emission": None}
        result = CliRunner().invoke(
            app, ["store", "partitions", "--db", url_at_0039, "--dry-run",
                  "--detach-before", f"{m2:%Y-%m}"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["detach"][:2] == [
            f"archived_frame_p{m1:%Y%m}",
            f"measurement_p{back:%Y%m}",
        ]
        assert where(engine, "archived_frame")[f"archived_frame_p{m1:%Y%m}"] == 2
        with engine.begin() as connection:  # value blocks of a detached month go too
            connection.execute(
                insert(ValueBlock),
                [{"mn": "MN1", "day": day, "uploads": 0, "points": 0, "max_frame_id": 0,
                  "body": b"", "built_at": datetime.now(UTC)} for day in (m1, m2)],
            )  # fmt: skip
        detached = maintain(engine, today=today, ahead=2, detach_before=cut)["detached"]
        assert {d["partition"]: d["rows"] for d in detached} == {
            f"archived_frame_p{m1:%Y%m}": 2,
            f"measurement_p{back:%Y%m}": 2,
            f"measurement_p{m1:%Y%m}": 4,
        }
        assert f"archived_frame_p{m1:%Y%m}" not in where(engine, "archived_frame")
        assert where(engine, f"archived_frame_p{m1:%Y%m}") == {f"archived_frame_p{m1:%Y%m}": 2}
        assert where(engine, f"measurement_p{m1:%Y%m}") == {f"measurement_p{m1:%Y%m}": 4}
        with engine.connect() as connection:
            audited = connection.execute(
                select(func.count()).where(AuditEntry.action == DETACH_ACTION)
            ).scalar_one()
            remaining = connection.execute(select(func.count()).select_from(Measurement))
            assert remaining.scalar_one() == 8
            blocks = connection.execute(select(ValueBlock.day)).scalars().all()
        assert audited == 3
        assert list(blocks) == [m2]
        checked = verify(engine)
        assert checked.broken == () and checked.links == 8
        with engine.begin() as connection:
            connection.execute(
                update(ArchivedFrame).where(ArchivedFrame.qn == "3").values(peer="elsewhere")
            )
        assert [(b.chain, b.seq) for b in verify(engine).broken] == [("MN1", 2)]

        # The desk's sweep: the settings' months ahead, at most every check interval.
        settings = Settings(partitions_ahead_months=3, partitions_check_s=3600)
        moments = iter([0.0, 10.0, 4000.0])
        sweep = periodic(engine, settings, lambda: next(moments))
        assert sweep() == 3  # the third month ahead, of each table
        settings.partitions_ahead_months = 4
        assert sweep() == 0  # not due yet
        assert sweep() == 3
    finally:
        engine.dispose()


def test_a_read_waiting_on_a_month_moving_out_of_default_sees_its_rows(postgres_url: str) -> None:
    """The rules read a page of frames and then their values while maintenance
    moves the values' month out of DEFAULT: the read waits for the move and
    then finds every value in the new partition (before, it had planned over
    the partitions as they were and found none: frames judged without values)."""
    engine = make_engine(postgres_url)
    back = add_months(month_of(datetime.now(UTC).date()), -8)
    data_time = datetime(back.year, back.month, 3, 8)
    Archive(engine).write_batch([upload("MN1", datetime.now(UTC), data_time, "1")])
    assert where(engine, "measurement") == {"measurement_default": 2}
    pages: list[UploadPage] = []
    mover = engine.connect()
    try:
        moving = mover.begin()
        assert create_partition(mover, "measurement", back) == 2  # not yet committed

        def read() -> None:
            with engine.connect() as connection:
                pages.append(upload_page(connection, 0, default_codes()))

        reader = threading.Thread(target=read)
        reader.start()
        with engine.connect() as watcher:
            for _ in range(200):  # until the read waits on the move's lock
                waiting = watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
                if waiting:
                    break
                time.sleep(0.05)
        assert waiting == 1, "the read must be waiting on the move"
        moving.commit()
        reader.join(timeout=30)
        assert where(engine, "measurement") == {f"measurement_p{back:%Y%m}": 2}
    finally:
        mover.close()
        engine.dispose()
    [page] = pages
    assert [sorted(upload.values) for upload in page.uploads] == [["a21002", "a21026"]]


def test_a_move_gives_up_on_a_long_reader_and_leaves_the_rows_readable(postgres_url: str) -> None:
    """A transaction that holds the table (a long report) makes the move wait
    at most ``PARENT_LOCK_TIMEOUT``, not stall ingest behind it for as long
    as the report runs; the rows wait in DEFAULT, readable, for the next run."""
    engine = make_engine(postgres_url)
    today = datetime.now(UTC).date()
    back = add_months(month_of(today), -8)
    Archive(engine).write_batch(
        [upload("MN1", datetime.now(UTC), datetime(back.year, back.month, 3, 8), "1")]
    )
    try:
        with engine.connect() as report:
            with report.begin():
                report.execute(select(func.count()).select_from(Measurement)).scalar_one()
                with pytest.raises(OperationalError, match="lock timeout"):
                    maintain(engine, today=today, ahead=0, detach_before={})
            assert where(engine, "measurement") == {"measurement_default": 2}
            with engine.connect() as connection:
                assert connection.execute(
                    select(func.count()).select_from(Measurement).where(
                        Measurement.data_time == datetime(back.year, back.month, 3, 8)
                    )
                ).scalar_one() == 2  # fmt: skip
        moved = maintain(engine, today=today, ahead=0, detach_before={})
        assert moved["moved_from_default"] == {f"measurement_p{back:%Y%m}": 2}
    finally:
        engine.dispose()
