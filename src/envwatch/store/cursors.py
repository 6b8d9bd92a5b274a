"""How far each follower of the store got (``processing_cursor``): the rules
through the archive, the alert desk through the findings, the quality days
and the emissions table through the archive. One row per follower, by name."""

from __future__ import annotations

from sqlalchemy import Connection, select

from envwatch.store.db import dialect_insert
from envwatch.store.schema import ProcessingCursor


def read_cursor(connection: Connection, name: str) -> int:
    """The last id the follower ``name`` took (0 before its first pass)."""
    value = connection.execute(
        select(ProcessingCursor.last_frame_id).where(ProcessingCursor.name == name)
    ).scalar()
    return int(value or 0)


def save_cursor(connection: Connection, name: str, last: int) -> None:
    """Record ``last`` as the follower's position (in the caller's transaction)."""
    upsert = dialect_insert(connection, ProcessingCursor).values(name=name, last_frame_id=last)
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=[ProcessingCursor.name], set_={"last_frame_id": last}
        )
    )
