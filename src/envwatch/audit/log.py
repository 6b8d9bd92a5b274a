"""Appending to and verifying the audit log.

Each entry is a link of the chain "audit": ``hash = SHA-256(prev_hash ||
fields)`` with the archive's link encoding (``store/hashchain.py``); the
newest link is also kept in ``chain_head``, in the same transaction. Editing,
deleting or reordering entries breaks the chain where it happened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text, update

from envwatch.store.hashchain import AUDIT_CHAIN, GENESIS, canonical_time, chained_hash
from envwatch.store.schema import AuditEntry, ChainHead


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, in what role, from where (an IP address, or "cli@host")."""

    name: str
    role: str
    peer: str


SYSTEM = Actor("envwatch", "system", "envwatch")


def canonical(value: Mapping[str, Any] | None) -> str:
    """Stable JSON (sorted keys, no spaces; times as ISO text) of a before/after record."""
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=_plain)  # fmt: skip


def _plain(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def entry_hash(prev_hash: str, seq: int, entry: Mapping[str, Any]) -> str:
    return chained_hash(
        prev_hash,
        (
            str(seq),
            canonical_time(entry["at"]),
            entry["actor"],
            entry["role"],
            entry["peer"],
            entry["action"],
            entry["entity"],
            entry["entity_id"],
            entry["before"],
            entry["after"],
        ),
    )


def record(
    connection: Connection,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append an entry in the caller's transaction; its sequence number. On
    PostgreSQL the log is locked until the commit, so entries chain in order."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
    else:
        # SQLite: take the database's write lock before reading the head (a
        # write that changes nothing takes it), so appends chain one at a time.
        connection.execute(
            update(ChainHead).where(ChainHead.chain == AUDIT_CHAIN).values(seq=ChainHead.seq)
        )
    head = connection.execute(
        select(ChainHead.seq, ChainHead.hash).where(ChainHead.chain == AUDIT_CHAIN)
    ).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS)
    entry = {
        "at": at or datetime.now(UTC),
        "actor": actor.name,
        "role": actor.role,
        "peer": actor.peer,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": canonical(before),
        "after": canonical(after),
    }
    digest = entry_hash(prev_hash, seq, entry)
    connection.execute(
        insert(AuditEntry).values(seq=seq, prev_hash=prev_hash, hash=digest, **entry)
    )
    if head:
        connection.execute(
            update(ChainHead).where(ChainHead.chain == AUDIT_CHAIN).values(seq=seq, hash=digest)
        )
    else:
        connection.execute(insert(ChainHead).values(chain=AUDIT_CHAIN, seq=seq, hash=digest))
    return seq


@dataclass(frozen=True, slots=True)
class AuditBreak:
    seq: int
    entry_id: int | None
    reason: str


def verify(connection: Connection) -> AuditBreak | None:
    """The first place the audit chain is broken (None: intact)."""
    prev_hash, expected_seq = GENESIS, 1
    last_id: int | None = None
    for row in connection.execute(select(AuditEntry).order_by(AuditEntry.seq)):
        if row.seq != expected_seq:
            return AuditBreak(expected_seq, row.id, f"entry {expected_seq} is missing")
        if row.prev_hash != prev_hash:
            return AuditBreak(row.seq, row.id, "does not follow the entry before it")
        entry = {key: getattr(row, key) for key in
                 ("at", "actor", "role", "peer", "action", "entity", "entity_id", "before",
                  "after")}  # fmt: skip
        if entry_hash(prev_hash, row.seq, entry) != row.hash:
            return AuditBreak(row.seq, row.id, "its content was changed")
        prev_hash, expected_seq, last_id = row.hash, expected_seq + 1, row.id
    head = connection.execute(
        select(ChainHead.seq, ChainHead.hash).where(ChainHead.chain == AUDIT_CHAIN)
    ).first()
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, prev_hash):
        return AuditBreak(head.seq, last_id, "entries after the last one are gone")
    if head is None and expected_seq > 1:
        return AuditBreak(expected_seq - 1, last_id, "the chain head is gone")
    return None
