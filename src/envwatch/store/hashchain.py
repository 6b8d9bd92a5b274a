"""The hash chain that makes the raw archive tamper-evident (pure functions).

Each archived frame is a link: ``hash = SHA-256(prev_hash || content)``, where
content is an unambiguous encoding of the row's fields. The first link of a
chain has ``prev_hash = GENESIS``. Editing any field, deleting or reordering
rows breaks the chain at that point and ``first_broken_link`` names it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64
AUDIT_CHAIN = "audit"
"""The audit log's chain (its head sits in ``chain_head`` beside the archive's)."""


@dataclass(frozen=True, slots=True)
class Link:
    """The fields of an archived frame that its hash covers."""

    chain: str
    seq: int
    received_at: datetime
    peer: str
    raw: bytes
    verdict: str
    error_code: str | None
    warnings: str
    mn: str | None
    cn: str | None
    qn: str | None


def _field(value: str | bytes | None) -> bytes:
    if value is None:
        return b"\xff"  # distinct from any length-prefixed value
    data = value.encode("utf-8") if isinstance(value, str) else value
    return len(data).to_bytes(8, "big") + data


def chained_hash(prev_hash: str, fields: Iterable[str | bytes | None]) -> str:
    """SHA-256 of ``prev_hash`` and the fields, each length-prefixed (None
    distinct from every value): the link encoding of every chain envwatch keeps."""
    content = b"".join([prev_hash.encode("ascii"), *(_field(value) for value in fields)])
    return hashlib.sha256(content).hexdigest()


def link_hash(prev_hash: str, link: Link) -> str:
    """The hash of ``link`` chained after ``prev_hash``."""
    return chained_hash(
        prev_hash,
        (
            link.chain,
            str(link.seq),
            canonical_time(link.received_at),
            link.peer,
            link.raw,
            link.verdict,
            link.error_code,
            link.warnings,
            link.mn,
            link.cn,
            link.qn,
        ),
    )


def canonical_time(moment: datetime) -> str:
    """A stored UTC moment as text: SQLite gives it back naive, PostgreSQL in
    the session's zone."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class BrokenLink:
    chain: str
    seq: int
    row_id: int | None
    """The archive row where the chain breaks; None when the rows are gone."""
    reason: str


def first_broken_link(
    chain: str,
    rows: Iterable[tuple[int, str, str, Link]],
    head: tuple[int, str] | None = None,
    start: tuple[int, str] | None = None,
) -> BrokenLink | None:
    """Walk one chain's rows ``(row id, prev_hash, hash, link)`` in ``seq`` order.

    ``head`` is the chain's recorded newest link ``(seq, hash)``: rows cut off
    the end of the chain are found against it. ``start`` is the newest link
    ``(seq, hash)`` of the chain's older part, detached from the database for
    archive (``store/partitions.py``): the rows go on from it.
    """
    expected_seq, expected_prev = (1, GENESIS) if start is None else (start[0] + 1, start[1])
    for row_id, prev_hash, stored_hash, link in rows:
        if link.seq != expected_seq:
            return BrokenLink(chain, expected_seq, row_id, f"link {expected_seq} is missing")
        if prev_hash != expected_prev:
            return BrokenLink(chain, link.seq, row_id, "previous hash does not match")
        if link_hash(prev_hash, link) != stored_hash:
            return BrokenLink(chain, link.seq, row_id, "content does not match its hash")
        expected_prev = stored_hash
        expected_seq += 1
    last_seq = expected_seq - 1
    if head is None:
        if last_seq:
            return BrokenLink(chain, last_seq, None, "the chain's head record is missing")
        return None
    head_seq, head_hash = head
    if last_seq < head_seq:
        return BrokenLink(
            chain, expected_seq, None, f"links {expected_seq} to {head_seq} are missing (cut off)"
        )
    if last_seq > head_seq or expected_prev != head_hash:
        return BrokenLink(chain, last_seq, None, "the newest link does not match the chain head")
    return None
