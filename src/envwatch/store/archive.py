"""The raw archive and the measurements it yields: one transaction per batch.

``Archive.write_batch`` appends a batch of received frames to their hash
chains and stores their measurements in the same transaction, so a frame and
its measurements commit together or not at all. Measurements are keyed by
(MN, CN, DataTime, pollutant): a resent frame is archived again (it was
received again) but adds no second measurement.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import Engine, String, bindparam, delete, func, select
from sqlalchemy.exc import DataError, IntegrityError

from envwatch.hj212.codes import now_cst
from envwatch.store.blockdays import invalidated_before
from envwatch.store.db import error_summary
from envwatch.store.hashchain import (
    AUDIT_CHAIN,
    GENESIS,
    BrokenLink,
    Link,
    first_broken_link,
    link_hash,
)
from envwatch.store.partitions import archive_anchors
from envwatch.store.schema import (
    ArchivedFrame,
    ChainHead,
    ElectricityReading,
    Measurement,
    ValueBlock,
)

UNATTRIBUTED_CHAIN = "-"


class MeasurementRow(NamedTuple):
    """The values of one factor in one data upload, in the measurement table's
    column order (a tuple: one is built per factor of every stored frame)."""

    mn: str
    cn: str
    data_time: datetime
    pollutant: str
    rtd: float | None = None
    avg: float | None = None
    min: float | None = None
    max: float | None = None
    cou: float | None = None
    zs_rtd: float | None = None
    zs_avg: float | None = None
    flag: str | None = None
    eflag: str | None = None


class MeterReading(NamedTuple):
    """One reading of an electricity meter that reports over HJ 212
    (``electricity_reading`` with source hj212), in its column order."""

    meter_id: int
    time: datetime
    power_kw: float | None
    energy_kwh: float | None
    current_a: float | None


@dataclass(frozen=True, slots=True)
class ReceivedFrame:
    """A frame (or rejected byte run) as received, with the gateway's verdict."""

    received_at: datetime
    peer: str
    raw: bytes
    verdict: str  # "accepted" or "rejected"
    error_code: str | None = None
    warnings: str = ""
    mn: str | None = None
    cn: str | None = None
    qn: str | None = None
    measurements: tuple[MeasurementRow, ...] = field(default=())
    electricity: tuple[MeterReading, ...] = field(default=())
    data_time: datetime | None = None
    """DataTime of a frame that carries no measurements (3020 device information)."""

    @property
    def chain(self) -> str:
        return self.mn or UNATTRIBUTED_CHAIN


# The text columns a received frame fills, and their lengths: one place, read
# from the schema, so what is archived fits by construction.
def _length(table: Any, name: str) -> int:
    column_type = table.__table__.c[name].type
    assert isinstance(column_type, String) and column_type.length is not None
    return column_type.length


_FRAME_LENGTHS: Final = {
    name: _length(ArchivedFrame, name) for name in ("peer", "error_code", "qn")
}
_MN_LENGTH: Final = _length(ArchivedFrame, "mn")
_CN_LENGTH: Final = _length(ArchivedFrame, "cn")
_MEASUREMENT_LENGTHS: Final = {
    MeasurementRow._fields.index(name): _length(Measurement, name)
    for name in ("mn", "cn", "pollutant", "flag", "eflag")
}
FIELD_TOO_LONG = "field_too_long"


def fitted(frame: ReceivedFrame) -> ReceivedFrame:
    """``frame`` with every value its columns can hold; the raw frame keeps the rest.

    An over-long QN or peer is cut to its column; an MN or CN that does not fit
    names no device (the frame goes to the unattributed chain); a measurement
    whose key or flag does not fit is left out. Each is a ``field_too_long``
    warning on the frame.
    """
    cut = {
        name: value[:length]
        for name, length in _FRAME_LENGTHS.items()
        if (value := getattr(frame, name)) is not None and len(value) > length
    }
    if frame.mn is not None and len(frame.mn) > _MN_LENGTH:
        cut["mn"] = None
    if frame.cn is not None and len(frame.cn) > _CN_LENGTH:
        cut["cn"] = None
    kept = tuple(
        m
        for m in frame.measurements
        if all(len(str(m[i] or "")) <= length for i, length in _MEASUREMENT_LENGTHS.items())
    )
    if not cut and len(kept) == len(frame.measurements):
        return frame
    left_out = len(frame.measurements) - len(kept)
    what = ", ".join(sorted(cut)) + (f", {left_out} measurement(s)" if left_out else "")
    note = {
        "code": FIELD_TOO_LONG,
        "message": f"values longer than the archive holds: {what.strip(', ')} "
        "(cut or left out; the raw frame keeps them)",
        "message_zh": "字段超过存档长度，已截断或舍弃（原始报文完整保留）",
    }
    warnings = json.loads(frame.warnings) if frame.warnings else []
    return replace(
        frame,
        **cut,
        measurements=kept,
        electricity=frame.electricity if not left_out else (),
        warnings=json.dumps([*warnings, note], ensure_ascii=False),
    )


