"""Stored uploads read in column form (SQLite and PostgreSQL): the input of
the columnar replay (``rules/columnar.py``).

A pass reads the window's frames and measurements of a group of devices with
two narrow scans (no join, no index walk per device: a device's rows lie all
over the tables, interleaved with the city's): on PostgreSQL straight into
Arrow through ADBC (``adbc-driver-postgresql`` fills columns in C, no Python
object per row), on SQLite through SQLAlchemy (ADBC's SQLite driver would
bring a second copy of SQLite into the process, see ``Reader``); then into
compact numpy codes at once, record batch by record batch. The frames and measurements are then
matched and sorted per device with numpy. Memory stays bounded by
``devices_per_pass`` devices' windows (about 30 bytes a value).

The uploads are the streaming replay's (``inputs.upload_page``): frames
accepted, with DataTime in [since, until), that stored measurements, in
arrival (frame) order; a factor's level is Rtd else Avg.

Without the ADBC driver (an optional dependency) the same passes are read
through SQLAlchemy, row by row: slower, the same columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from envwatch.processing.blocks import Block, cut, from_block, in_window, join
from envwatch.rules.columnar import DeviceColumns, FactorColumn

CST_OFFSET_US = 8 * 3600 * 1_000_000
ROWS_PER_BATCH = 50_000
"""Rows a batch when read through SQLAlchemy (no ADBC)."""
"""China Standard Time is UTC+8 all year [µs]."""

Ints = npt.NDArray[np.int64]


class Codes:
    """Small integer codes for the text of a column (pollutants, flags, CNs, MNs)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names: list[str | None] = [None]  # code 0: null
        self.code: dict[str | None, int] = {None: 0}
        for name in names:
            self.add(name)

    def add(self, name: str | None) -> int:
        code = self.code.get(name)
        if code is None:
            code = self.code[name] = len(self.names)
            self.names.append(name)
        return code

    def of(self, names: Sequence[str | None]) -> Ints:
        """The codes of a batch's distinct values (its dictionary), in order."""
        return np.array([self.add(name) for name in names], dtype=np.int64)

    def objects(self) -> npt.NDArray[np.object_]:
        return np.array(self.names, dtype=object)


@dataclass
class _Frames:
    id: list[Ints]
    device: list[Ints]
    cn: list[Ints]
    data_time: list[Ints]
    received: list[Ints]
    """µs since the epoch, China Standard Time; ``NAT`` where unknown."""


@dataclass
class _Values:
    frame: list[Ints]
    pollutant: list[Ints]
    level: list[npt.NDArray[np.float64]]
    flag: list[Ints]


NAT = np.iinfo(np.int64).min


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _day(day: date, postgres: bool) -> str:
    return f"DATE '{day.isoformat()}'" if postgres else f"'{day.isoformat()}'"


def _when(moment: datetime, postgres: bool) -> str:
    text_ = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return f"TIMESTAMP '{text_}'" if postgres else f"'{text_}'"


def _queries(
    mns: Sequence[str] | None, since: datetime, until: datetime, postgres: bool
) -> tuple[str, str]:
    def window(table: str) -> str:
        where = (
            f"{table}.data_time >= {_when(since, postgres)} "
            f"AND {table}.data_time < {_when(until, postgres)}"
        )
        if mns is not None:
            where += f" AND {table}.mn IN ({', '.join(_literal(mn) for mn in mns)})"
        return where

    frames = (
        "SELECT f.id, f.mn, f.cn, f.data_time, f.received_at FROM archived_frame f "
        f"WHERE f.verdict = 'accepted' AND {window('f')}"
    )
    # The measurements of those frames: a measurement has its frame's MN and
    # DataTime, so the same window narrows them without a join.
    values = (
        "SELECT m.frame_id, m.pollutant, COALESCE(m.rtd, m.avg), m.flag FROM measurement m "
        f"WHERE {window('m')}"
    )
    return frames, values


