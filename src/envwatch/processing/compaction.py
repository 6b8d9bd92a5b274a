"""The compactor: value blocks (``processing/blocks.py``) of closed days,
built from the measurement rows and stored in ``value_block``.

Every registered device (``monitoring_point``) gets a block for each closed
day of the range, an empty one where it stored nothing, so "no block" always
means "to build" (a new day, or a day whose block a late frame invalidated)
and a sweep reads only what lacks one.

Race with the archive writer, which deletes the block of a closed day it
stores a late frame for (``store/archive.py``), in its own transaction:

- PostgreSQL: the compactor takes ``value_block`` in SHARE ROW EXCLUSIVE
  mode before it reads, and holds it until its blocks commit. A writer's
  DELETE (ROW EXCLUSIVE) that came first commits before the lock is granted,
  so the read sees its rows; one that comes later waits, then deletes the new
  block. Live writers never touch the table, so never wait.
- SQLite (one writer at a time, ids in commit order): the compactor notes the
  newest frame id before it reads; in the write transaction that stores the
  blocks, any accepted frame newer than that (a writer that committed during
  the read) in the range keeps its device-day from getting a block. A writer
  after that transaction deletes the block itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, select

from envwatch.hj212.codes import now_cst
from envwatch.processing.blocks import COMPACT_AFTER_DAYS, closed_before, cut, encode
from envwatch.processing.columns import Reader
from envwatch.rules.columnar import DeviceColumns
from envwatch.settings import Settings
from envwatch.store.db import dialect_insert
from envwatch.store.schema import ArchivedFrame, MonitoringPoint, ValueBlock

log = logging.getLogger(__name__)

DAY_US = 86_400 * 1_000_000
LOOKBACK_DAYS = 7
"""[I] How many closed days a sweep (and ``store compact`` without --since)
looks back for device-days without a block."""
DEVICES_PER_PASS = 250
"""Devices read per scan (memory: about 30 bytes a value of theirs)."""


@dataclass
class CompactReport:
    days: int = 0
    blocks: int = 0
    points: int = 0
    skipped: int = 0
    """Device-days left for a later run (a frame of theirs arrived during the read)."""
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "blocks": self.blocks,
            "points": self.points,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "points_per_second": round(self.points / self.seconds) if self.seconds else 0,
        }


def day_pieces(columns: DeviceColumns) -> Iterator[tuple[date, DeviceColumns]]:
    """``columns`` cut by China Standard Time day (DataTime)."""
    day = columns.data_time.astype("datetime64[D]")
    for one in np.unique(day):
        yield one.astype(date), cut(columns, day == one)


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days)]


def _missing(
    connection: Connection, mns: Sequence[str], days: Sequence[date]
) -> dict[str, set[date]]:
    """Of ``mns`` × ``days``, the device-days without a block."""
    have: set[tuple[str, date]] = set()
    if days:
        rows = connection.execute(
            select(ValueBlock.mn, ValueBlock.day).where(
                ValueBlock.day >= days[0], ValueBlock.day <= days[-1]
            )
        )
        have = {(mn, day) for mn, day in rows}
    missing: dict[str, set[date]] = {}
    for mn in mns:
        lacking = {day for day in days if (mn, day) not in have}
        if lacking:
            missing[mn] = lacking
    return missing


def compact(
    engine: Engine,
    since: date | None = None,
    until: date | None = None,
    *,
    today: date | None = None,
    after_days: int = COMPACT_AFTER_DAYS,
    devices_per_pass: int = DEVICES_PER_PASS,
    rebuild: bool = False,
) -> CompactReport:
    """Build the blocks of the closed days in [since, until) (default: the
    ``LOOKBACK_DAYS`` closed days before the first open one) that lack one
    (``rebuild``: all of them)."""
    started = time.perf_counter()
    closed = closed_before(today or now_cst().date(), after_days)
    until = min(until or closed, closed)
    since = since or until - timedelta(days=LOOKBACK_DAYS)
    report = CompactReport()
    days = _days(since, until)
    if not days:
        return report
    with engine.connect() as connection:
        mns = sorted(connection.execute(select(MonitoringPoint.mn)).scalars())
        missing = {mn: set(days) for mn in mns} if rebuild else _missing(connection, mns, days)
    if not missing:
        report.seconds = time.perf_counter() - started
        return report
    report.days = len({day for lacking in missing.values() for day in lacking})
    reader = Reader(engine)
    try:
        todo = sorted(missing)
        for start in range(0, len(todo), devices_per_pass):
            group = todo[start : start + devices_per_pass]
            wanted = {mn: missing[mn] for mn in group}
            _compact_pass(engine, reader, wanted, whole=len(group) == len(mns), report=report)
    finally:
        reader.close()
    report.seconds = time.perf_counter() - started
    return report


def _compact_pass(
    engine: Engine,
    reader: Reader,
    wanted: dict[str, set[date]],
    *,
    whole: bool,
    report: CompactReport,
) -> None:
    """Read ``wanted``'s devices over their days' span, store a block per wanted device-day."""
    first = min(min(days) for days in wanted.values())
    last = max(max(days) for days in wanted.values())
    since = datetime.combine(first, datetime.min.time())
    until = datetime.combine(last + timedelta(days=1), datetime.min.time())
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            if postgres:
                connection.exec_driver_sql("LOCK TABLE value_block IN SHARE ROW EXCLUSIVE MODE")
                newest = None
            else:
                newest = connection.execute(select(func.max(ArchivedFrame.id))).scalar() or 0
                transaction.commit()  # SQLite: no lock held during the read
            rows = list(_blocks(reader.read(sorted(wanted), since, until, whole=whole), wanted))
            if not postgres:
                transaction = connection.begin()
                # A write first: it takes SQLite's write lock (no writer
                # commits from here on), the check below then sees them all.
                connection.execute(delete(ValueBlock).where(ValueBlock.mn == ""))
                late = _arrived_after(connection, newest or 0, since, until)
                kept = [row for row in rows if (row["mn"], row["day"]) not in late]
                report.skipped += len(rows) - len(kept)
                rows = kept
            for row in rows:
                report.blocks += 1
                report.points += row["points"]
            _store(connection, rows)
            transaction.commit()
        finally:
            if transaction.is_active:
                transaction.rollback()


def _blocks(
    columns: Iterable[DeviceColumns], wanted: dict[str, set[date]]
) -> Iterator[dict[str, Any]]:
    built = datetime.now(UTC)
    empty: dict[str, set[date]] = {mn: set(days) for mn, days in wanted.items()}
    for device in columns:
        for day, piece in day_pieces(device):
            if day not in wanted.get(device.mn, ()):
                continue
            empty[device.mn].discard(day)
            yield {
                "mn": device.mn,
                "day": day,
                "uploads": len(piece),
                "points": piece.points,
                "max_frame_id": int(piece.frame_id.max()),
                "body": encode(piece),
                "built_at": built,
            }
    for mn, days in empty.items():
        for day in days:
            nothing = DeviceColumns(
                mn,
                np.empty(0, dtype=np.int64),
                np.empty(0, dtype=object),
                np.empty(0, dtype="datetime64[us]"),
                np.empty(0, dtype="datetime64[us]"),
            )
            yield {"mn": mn, "day": day, "uploads": 0, "points": 0, "max_frame_id": 0,
                   "body": encode(nothing), "built_at": built}  # fmt: skip


def _arrived_after(
    connection: Connection, newest: int, since: datetime, until: datetime
) -> set[tuple[str, date]]:
    """The device-days of accepted frames newer than ``newest`` in [since, until)."""
    rows = connection.execute(
        select(ArchivedFrame.mn, ArchivedFrame.data_time).where(
            ArchivedFrame.id > newest,
            ArchivedFrame.verdict == "accepted",
            ArchivedFrame.data_time >= since,
            ArchivedFrame.data_time < until,
        )
    )
    return {(mn, moment.date()) for mn, moment in rows if mn is not None and moment is not None}


def _store(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        for mn in sorted({row["mn"] for row in chunk}):
            connection.execute(
                delete(ValueBlock).where(
                    ValueBlock.mn == mn,
                    ValueBlock.day.in_([row["day"] for row in chunk if row["mn"] == mn]),
                )
            )
        connection.execute(dialect_insert(connection, ValueBlock.__table__), chunk)


def drop_blocks(
    connection: Connection, since: date | None = None, until: date | None = None
) -> int:
    """Delete the blocks of the days in [since, until) (None: no bound); how many.
    For whatever removes or restores stored measurements of past days."""
    query = delete(ValueBlock)
    if since is not None:
        query = query.where(ValueBlock.day >= since)
    if until is not None:
        query = query.where(ValueBlock.day < until)
    return int(connection.execute(query).rowcount or 0)


async def follow_compaction(engine: Engine, settings: Settings, stop: asyncio.Event) -> None:
    """``compact`` every ``settings.compact_check_s`` until ``stop``, in a task
    of its own beside the alert loop, never in it: a first compaction of a
    week of a city takes seconds, which no alert should wait for."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(compact, engine)
        except Exception as error:  # the store may be down: try again next time
            log.warning("value blocks not built: %s", error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.compact_check_s)