UNSTORABLE = "unstorable"


def unstorable(frame: ReceivedFrame, error: BaseException) -> ReceivedFrame:
    """What is archived of a frame whose rows the database refused: the frame
    itself, rejected with the refusal, and nothing it would have yielded."""
    detail = error_summary(error)[:500]
    return fitted(
        ReceivedFrame(
            received_at=frame.received_at,
            peer=frame.peer,
            raw=frame.raw,
            verdict="rejected",
            error_code=UNSTORABLE,
            warnings=json.dumps([{"code": UNSTORABLE, "message": detail}], ensure_ascii=False),
            mn=frame.mn,
        )
    )


_MEASUREMENT_COLUMNS = (*MeasurementRow._fields, "frame_id")
_FRAME_COLUMNS = (
    "chain", "seq", "received_at", "peer", "raw", "verdict", "error_code", "warnings",
    "mn", "cn", "qn", "prev_hash", "hash", "data_time",
)  # fmt: skip
# PostgreSQL array types of the columns, for inserts that unnest one array per column.
_FRAME_ARRAYS = (
    "text[]", "int8[]", "timestamptz[]", "text[]", "bytea[]", "text[]", "text[]", "text[]",
    "text[]", "text[]", "text[]", "text[]", "text[]", "timestamp[]",
)  # fmt: skip
_MEASUREMENT_ARRAYS = (
    "text[]", "text[]", "timestamp[]", "text[]", *["float8[]"] * 7, "text[]", "text[]", "int8[]",
)  # fmt: skip
_READING_COLUMNS = (*MeterReading._fields, "source")
_READING_ARRAYS = ("int8[]", "timestamp[]", "float8[]", "float8[]", "float8[]", "text[]")
_HEADS_INSERT = "INSERT INTO chain_head (chain, seq, hash)"
# Compare and set: a head moves on only from the link this batch extended.
_HEADS_UPDATE = (
    "UPDATE chain_head SET seq = {new_seq}, hash = {new_hash}{source} WHERE chain_head.chain = "
    "{chain} AND chain_head.seq = {old_seq} AND chain_head.hash = {old_hash}"
)


class ChainConflictError(Exception):
    """Another writer extended a chain this batch extends: its heads are stale."""


# Rows per multi-row INSERT of frames on SQLite: 13 parameters each, well under
# its limit of 32,766.
_FRAMES_PER_INSERT = 500


def _binder(engine: Engine, column: Any) -> Callable[[Any], Any]:
    """How SQLAlchemy binds a value of ``column`` on this engine: driver-level
    statements bind exactly the same way, so keys and times always match."""
    bind = column.type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
    return bind if bind is not None else (lambda value: value)


Row = tuple[Any, ...]
Guard = Callable[[Any, int, int], None]
"""Runs inside a write's transaction: (connection, first frame index, frames)."""


class _SqliteBulk:
    """Bulk inserts for SQLite: multi-row VALUES for frames, executemany for
    measurements (each row a C-level step, no round trips to pay for)."""

    def __init__(self) -> None:
        self._frames_sql: dict[int, str] = {}
        self._measurements_sql = (
            f"INSERT INTO measurement ({', '.join(_MEASUREMENT_COLUMNS)}) "
            f"VALUES ({', '.join(['?'] * len(_MEASUREMENT_COLUMNS))}) ON CONFLICT DO NOTHING"
        )
        self._readings_sql = (
            f"INSERT INTO electricity_reading ({', '.join(_READING_COLUMNS)}) "
            f"VALUES ({', '.join(['?'] * len(_READING_COLUMNS))}) ON CONFLICT DO NOTHING"
        )

    def frames(self, connection: Any, rows: list[Row]) -> list[Row]:
        returned: list[Row] = []
        for start in range(0, len(rows), _FRAMES_PER_INSERT):
            chunk = rows[start : start + _FRAMES_PER_INSERT]
            sql = self._frames_sql.get(len(chunk))
            if sql is None:
                one = f"({', '.join(['?'] * len(_FRAME_COLUMNS))})"
                sql = self._frames_sql[len(chunk)] = (
                    f"INSERT INTO archived_frame ({', '.join(_FRAME_COLUMNS)}) "
                    f"VALUES {', '.join([one] * len(chunk))} RETURNING id, chain, seq"
                )
            parameters = tuple(value for row in chunk for value in row)
            returned.extend(connection.exec_driver_sql(sql, parameters))
        return returned

    def measurements(self, connection: Any, rows: list[Row]) -> None:
        connection.exec_driver_sql(self._measurements_sql, rows)

    def readings(self, connection: Any, rows: list[Row]) -> None:
        connection.exec_driver_sql(self._readings_sql, rows)

    def heads(self, connection: Any, moved: list[Row], new: list[Row]) -> int:
        if new:
            connection.exec_driver_sql(f"{_HEADS_INSERT} VALUES (?, ?, ?)", new)
        if not moved:
            return 0
        sql = _HEADS_UPDATE.format(
            new_seq="?", new_hash="?", source="", chain="?", old_seq="?", old_hash="?"
        )
        return int(connection.exec_driver_sql(sql, moved).rowcount)


