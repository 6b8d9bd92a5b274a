"""Leases in PostgreSQL: who holds a partition, the alert desk, who is alive.

Times are the database's (``now()``), so the members' clocks never matter.
A lease is taken when free or expired and renewed by its holder; a holder that
dies loses it after its time to live. A lease alone fences nothing: the
writes it guards are also conditional (see ``cluster.writer``).
"""

from __future__ import annotations

from sqlalchemy import Engine, text

_ACQUIRE = text(
    "INSERT INTO cluster_lease (name, holder, expires_at) "
    "VALUES (:name, :holder, now() + make_interval(secs => :ttl)) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
    "WHERE cluster_lease.holder = excluded.holder OR cluster_lease.expires_at < now() "
    "RETURNING holder"
)


class Leases:
    def __init__(self, engine: Engine, holder: str, ttl_s: float) -> None:
        self.engine = engine
        self.holder = holder
        self.ttl_s = ttl_s

    def acquire(self, name: str) -> bool:
        """Take or renew ``name``; whether this holder has it now."""
        with self.engine.begin() as connection:
            row = connection.execute(
                _ACQUIRE, {"name": name, "holder": self.holder, "ttl": self.ttl_s}
            ).first()
        return row is not None

    def release(self, name: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                text("DELETE FROM cluster_lease WHERE name = :name AND holder = :holder"),
                {"name": name, "holder": self.holder},
            )

    def heartbeat(self, role: str) -> None:
        """This member of ``role`` is alive (for ``ttl_s``)."""
        self.acquire(member_lease(role, self.holder))

    def live_members(self, role: str) -> list[str]:
        return live_members(self.engine, role)


def member_lease(role: str, holder: str) -> str:
    return f"member:{role}:{holder}"[:64]


def live_members(engine: Engine, role: str) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT holder FROM cluster_lease WHERE name LIKE :prefix "
                    "AND expires_at > now() ORDER BY holder"
                ),
                {"prefix": f"member:{role}:%"},
            ).scalars()
        )


def all_leases(engine: Engine) -> list[tuple[str, str, float]]:
    """Every lease: name, holder, seconds left (negative: expired)."""
    with engine.connect() as connection:
        return [
            (name, holder, float(left))
            for name, holder, left in connection.execute(
                text(
                    "SELECT name, holder, extract(epoch FROM expires_at - now()) "
                    "FROM cluster_lease ORDER BY name"
                )
            )
        ]


def fair_share(partitions: int, members: int) -> int:
    """Partitions each of ``members`` should hold at most (all covered)."""
    return -(-partitions // max(1, members))