class Reader:
    """Reads passes of devices' windows from one database."""

    def __init__(self, engine: Engine, *, arrow: bool = True, blocks: bool = True) -> None:
        self.engine = engine
        self.blocks = blocks
        """Whether closed days are read from their value blocks where they have one."""
        url = make_url(engine.url.render_as_string(hide_password=False))
        self.postgres = url.get_backend_name() == "postgresql"
        self.pollutants = Codes()
        self.flags = Codes()
        self.cns = Codes()
        self._adbc: Any = None
        self._second: Any = None  # the frames' scan runs beside the values' (a thread)
        # ADBC on PostgreSQL only. Its SQLite driver carries a second copy of
        # SQLite into the process: two copies' POSIX locks on one file do not
        # know of each other, and a close in one drops the other's locks
        # (sqlite.org/howtocorrupt.html, 2.2.1). Beside the process's own
        # sqlite3 writes (findings, blocks) that corrupted the file: "database
        # disk image is malformed" in the web server's replay jobs and in the
        # compactor. SQLite is read through SQLAlchemy.
        if not arrow or not self.postgres:
            return
        try:
            import adbc_driver_postgresql.dbapi as driver  # noqa: PLC0415
        except ImportError:
            return
        uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._adbc, self._second = driver.connect(uri), driver.connect(uri)

    @property
    def arrow(self) -> bool:
        """Whether the passes are read through ADBC (else SQLAlchemy rows)."""
        return self._adbc is not None

    def close(self) -> None:
        for connection in (self._adbc, self._second):
            if connection is not None:
                connection.close()
        self._adbc = self._second = None

    def _batches(self, query: str, *, second: bool = False) -> Iterator[Any]:
        """The result of ``query`` in Arrow record batches (ADBC: on the second
        connection if asked) or row lists."""
        if self._adbc is not None:
            with (self._second if second else self._adbc).cursor() as cursor:
                if not self.postgres:  # the driver's default is 1,024 rows a batch
                    cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
                cursor.execute(query)
                reader = cursor.fetch_record_batch()
                yield from reader
            return
        with self.engine.connect() as connection:
            result = connection.execution_options(yield_per=ROWS_PER_BATCH).execute(text(query))
            # The size said again: without a server-side cursor (SQLite) the
            # driver's fetchmany() alone gives one row at a time.
            yield from result.partitions(ROWS_PER_BATCH)

    def read(
        self, mns: Sequence[str], since: datetime, until: datetime, *, whole: bool = False
    ) -> Iterator[DeviceColumns]:
        """One pass: the devices ``mns`` (``whole``: every device the window
        holds is wanted, so no filter by MN), device by device (MN order).

        Device-days with a value block (``processing/blocks.py``) are read
        from it, the rest from the rows, scanned only over the days some
        device of the pass has no block for."""
        if not self.blocks:
            yield from self.read_rows(mns, since, until, whole=whole)
            return
        stored = self._stored_blocks(mns, since, until)
        if not stored:
            yield from self.read_rows(mns, since, until, whole=whole)
            return
        covered: dict[str, set[date]] = {}
        for mn, day in stored:
            covered.setdefault(mn, set()).add(day)
        first, last = since.date(), (until - timedelta(microseconds=1)).date()
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        scan = [day for day in days if any(day not in covered.get(mn, ()) for mn in mns)]
        rows: dict[str, list[DeviceColumns]] = {}
        for low, high in _runs(scan):
            start = max(since, datetime.combine(low, time()))
            end = min(until, datetime.combine(high + timedelta(days=1), time()))
            for read in self.read_rows(mns, start, end, whole=whole):
                mine = covered.get(read.mn)
                if mine:  # the uploads of its days with a block come from the block
                    blocked = np.array([np.datetime64(d, "D") for d in mine])
                    read = cut(read, ~np.isin(read.data_time.astype("datetime64[D]"), blocked))  # noqa: PLW2901
                if len(read):
                    rows.setdefault(read.mn, []).append(read)
        order = {name: code for code, name in enumerate(self.pollutants.names) if name}
        for mn in sorted(mns):
            pieces = []
            for day in sorted(covered.get(mn, ())):
                block = Block(stored[mn, day])
                if len(block):
                    for name in block.factors:
                        order.setdefault(name, self.pollutants.add(name))
                    pieces.append(in_window(from_block(block, self.flags.add), since, until))
            pieces += rows.get(mn, [])
            pieces = [piece for piece in pieces if len(piece)]
            if not pieces:
                continue
            yield _coded(join(pieces, order), self.flags)

    def _stored_blocks(
        self, mns: Sequence[str], since: datetime, until: datetime
    ) -> dict[tuple[str, date], bytes]:
        """The blocks of ``mns`` for the days of [since, until)."""
        last = (until - timedelta(microseconds=1)).date()
        query = (
            "SELECT mn, day, body FROM value_block WHERE "
            f"day >= {_day(since.date(), self.postgres)} AND day <= {_day(last, self.postgres)}"
        )
        if len(mns) <= 1000:
            query += f" AND mn IN ({', '.join(_literal(mn) for mn in mns)})"
        wanted = set(mns)
        found: dict[tuple[str, date], bytes] = {}
        # Through the reader's own connection: on SQLite a second library's
        # connection to the same WAL file beside ADBC's is not to be mixed.
        for batch in self._batches(query):
            rows = (
                zip(*batch.to_pydict().values(), strict=True)
                if not isinstance(batch, list)
                else batch
            )
            for mn, day, body in rows:
                if mn in wanted:
                    found[mn, day if isinstance(day, date) else date.fromisoformat(day)] = bytes(
                        body
                    )
        return found

    def read_rows(
        self, mns: Sequence[str], since: datetime, until: datetime, *, whole: bool = False
    ) -> Iterator[DeviceColumns]:
        """One pass from the rows alone (no blocks)."""
        frames_query, values_query = _queries(None if whole else mns, since, until, self.postgres)
        devices = Codes(mns)
        frames = _Frames([], [], [], [], [])

        def read_frames() -> None:
            for batch in self._batches(frames_query, second=True):
                self._frames(batch, devices, frames)

        values = _Values([], [], [], [])
        # The drivers fill batches without the GIL: the two scans overlap.
        with ThreadPoolExecutor(1, thread_name_prefix="replay-frames") as pool:
            frames_read = pool.submit(read_frames) if self.arrow else None
            if frames_read is None:
                read_frames()
            for batch in self._batches(values_query):
                self._values(batch, values)
            if frames_read is not None:
                frames_read.result()
        yield from _assemble(
            devices, frames, values, self.cns.objects(), self.flags.objects(), self.pollutants
        )

    def _frames(self, batch: Any, devices: Codes, out: _Frames) -> None:
        if isinstance(batch, list):  # rows
            if not batch:
                return
            ids, mn, cn, data_time, received = zip(*batch, strict=True)
            out.id.append(np.array(ids, dtype=np.int64))
            out.device.append(np.array([devices.code.get(m, -1) for m in mn], dtype=np.int64))
            out.cn.append(np.array([self.cns.add(c) for c in cn], dtype=np.int64))
            out.data_time.append(_micros(data_time, utc=False))
            out.received.append(_micros(received, utc=True))
            return
        import pyarrow.compute as pc  # noqa: PLC0415

        # Copies: a view would keep the driver's whole batch (its text too) alive.
        out.id.append(batch.column(0).to_numpy().astype(np.int64, copy=True))
        mn = pc.dictionary_encode(batch.column(1))
        known = np.array(
            [devices.code.get(m, -1) for m in mn.dictionary.to_pylist()] + [-1], dtype=np.int64
        )
        out.device.append(known[mn.indices.fill_null(len(known) - 1).to_numpy()].astype(np.int32))
        cn = pc.dictionary_encode(batch.column(2))
        codes = np.append(self.cns.of(cn.dictionary.to_pylist()), 0)
        out.cn.append(codes[cn.indices.fill_null(len(codes) - 1).to_numpy()].astype(np.int32))
        out.data_time.append(_arrow_micros(batch.column(3), utc=False))
        out.received.append(_arrow_micros(batch.column(4), utc=True))

    def _values(self, batch: Any, out: _Values) -> None:
        if isinstance(batch, list):  # rows
            if not batch:
                return
            frame, pollutant, level, flag = zip(*batch, strict=True)
            out.frame.append(np.array(frame, dtype=np.int64))
            out.pollutant.append(
                np.array([self.pollutants.add(p) for p in pollutant], dtype=np.int64)
            )
            out.level.append(np.array(level, dtype=np.float64))  # None: NaN
            out.flag.append(np.array([self.flags.add(f) for f in flag], dtype=np.int64))
            return
        import pyarrow.compute as pc  # noqa: PLC0415

        # Copies: a view would keep the driver's whole batch (its text too) alive.
        out.frame.append(batch.column(0).to_numpy().astype(np.int64, copy=True))
        for column, codes_of, into in (
            (1, self.pollutants, out.pollutant),
            (3, self.flags, out.flag),
        ):
            encoded = pc.dictionary_encode(batch.column(column))
            codes = np.append(codes_of.of(encoded.dictionary.to_pylist()), 0)
            into.append(
                codes[encoded.indices.fill_null(len(codes) - 1).to_numpy()].astype(np.int32)
            )
        level = batch.column(2).cast("float64").to_numpy(zero_copy_only=False)
        out.level.append(np.array(level, dtype=np.float64, copy=True))  # null: NaN