class _PostgresBulk:
    """Bulk inserts for PostgreSQL: one statement per table that unnests one
    array per column, so a batch costs one round trip and one parse, not one per row."""

    def __init__(self) -> None:
        self._frames_sql = self._unnest("archived_frame", _FRAME_COLUMNS, _FRAME_ARRAYS) + (
            " RETURNING id, chain, seq"
        )
        self._measurements_sql = (
            self._unnest("measurement", _MEASUREMENT_COLUMNS, _MEASUREMENT_ARRAYS)
            + " ON CONFLICT DO NOTHING"
        )
        self._readings_sql = (
            self._unnest("electricity_reading", _READING_COLUMNS, _READING_ARRAYS)
            + " ON CONFLICT DO NOTHING"
        )
        self._heads_insert_sql = (
            f"{_HEADS_INSERT} SELECT * FROM unnest(%b::text[], %b::int8[], %b::text[])"
        )
        self._heads_update_sql = _HEADS_UPDATE.format(
            new_seq="moved.seq", new_hash="moved.hash",
            source=" FROM unnest(%b::int8[], %b::text[], %b::text[], %b::int8[], %b::text[]) "
            "AS moved(seq, hash, chain, old_seq, old_hash)",
            chain="moved.chain", old_seq="moved.old_seq", old_hash="moved.old_hash",
        )  # fmt: skip

    @staticmethod
    def _unnest(table: str, columns: Sequence[str], arrays: Sequence[str]) -> str:
        casts = ", ".join(f"%b::{array}" for array in arrays)
        return f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({casts})"

    def frames(self, connection: Any, rows: list[Row]) -> list[Row]:
        with self._cursor(connection) as cursor:
            cursor.execute(self._frames_sql, self._columns(rows))
            return list(cursor.fetchall())

    def measurements(self, connection: Any, rows: list[Row]) -> None:
        with self._cursor(connection) as cursor:
            cursor.execute(self._measurements_sql, self._columns(rows))

    def readings(self, connection: Any, rows: list[Row]) -> None:
        with self._cursor(connection) as cursor:
            cursor.execute(self._readings_sql, self._columns(rows))

    def heads(self, connection: Any, moved: list[Row], new: list[Row]) -> int:
        with self._cursor(connection) as cursor:
            if new:
                cursor.execute(self._heads_insert_sql, self._columns(new))
            if not moved:
                return 0
            cursor.execute(self._heads_update_sql, self._columns(moved))
            return int(cursor.rowcount)

    @staticmethod
    def _cursor(connection: Any) -> Any:
        # Binary parameters: arrays are dumped without quoting and escaping
        # every element. Same connection, so the same transaction.
        return connection.connection.driver_connection.cursor(binary=True)

    @staticmethod
    def _columns(rows: list[Row]) -> tuple[list[Any], ...]:
        return tuple(list(column) for column in zip(*rows, strict=True))


