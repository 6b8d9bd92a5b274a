"""Frames on the wire between gateways and writers (pure: no I/O).

A gateway publishes each received frame, accepted or rejected, to the
subject of its device's partition; the message id that JetStream
de-duplicates on is derived from the frame, so a logger's resend inside the
stream's window is stored once. The body is JSON (never pickle: anyone who
may publish to the stream must not run code in a writer).
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from datetime import datetime
from typing import Any, Final

from envwatch.store.archive import UNATTRIBUTED_CHAIN, MeasurementRow, MeterReading, ReceivedFrame

SUBJECT_PREFIX: Final = "envwatch.frames"
"""Frames of partition ``k`` go to ``envwatch.frames.k``."""


def partition_of(mn: str | None, partitions: int) -> int:
    """The partition of a device [0, partitions): CRC-32 of its MN (every
    frame of one device, and so its hash chain, in one partition)."""
    key = (mn or UNATTRIBUTED_CHAIN).encode("utf-8")
    return zlib.crc32(key) % partitions


def subject(partition: int) -> str:
    return f"{SUBJECT_PREFIX}.{partition}"


def message_id(frame: ReceivedFrame) -> str:
    """The de-duplication id (``Nats-Msg-Id``): the device and the frame's
    bytes. A resend is the same bytes (same QN), so the same id; a rejected
    byte run is identified by its bytes and its peer."""
    digest = hashlib.sha256()
    digest.update((frame.mn or f"{UNATTRIBUTED_CHAIN}{frame.peer}").encode("utf-8"))
    digest.update(b"\x00")
    digest.update(frame.raw)
    return digest.hexdigest()[:40]


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def encode_frame(frame: ReceivedFrame) -> bytes:
    """``frame`` as the message body."""
    body: dict[str, Any] = {
        "t": frame.received_at.isoformat(),
        "p": frame.peer,
        "r": base64.b64encode(frame.raw).decode("ascii"),
        "v": frame.verdict,
        "e": frame.error_code,
        "w": frame.warnings,
        "mn": frame.mn,
        "cn": frame.cn,
        "qn": frame.qn,
        "m": [[m[0], m[1], m[2].isoformat(), *m[3:]] for m in frame.measurements],
        "el": [[r[0], r[1].isoformat(), *r[2:]] for r in frame.electricity],
        "dt": _time(frame.data_time),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class BadMessageError(ValueError):
    """A message on the frames stream that is not a frame (not ours, or corrupt)."""


def decode_frame(data: bytes) -> ReceivedFrame:
    """The frame a gateway published; ``BadMessageError`` for anything else."""
    try:
        body = json.loads(data)
        return ReceivedFrame(
            received_at=datetime.fromisoformat(body["t"]),
            peer=str(body["p"]),
            raw=base64.b64decode(body["r"], validate=True),
            verdict=str(body["v"]),
            error_code=body["e"],
            warnings=str(body["w"]),
            mn=body["mn"],
            cn=body["cn"],
            qn=body["qn"],
            measurements=tuple(
                MeasurementRow(m[0], m[1], datetime.fromisoformat(m[2]), *m[3:]) for m in body["m"]
            ),
            electricity=tuple(
                MeterReading(r[0], datetime.fromisoformat(r[1]), *r[2:]) for r in body["el"]
            ),
            data_time=_parse_time(body["dt"]),
        )
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise BadMessageError(f"not a frame message: {error!r}") from error