def _runs(days: Sequence[date]) -> Iterator[tuple[date, date]]:
    """Sorted ``days`` as runs of consecutive days (first, last)."""
    run: list[date] = []
    for day in days:
        if run and day != run[-1] + timedelta(days=1):
            yield run[0], run[-1]
            run = []
        run.append(day)
    if run:
        yield run[0], run[-1]


def _coded(columns: DeviceColumns, flags: Codes) -> DeviceColumns:
    """``columns`` whose factors' flag codes index the reader's flags as they now are."""
    names = tuple(flags.names)
    return replace(
        columns,
        factors={
            name: replace(factor, flag_names=names) for name, factor in columns.factors.items()
        },
    )


def _arrow_micros(column: Any, *, utc: bool) -> Ints:
    """A timestamp column (PostgreSQL) or ISO text (SQLite) as µs, China Standard Time."""
    import pyarrow as pa  # noqa: PLC0415

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        import pyarrow.compute as pc  # noqa: PLC0415

        # SQLite's text: 'YYYY-MM-DD HH:MM:SS.ffffff', UTC for a receive time.
        column = pc.utf8_slice_codeunits(column, 0, 26).cast(pa.timestamp("us"))
    micros = column.cast(pa.timestamp("us", tz=column.type.tz)).cast(pa.int64())
    values: Ints = np.asarray(micros.fill_null(NAT).to_numpy(), dtype=np.int64)
    if utc:
        values = np.where(values == NAT, NAT, values + CST_OFFSET_US)
    return values