class Archive:
    """Writes batches of received frames; the only writer of its chains."""

    def __init__(self, engine: Engine, today: Callable[[], date] | None = None) -> None:
        self.engine = engine
        self.today: Callable[[], date] = today or (lambda: now_cst().date())
        """Today in China Standard Time: stored uploads of closed days before
        it invalidate their value blocks."""
        self._heads: dict[str, tuple[int, str]] = {}
        self._data_time_to_db = _binder(engine, Measurement.__table__.c.data_time)
        self._received_at_to_db = _binder(engine, ArchivedFrame.__table__.c.received_at)
        self._reading_time_to_db = _binder(engine, ElectricityReading.__table__.c.time)
        # Bulk statements on PostgreSQL run on the driver's own cursor, whose
        # errors SQLAlchemy does not wrap.
        self._driver_integrity_error: type[Exception] = engine.dialect.loaded_dbapi.IntegrityError
        dbapi = engine.dialect.loaded_dbapi
        # What the database says of a row it cannot hold (not of itself being
        # down): the rows are refused, the store is fine.
        self._refusals: tuple[type[BaseException], ...] = (
            DataError, IntegrityError, dbapi.DataError, dbapi.IntegrityError,
            ValueError, OverflowError,
        )  # fmt: skip
        postgres = engine.dialect.name == "postgresql"
        self._bulk: _SqliteBulk | _PostgresBulk = _PostgresBulk() if postgres else _SqliteBulk()

    def write_batch(
        self, frames: Sequence[ReceivedFrame], guard: Guard | None = None
    ) -> list[int | None]:
        """Archive ``frames`` in one transaction; their row ids, in order.

        ``guard(connection, start, count)`` runs inside each transaction that
        writes ``frames[start:start + count]`` (cluster mode records there how
        far its partition got, conditionally, and raises to roll it back).

        A frame whose rows the database refuses never fails its neighbours:
        the batch is then written frame by frame, and such a frame is archived
        as rejected (``unstorable``), its id None: not stored as received, so
        not to be acknowledged. Errors of the store itself (down, full) raise.
        """
        try:
            return list(self._write_retrying(frames, guard, 0))
        except self._refusals:
            return self._write_each(frames, guard)

    def _write_each(self, frames: Sequence[ReceivedFrame], guard: Guard | None) -> list[int | None]:
        ids: list[int | None] = []
        for index, frame in enumerate(frames):
            try:
                ids.extend(self._write_retrying([frame], guard, index))
            except self._refusals as error:
                self._write_retrying([unstorable(frame, error)], guard, index)
                ids.append(None)
        return ids

    def _write_retrying(
        self, frames: Sequence[ReceivedFrame], guard: Guard | None, start: int
    ) -> list[int]:
        try:
            return self._write(frames, guard, start)
        except (IntegrityError, self._driver_integrity_error, ChainConflictError):
            # Another writer extended a chain: re-read the heads and retry once.
            self._heads.clear()
            return self._write(frames, guard, start)

    def forget_heads(self) -> None:
        """Re-read the chain heads before the next write (another writer may
        have extended them: a partition taken over)."""
        self._heads.clear()

    def _write(
        self, frames: Sequence[ReceivedFrame], guard: Guard | None = None, start: int = 0
    ) -> list[int]:
        heads: dict[str, tuple[int, str]] = {}
        extended: dict[str, tuple[int, str]] = {}
        rows: list[Row] = []
        received_at_to_db = self._received_at_to_db
        with self.engine.begin() as connection:
            if guard is not None:
                guard(connection, start, len(frames))
            for frame in frames:
                chain = frame.chain
                seq, prev_hash = heads.get(chain) or extended.setdefault(
                    chain, self._head(connection, chain)
                )
                link = Link(
                    chain=chain,
                    seq=seq + 1,
                    received_at=frame.received_at,
                    peer=frame.peer,
                    raw=frame.raw,
                    verdict=frame.verdict,
                    error_code=frame.error_code,
                    warnings=frame.warnings,
                    mn=frame.mn,
                    cn=frame.cn,
                    qn=frame.qn,
                )
                digest = link_hash(prev_hash, link)
                heads[chain] = (seq + 1, digest)
                rows.append(
                    (
                        chain,
                        seq + 1,
                        received_at_to_db(frame.received_at),
                        frame.peer,
                        frame.raw,
                        frame.verdict,
                        frame.error_code,
                        frame.warnings,
                        frame.mn,
                        frame.cn,
                        frame.qn,
                        prev_hash,
                        digest,
                        # Not hashed: it is read from the raw frame, which is.
                        self._data_time_to_db(frame.measurements[0].data_time)
                        if frame.measurements
                        else None
                        if frame.data_time is None
                        else self._data_time_to_db(frame.data_time),
                    )
                )
            # RETURNING promises no row order: ids are matched by (chain, seq).
            id_of = {
                (chain, seq): frame_id
                for frame_id, chain, seq in self._bulk.frames(connection, rows)
            }
            ids = [id_of[row[0], row[1]] for row in rows]
            measurements = self._measurement_rows(frames, ids)
            if measurements:
                self._bulk.measurements(connection, measurements)
                self._invalidate(connection, frames)
            readings = [
                (*reading[:1], self._reading_time_to_db(reading.time), *reading[2:], "hj212")
                for frame in frames
                for reading in frame.electricity
            ]
            if readings:
                self._bulk.readings(connection, readings)
            # Each head moves from the link this batch read (another writer's
            # link in between is a conflict: on PostgreSQL no unique (chain,
            # seq) would catch it, the archive being partitioned by month).
            moved = [
                (seq, digest, chain, *extended[chain])
                for chain, (seq, digest) in heads.items()
                if extended[chain][0]
            ]
            new = [
                (chain, seq, digest)
                for chain, (seq, digest) in heads.items()
                if not extended[chain][0]
            ]
            if self._bulk.heads(connection, moved, new) != len(moved):
                raise ChainConflictError("a chain head moved during the write")
        self._heads.update(heads)
        return ids

    def _invalidate(self, connection: Any, frames: Sequence[ReceivedFrame]) -> None:
        """Delete the value blocks of the closed days these frames stored
        measurements of (a late frame): the compactor builds them again. Live
        data (today's) costs one date comparison a value."""
        before = invalidated_before(self.today())
        stale = {
            (m.mn, m.data_time.date())
            for frame in frames
            for m in frame.measurements
            if m.data_time.date() < before
        }
        if stale:
            connection.execute(
                delete(ValueBlock).where(
                    ValueBlock.mn == bindparam("block_mn"), ValueBlock.day == bindparam("block_day")
                ),
                [{"block_mn": mn, "block_day": day} for mn, day in sorted(stale)],
            )

    def _measurement_rows(self, frames: Sequence[ReceivedFrame], ids: list[int]) -> list[Row]:
        rows: list[Row] = []
        data_time: datetime | None = None
        bound: Any = None
        for frame, frame_id in zip(frames, ids, strict=True):
            for m in frame.measurements:
                if m.data_time is not data_time:
                    # The rows of one upload share their DataTime: bind it once.
                    data_time, bound = m.data_time, self._data_time_to_db(m.data_time)
                rows.append((m.mn, m.cn, bound, *m[3:], frame_id))
        return rows

    def _head(self, connection: Any, chain: str) -> tuple[int, str]:
        cached = self._heads.get(chain)
        if cached is not None:
            return cached
        row = connection.execute(
            select(ChainHead.seq, ChainHead.hash).where(ChainHead.chain == chain)
        ).first()
        return (0, GENESIS) if row is None else (row[0], row[1])


