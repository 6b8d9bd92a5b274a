"""Reassembly of segmented uploads (Flag bit D, ``PNUM``/``PNO``, HJ 212-2017 §6.4).

Each segment is a whole frame with its own QN, CRC and a repeated DataTime; the
factors are spread over the segments. Segments are keyed by
(MN, CN, DataTime, PNUM) since the QN differs per segment, accepted in any
order, and merged when the last one arrives. A set that is still incomplete
``timeout`` seconds after its first segment expires with ``segment_timeout``.

Sans-IO: the caller passes the current time (any monotonic clock, seconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envwatch.errors import UsageError
from envwatch.hj212.codes import FLAG_D
from envwatch.hj212.errors import ErrorCode, ProtocolError
from envwatch.hj212.segment import CpGroup, Packet

SegmentKey = tuple[str, str, str, int]


@dataclass(slots=True)
class _Pending:
    first_seen: float
    total: int
    parts: dict[int, Packet] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reassembled:
    """A complete upload rebuilt from its segments."""

    packet: Packet
    """The whole upload: the first segment's header without PNUM/PNO and the
    D bit, DataTime once, then every segment's factors in PNO order."""
    segment_qns: tuple[str | None, ...]
    """The QN of each segment, in PNO order."""


class SegmentAssembler:
    """Collects the segments of segmented uploads until each set is complete."""

    def __init__(self, timeout: float = 120.0, max_pending: int = 10_000) -> None:
        if timeout <= 0:
            raise UsageError("timeout must be positive")
        self.timeout = timeout
        self.max_pending = max_pending
        self._pending: dict[SegmentKey, _Pending] = {}

    @property
    def pending(self) -> int:
        """Segment sets still waiting for segments."""
        return len(self._pending)

    def add(self, packet: Packet, now: float) -> Reassembled | None:
        """Add one segment; return the whole upload once its last segment arrived.

        Raises ``ProtocolError`` (``segment_conflict``) for a segment that
        contradicts the others of its set, e.g. a different PNUM.
        """
        if packet.pnum is None or packet.pno is None:
            raise UsageError("add() takes segments only (packets with PNUM and PNO)")
        total, number = int(packet.pnum), int(packet.pno)
        data_time = packet.cp_value("DataTime") or ""
        key = (packet.mn or "", packet.cn, data_time, total)
        pending = self._pending.get(key)
        if pending is None:
            if len(self._pending) >= self.max_pending:
                raise ProtocolError(
                    ErrorCode.SEGMENT_CONFLICT,
                    f"more than {self.max_pending} segmented uploads pending",
                    f"待合并的拆分包超过{self.max_pending}组",
                )
            pending = self._pending[key] = _Pending(first_seen=now, total=total)
        previous = pending.parts.get(number)
        if previous is not None and previous.cp != packet.cp:
            raise ProtocolError(
                ErrorCode.SEGMENT_CONFLICT,
                f"segment {number}/{total} of {key[0]} CN={key[1]} DataTime={data_time} "
                "arrived twice with different content",
                f"拆分包{number}/{total}重复到达且内容不同",
            )
        pending.parts[number] = packet
        if len(pending.parts) < total:
            return None
        del self._pending[key]
        return _merge([pending.parts[n] for n in range(1, total + 1)])

    def expire(self, now: float) -> list[ProtocolError]:
        """Drop every set whose time ran out; one ``segment_timeout`` error each."""
        errors = []
        for key, pending in list(self._pending.items()):
            if now - pending.first_seen >= self.timeout:
                del self._pending[key]
                missing = sorted(set(range(1, pending.total + 1)) - set(pending.parts))
                mn, cn, data_time, total = key
                errors.append(
                    ProtocolError(
                        ErrorCode.SEGMENT_TIMEOUT,
                        f"MN={mn} CN={cn} DataTime={data_time}: segments {missing} of "
                        f"{total} missing after {self.timeout:g} s",
                        f"MN={mn} CN={cn} DataTime={data_time}：{self.timeout:g}秒后仍缺"
                        f"第{missing}包（共{total}包）",
                    )
                )
        return errors


def _merge(parts: list[Packet]) -> Reassembled:
    first = parts[0]
    groups: list[CpGroup] = list(first.cp)
    seen_fields = {key for key, _ in first.items if "-" not in key}
    for part in parts[1:]:
        for group in part.cp:
            # Every segment repeats DataTime (and maybe other plain fields).
            if all("-" not in key for key, _ in group):
                if all(key in seen_fields for key, _ in group):
                    continue
                seen_fields.update(key for key, _ in group)
            groups.append(group)
    flag = first.flag_value
    return Reassembled(
        packet=Packet.from_groups(
            first.cn,
            mn=first.mn,
            st=first.st,
            pw=first.pw,
            qn=first.qn,
            flag=None if flag is None else str(flag & ~FLAG_D),
            cp=groups,
        ),
        segment_qns=tuple(part.qn for part in parts),
    )