_NAIVE_TEXT = len("2026-01-05 00:00:00.000000")
"""The longest SQLite text of a naive moment (SQLAlchemy's storage format)."""


def _micros(moments: Sequence[Any], *, utc: bool) -> Ints:
    """Row values (datetimes or SQLite text) as µs, China Standard Time."""
    if (
        set(map(type, moments)) <= {str, type(None)}
        and max(map(len, filter(None, moments)), default=0) <= _NAIVE_TEXT
    ):
        # SQLite's naive text, parsed by numpy at once (None: NaT, as NAT).
        values = np.array(moments, dtype="datetime64[us]").astype(np.int64)
        return np.where(values == NAT, NAT, values + CST_OFFSET_US) if utc else values
    out = np.empty(len(moments), dtype=np.int64)
    for index, value in enumerate(moments):
        if value is None:
            out[index] = NAT
            continue
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        offset = moment.utcoffset()
        if offset is not None:
            moment = moment.replace(tzinfo=None) - offset
        micros = np.datetime64(moment, "us").astype(np.int64)
        out[index] = micros + CST_OFFSET_US if utc else micros
    return out


def _joined(parts: list[Any], dtype: Any) -> Any:
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def _stable_order(key: Ints, bound: int) -> Ints:
    """A stable argsort of small non-negative ``key``s (< ``bound``): a radix
    sort where they fit 16 bits."""
    if bound <= np.iinfo(np.uint16).max:
        return np.argsort(key.astype(np.uint16), kind="stable")
    return np.argsort(key, kind="stable")


def _by_id(ids: Ints) -> Ints:
    """The order of ``ids`` ascending (scans return them nearly so: timsort)."""
    if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):
        return np.arange(len(ids))
    return np.argsort(ids, kind="stable")


def _positions(ids: Ints, wanted: Ints) -> Ints:
    """For each of ``wanted``, its index in ``ids`` (distinct), or -1."""
    if not len(ids):
        return np.full(len(wanted), -1, dtype=np.int64)
    low, high = int(ids.min()), int(ids.max())
    if high - low <= 4 * len(ids) + 1024:  # ids dense enough: a table
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[ids - low] = np.arange(len(ids))
        inside = (wanted >= low) & (wanted <= high)
        out = np.full(len(wanted), -1, dtype=np.int64)
        out[inside] = table[wanted[inside] - low]
        return out
    order = np.argsort(ids)
    at = np.minimum(np.searchsorted(ids[order], wanted), len(ids) - 1)
    found: Ints = np.where(ids[order][at] == wanted, order[at], -1)
    return found


def _take(parts: list[Any], dtype: Any) -> Any:
    """The parts joined, and the list emptied (their memory goes as they join)."""
    joined = _joined(parts, dtype)
    parts.clear()
    return joined