def _links(engine: Engine, chain: str, after: int = 0) -> Generator[tuple[int, str, str, Link]]:
    query = (
        select(ArchivedFrame)
        .where(ArchivedFrame.chain == chain, ArchivedFrame.seq > after)
        .order_by(ArchivedFrame.seq)
        .execution_options(yield_per=1000)
    )
    with engine.connect() as connection:
        result = connection.execute(query)
        try:
            for row in result:
                yield (
                    row.id,
                    row.prev_hash,
                    row.hash,
                    Link(
                        chain=row.chain,
                        seq=row.seq,
                        received_at=row.received_at,
                        peer=row.peer,
                        raw=row.raw,
                        verdict=row.verdict,
                        error_code=row.error_code,
                        warnings=row.warnings,
                        mn=row.mn,
                        cn=row.cn,
                        qn=row.qn,
                    ),
                )
        finally:
            result.close()


@dataclass(frozen=True, slots=True)
class VerifyReport:
    chains: int
    links: int
    broken: tuple[BrokenLink, ...]


def verify(engine: Engine) -> VerifyReport:
    """Check every chain of the archive against its links and its recorded head;
    the first broken link of each broken chain. A chain whose older months were
    detached for archive is checked from its newest detached link on (the
    anchor the detachment recorded in the audit log)."""
    with engine.connect() as connection:
        anchors = archive_anchors(connection)
        chains = set(connection.execute(select(ArchivedFrame.chain).distinct()).scalars())
        links = connection.execute(select(func.count()).select_from(ArchivedFrame)).scalar_one()
        heads = {
            chain: (seq, digest)
            for chain, seq, digest in connection.execute(
                select(ChainHead.chain, ChainHead.seq, ChainHead.hash).where(
                    ChainHead.chain != AUDIT_CHAIN
                )
            )
        }
    broken = []
    for chain in sorted(chains | set(heads)):
        # closing(): a chain broken early must still release its server-side cursor.
        start = anchors.get(chain)
        with closing(_links(engine, chain, start[0] if start else 0)) as links_of_chain:
            found = first_broken_link(chain, links_of_chain, heads.get(chain), start)
        if found is not None:
            broken.append(found)
    return VerifyReport(chains=len(chains | set(heads)), links=links, broken=tuple(broken))
