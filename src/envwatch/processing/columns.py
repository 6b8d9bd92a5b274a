"""Stored uploads read in column form, a few devices at a time (SQLite and
PostgreSQL): the input of the columnar replay (``rules/columnar.py``).

Each device's uploads come in arrival (frame) order, as the streaming replay
feeds them; memory stays bounded by ``devices_per_chunk`` devices' windows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, String, select, type_coerce

from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.rules.columnar import DeviceColumns, FactorColumn
from envwatch.store.schema import ArchivedFrame, Measurement


def _received(value: Any) -> datetime | None:
    """A stored UTC receive time as China Standard Time, naive."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    moment: datetime = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return moment.astimezone(CHINA_STANDARD_TIME).replace(tzinfo=None)


def read_columns(
    connection: Connection,
    mns: Sequence[str],
    since: datetime,
    until: datetime,
    *,
    devices_per_chunk: int = 10,
) -> Iterator[DeviceColumns]:
    """The devices' uploads with DataTime in [since, until), device by device."""
    for start in range(0, len(mns), devices_per_chunk):
        chunk = list(mns[start : start + devices_per_chunk])
        query = (
            select(
                Measurement.mn,
                Measurement.frame_id,
                Measurement.cn,
                # Raw (text on SQLite): numpy parses a column at once, faster
                # than a datetime per row.
                type_coerce(Measurement.data_time, String),
                Measurement.pollutant,
                Measurement.rtd,
                Measurement.avg,
                Measurement.flag,
                ArchivedFrame.received_at,
            )
            .join(ArchivedFrame, ArchivedFrame.id == Measurement.frame_id)
            .where(
                Measurement.mn.in_(chunk),
                Measurement.data_time >= since,
                Measurement.data_time < until,
                ArchivedFrame.verdict == "accepted",
            )
            .order_by(Measurement.mn, Measurement.frame_id)
        )
        rows = connection.execute(query).all()
        yield from _devices(rows)


def _devices(rows: Sequence[Any]) -> Iterator[DeviceColumns]:
    if not rows:
        return
    mn, frame, cn, data_time, pollutant, rtd, avg, flag, received = zip(*rows, strict=True)
    mns = np.array(mn, dtype=object)
    edges = np.flatnonzero(mns[1:] != mns[:-1]) + 1
    bounds = [0, *edges.tolist(), len(rows)]
    frames = np.array(frame, dtype=np.int64)
    levels = np.array(rtd, dtype=np.float64)  # None becomes NaN
    if np.isnan(levels).any():  # Avg where no Rtd
        levels = np.where(np.isnan(levels), np.array(avg, dtype=np.float64), levels)
    times = np.array(data_time, dtype="datetime64[us]")
    pollutants = np.array(pollutant, dtype=object)
    flags = np.array(flag, dtype=object)
    cns = np.array(cn, dtype=object)
    for low, high in itertools.pairwise(bounds):
        yield _device(
            str(mns[low]),
            frames[low:high],
            cns[low:high],
            times[low:high],
            received[low:high],
            pollutants[low:high],
            levels[low:high],
            flags[low:high],
        )


def _device(  # noqa: PLR0917
    mn: str,
    frames: Any,
    cns: Any,
    times: Any,
    received: Iterable[Any],
    pollutants: Any,
    levels: Any,
    flags: Any,
) -> DeviceColumns:
    """One device's measurement rows (frame order) as uploads and factor columns."""
    first = np.concatenate(([True], frames[1:] != frames[:-1]))
    upload = np.cumsum(first) - 1  # each row's upload
    starts = np.flatnonzero(first)
    arrived = [received_at for i, received_at in enumerate(received) if first[i]]
    if arrived and all(isinstance(moment, str) for moment in arrived):  # SQLite: UTC text
        utc = np.array([moment[:26] for moment in arrived], dtype="datetime64[us]")
        received_at: Any = utc + np.timedelta64(8, "h")  # China Standard Time, no summer time
    else:
        received_at = np.array(
            [_received(moment) or np.datetime64("NaT") for moment in arrived],
            dtype="datetime64[us]",
        )
    factors = {}
    for code in np.unique(pollutants).tolist():
        mine = pollutants == code
        factors[str(code)] = FactorColumn(upload[mine], levels[mine], flags[mine])
    return DeviceColumns(mn, frames[starts], cns[starts], times[starts], received_at, factors)