def _assemble(  # noqa: PLR0917
    devices: Codes,
    frames: _Frames,
    values: _Values,
    cns: npt.NDArray[np.object_],
    flags: npt.NDArray[np.object_],
    pollutants: Codes,
) -> Iterator[DeviceColumns]:
    """Frames and measurements matched and cut device by device (MN order).
    Consumes ``frames`` and ``values``; the arrays it keeps are compact."""
    device = _take(frames.device, np.int64)
    frame_id = _take(frames.id, np.int64)
    wanted = np.flatnonzero(device > 0)  # code 0: null MN; -1: not in the pass
    order = wanted[_by_id(frame_id[wanted])]
    del wanted
    order = order[_stable_order(device[order], len(devices.names))]  # (device, id)
    frame_id, device = frame_id[order], device[order].astype(np.int32)
    # Each measurement's frame (its place in (device, id) order), if wanted.
    place = _positions(frame_id, _take(values.frame, np.int64))
    mine = np.flatnonzero(place >= 0)
    place = place[mine]
    # The uploads: the frames that stored measurements.
    stored = np.zeros(len(frame_id), dtype=bool)
    stored[place] = True
    keep = np.flatnonzero(stored)
    upload_bounds = np.searchsorted(device[keep], np.arange(len(devices.names) + 1))
    # Values grouped by (device, pollutant), in upload order within a group:
    # by frame id (the scan's order, nearly), then stably by group.
    width = len(pollutants.names)
    key = device[place].astype(np.int64) * width + _take(values.pollutant, np.int64)[mine]
    by_frame = np.argsort(frame_id[place], kind="stable")
    ordered = by_frame[_stable_order(key[by_frame], len(devices.names) * width)]
    del by_frame
    key = key[ordered]
    upload = (np.cumsum(stored, dtype=np.int64) - 1)[place[ordered]]
    del place, stored
    level = _take(values.level, np.float64)[mine][ordered]
    flag_code = _take(values.flag, np.int64)[mine][ordered].astype(np.int16)
    del mine, ordered
    flag_names = tuple(flags.tolist())
    value_bounds = np.searchsorted(key, np.arange(len(devices.names) + 1) * width)
    ids = frame_id[keep]
    del frame_id, device
    upload_cn = _take(frames.cn, np.int64)[order][keep].astype(np.int16)
    times = _take(frames.data_time, np.int64)[order][keep].astype("datetime64[us]")
    arrived = _take(frames.received, np.int64)[order][keep].astype("datetime64[us]")
    del order, keep
    names = pollutants.names
    for code in sorted(range(1, len(devices.names)), key=lambda c: str(devices.names[c])):
        low, high = int(upload_bounds[code]), int(upload_bounds[code + 1])
        if low == high:
            continue
        v_low, v_high = int(value_bounds[code]), int(value_bounds[code + 1])
        edges = (np.flatnonzero(key[v_low + 1 : v_high] != key[v_low : v_high - 1]) + 1).tolist()
        factors = {}
        starts = [v_low + e for e in [0, *edges]]
        for a, b in zip(starts, [*starts[1:], v_high], strict=True):
            codes = flag_code[a:b].astype(np.int64)
            factors[str(names[int(key[a]) % width])] = FactorColumn(
                upload[a:b] - low, level[a:b], flags[codes], codes, flag_names
            )
        yield DeviceColumns(
            str(devices.names[code]),
            ids[low:high],
            cns[upload_cn[low:high]],
            times[low:high],
            arrived[low:high],
            factors,
        )


def read_columns(
    engine: Engine,
    mns: Sequence[str],
    since: datetime,
    until: datetime,
    *,
    devices_per_pass: int = 500,
    whole: bool = False,
    arrow: bool = True,
    blocks: bool = True,
) -> Iterator[DeviceColumns]:
    """The devices' uploads with DataTime in [since, until), device by device
    (MN order within a pass of ``devices_per_pass`` devices; ``whole``: ``mns``
    are all the devices the window holds, so a single pass filters none;
    ``arrow``: through ADBC on PostgreSQL where installed; ``blocks``: closed days from
    their value blocks where they have one)."""
    reader = Reader(engine, arrow=arrow, blocks=blocks)
    try:
        ordered = sorted(mns)
        for start in range(0, len(ordered), devices_per_pass):
            group = ordered[start : start + devices_per_pass]
            yield from reader.read(group, since, until, whole=whole and len(group) == len(ordered))
    finally:
        reader.close()
