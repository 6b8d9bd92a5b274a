"""Value blocks: a device's uploads of one China Standard Time day in column
form, the unit the columnar replay reads instead of the measurement rows once
the day is closed (like a compressed chunk of a time-series store).

Pure: encode, decode, cut and join ``DeviceColumns``; no I/O. The compactor
(``processing/compaction.py``) builds blocks from the rows; the reader
(``processing/columns.py``) decodes them.

A block's bytes: a 4-byte little-endian header length, the header (JSON: the
version, the uploads, the text dictionaries of CNs, factors and flags, each
factor's value count) and the arrays as raw numpy bytes, in order: frame ids
(int64), CN codes (int16), DataTime and receive time (int64 µs, China Standard
Time; ``NAT`` where unknown), then per factor its upload indices (int32),
levels (float64; NaN: none) and flag codes (int16; 0: unflagged). The part
after the header is zlib-compressed at ``LEVEL`` when the header says so.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from envwatch.rules.columnar import DeviceColumns, FactorColumn
from envwatch.store.blockdays import COMPACT_AFTER_DAYS, closed_before, invalidated_before

__all__ = [
    "COMPACT_AFTER_DAYS",
    "Block",
    "closed_before",
    "cut",
    "decode",
    "encode",
    "in_window",
    "invalidated_before",
    "join",
]

VERSION: Final = 1
LEVEL: Final = 0
"""zlib level of a block's arrays (1: fastest; 0 stores them as they are)."""
NAT: Final = int(np.iinfo(np.int64).min)
_HEADER: Final = struct.Struct("<I")

Ints = npt.NDArray[np.int64]


def _codes(values: npt.NDArray[np.object_]) -> tuple[list[str | None], npt.NDArray[np.int16]]:
    names: list[str | None] = []
    index: dict[str | None, int] = {}
    out = np.empty(len(values), dtype=np.int16)
    for at, value in enumerate(values.tolist()):
        code = index.get(value)
        if code is None:
            code = index[value] = len(names)
            names.append(value)
        out[at] = code
    return names, out


def _micros(times: Any) -> Ints:
    return np.asarray(times, dtype="datetime64[us]").astype(np.int64)


def encode(columns: DeviceColumns, *, level: int = LEVEL) -> bytes:
    """The block of ``columns`` (one device's uploads, usually of one day)."""
    cn_names, cn_codes = _codes(np.asarray(columns.cn, dtype=object))
    flag_names: list[str | None] = [None]
    flag_index: dict[str | None, int] = {None: 0}
    arrays: list[bytes] = [
        np.asarray(columns.frame_id, dtype=np.int64).tobytes(),
        cn_codes.tobytes(),
        _micros(columns.data_time).tobytes(),
        _micros(columns.received_at).tobytes(),
    ]
    factors: list[list[Any]] = []
    for name, factor in columns.factors.items():
        flags = np.empty(len(factor.rows), dtype=np.int16)
        for at, flag in enumerate(np.asarray(factor.flag, dtype=object).tolist()):
            code = flag_index.get(flag)
            if code is None:
                code = flag_index[flag] = len(flag_names)
                flag_names.append(flag)
            flags[at] = code
        arrays += [
            np.asarray(factor.rows, dtype=np.int32).tobytes(),
            np.asarray(factor.level, dtype=np.float64).tobytes(),
            flags.tobytes(),
        ]
        factors.append([name, len(factor.rows)])
    body = b"".join(arrays)
    header = json.dumps(
        {
            "v": VERSION,
            "mn": columns.mn,
            "n": len(columns),
            "cns": cn_names,
            "flags": flag_names,
            "factors": factors,
            "z": level,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    if level:
        body = zlib.compress(body, level)
    return _HEADER.pack(len(header)) + header + body


class Block:
    """A decoded block: arrays with codes into the block's own dictionaries."""

    __slots__ = ("cn", "cns", "data_time", "factors", "flags", "frame_id", "mn", "received_at")

    def __init__(self, data: bytes) -> None:
        (size,) = _HEADER.unpack_from(data)
        header = json.loads(data[4 : 4 + size])
        if header["v"] != VERSION:
            raise ValueError(f"value block version {header['v']} is not {VERSION}")
        body = data[4 + size :]
        if header["z"]:
            body = zlib.decompress(body)
        n = int(header["n"])
        at = 0

        def take(dtype: Any, count: int) -> Any:
            nonlocal at
            array = np.frombuffer(body, dtype=dtype, count=count, offset=at)
            at += array.nbytes
            return array

        self.mn: str = header["mn"]
        self.cns: list[str | None] = header["cns"]
        self.flags: list[str | None] = header["flags"]
        self.frame_id: Ints = take(np.int64, n)
        self.cn: npt.NDArray[np.int16] = take(np.int16, n)
        self.data_time: Ints = take(np.int64, n)
        self.received_at: Ints = take(np.int64, n)
        self.factors: dict[str, tuple[Any, Any, Any]] = {}
        for name, count in header["factors"]:
            self.factors[name] = (
                take(np.int32, count),
                take(np.float64, count),
                take(np.int16, count),
            )

    def __len__(self) -> int:
        return len(self.frame_id)

    def points(self) -> int:
        return sum(len(rows) for rows, _, _ in self.factors.values())


def decode(data: bytes) -> DeviceColumns:
    """The ``DeviceColumns`` a block holds (flags as their text, no codes)."""
    return from_block(Block(data))


def from_block(block: Block, flag_code: Callable[[str | None], int] | None = None) -> DeviceColumns:
    """The ``DeviceColumns`` of a decoded block, flags also as codes given
    by ``flag_code`` (the reader's) when given."""
    flags = np.array(block.flags, dtype=object)
    codes = (
        None if flag_code is None
        else np.array([flag_code(name) for name in block.flags], dtype=np.int64)
    )  # fmt: skip
    return DeviceColumns(
        block.mn,
        block.frame_id.copy(),
        np.array(block.cns, dtype=object)[block.cn],
        block.data_time.astype("datetime64[us]"),
        block.received_at.astype("datetime64[us]"),
        {
            name: FactorColumn(
                rows.astype(np.int64), level.copy(), flags[fc], None if codes is None else codes[fc]
            )
            for name, (rows, level, fc) in block.factors.items()
        },
    )


def day_micros(day: date) -> int:
    """µs since the epoch of ``day``'s midnight (China Standard Time, naive)."""
    return int(np.datetime64(day, "us").astype(np.int64))


def cut(columns: DeviceColumns, keep: npt.NDArray[np.bool_]) -> DeviceColumns:
    """``columns`` with only the uploads where ``keep``; factors with no value left go."""
    if bool(keep.all()):
        return columns
    renumber = np.cumsum(keep, dtype=np.int64) - 1
    factors = {}
    for name, factor in columns.factors.items():
        mine = keep[factor.rows]
        if not mine.any():
            continue
        factors[name] = FactorColumn(
            renumber[factor.rows[mine]],
            factor.level[mine],
            factor.flag[mine],
            None if factor.flag_code is None else factor.flag_code[mine],
            factor.flag_names,
        )
    return DeviceColumns(
        columns.mn,
        columns.frame_id[keep],
        columns.cn[keep],
        columns.data_time[keep],
        columns.received_at[keep],
        factors,
    )


def in_window(columns: DeviceColumns, since: datetime, until: datetime) -> DeviceColumns:
    """``columns`` with the uploads whose DataTime is in [since, until)."""
    low, high = np.datetime64(since, "us"), np.datetime64(until, "us")
    return cut(columns, (columns.data_time >= low) & (columns.data_time < high))


def join(
    pieces: Sequence[DeviceColumns], factor_order: Mapping[str, int] | None = None
) -> DeviceColumns:
    """One device's pieces as one ``DeviceColumns``, in frame order (as if read
    at once); factors in ``factor_order`` (the reader's codes), else by name.
    Flag codes are not set (the reader sets them)."""
    if len(pieces) == 1:
        return pieces[0]
    frame_id = np.concatenate([piece.frame_id for piece in pieces])
    in_order = bool(np.all(frame_id[1:] >= frame_id[:-1]))  # days in arrival order, usually
    order = np.arange(len(frame_id)) if in_order else np.argsort(frame_id, kind="stable")
    place = np.empty(len(order), dtype=np.int64)
    place[order] = np.arange(len(order))
    names: dict[str, None] = {}
    for piece in pieces:
        names.update(dict.fromkeys(piece.factors))
    ranked = sorted(
        names, key=lambda n: (factor_order.get(n, 1 << 30), n) if factor_order else (0, n)
    )
    factors = {}
    for name in ranked:
        rows, levels, flags, codes = [], [], [], []
        offset = 0
        for piece in pieces:
            factor = piece.factors.get(name)
            if factor is not None:
                rows.append(place[factor.rows + offset])
                levels.append(factor.level)
                flags.append(factor.flag)
                codes.append(factor.flag_code)
            offset += len(piece)
        joined_rows = np.concatenate(rows)
        by_row = slice(None) if in_order else np.argsort(joined_rows, kind="stable")
        present = [code for code in codes if code is not None]
        coded = len(present) == len(codes)
        factors[name] = FactorColumn(
            joined_rows[by_row],
            np.concatenate(levels)[by_row],
            np.concatenate(flags)[by_row],
            np.concatenate(present)[by_row] if coded else None,
            pieces[0].factors[name].flag_names if name in pieces[0].factors else (),
        )
    every: Any = slice(None) if in_order else order
    return DeviceColumns(
        pieces[0].mn,
        frame_id[every],
        np.concatenate([piece.cn for piece in pieces])[every],
        np.concatenate([piece.data_time for piece in pieces])[every],
        np.concatenate([piece.received_at for piece in pieces])[every],
        factors,
    )
