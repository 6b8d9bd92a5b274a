"""What one peer may cost the gateway (pure: clocks are passed in).

* ``PeerBudget``: rejected bytes and rejected records per peer address per
  minute; a peer over either is disconnected and refused for a while, so the
  disk cost of unauthenticated input is bounded by a constant per peer per
  minute.
* ``PeerConnections``: open connections per peer address, against a limit.
* ``Episodes``: one log line when an overload starts and one when it ends, not
  one per refused connection or failed accept.
* ``connection_limit``: how many connections the process's descriptor limit
  leaves room for, beside the web side and the database.
"""

from __future__ import annotations

import resource
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


def peer_address(peer: str) -> str:
    """The address part of ``host:port`` (``[v6]:port`` too): budgets are per address."""
    host, _, _ = peer.rpartition(":")
    return host.strip("[]") or peer


@dataclass(slots=True)
class _Spend:
    window_start: float
    bytes: int = 0
    records: int = 0


@dataclass(slots=True)
class PeerBudget:
    """Rejected bytes and records per peer address in each minute's window."""

    bytes_per_minute: int
    records_per_minute: int
    ban_s: float
    _spent: dict[str, _Spend] = field(default_factory=dict)
    _banned_until: dict[str, float] = field(default_factory=dict)

    def banned(self, address: str, now: float) -> bool:
        until = self._banned_until.get(address)
        if until is None:
            return False
        if now >= until:
            del self._banned_until[address]
            return False
        return True

    def charge(self, address: str, rejected_bytes: int, records: int, now: float) -> bool:
        """Count what the peer's rejected input cost; False: over budget, now banned."""
        spend = self._spent.get(address)
        if spend is None or now - spend.window_start >= 60.0:
            spend = self._spent[address] = _Spend(now)
        spend.bytes += rejected_bytes
        spend.records += records
        if spend.bytes > self.bytes_per_minute or spend.records > self.records_per_minute:
            self._banned_until[address] = now + self.ban_s
            del self._spent[address]
            return False
        return True

    def forget_idle(self, now: float) -> None:
        """Drop windows that ended (a long-running gateway sees many peers)."""
        for address in [a for a, s in self._spent.items() if now - s.window_start >= 60.0]:
            del self._spent[address]
        for address in [a for a, until in self._banned_until.items() if now >= until]:
            del self._banned_until[address]


@dataclass(slots=True)
class PeerConnections:
    """Open connections by peer address."""

    per_address: int
    _open: Counter[str] = field(default_factory=Counter)

    def open(self, address: str) -> bool:
        """Take a slot for ``address``; False: it has its limit open already."""
        if self._open[address] >= self.per_address:
            return False
        self._open[address] += 1
        return True

    def close(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]


@dataclass(slots=True)
class _Episode:
    started: float
    last: float
    count: int = 1


@dataclass(slots=True)
class Episodes:
    """Occurrences of a kind of overload, reported once per episode: an episode
    ends after ``quiet_s`` without an occurrence."""

    quiet_s: float
    emit: Callable[[str], None]
    _open: dict[str, _Episode] = field(default_factory=dict)

    def occurred(self, kind: str, detail: str, now: float) -> None:
        self.settle(now)
        episode = self._open.get(kind)
        if episode is None:
            self._open[kind] = _Episode(now, now)
            self.emit(f"{kind} started: {detail}")
        else:
            episode.last = now
            episode.count += 1

    def settle(self, now: float) -> None:
        """Report the episodes that have been quiet long enough as ended."""
        for kind, episode in list(self._open.items()):
            if now - episode.last >= self.quiet_s:
                del self._open[kind]
                self.emit(
                    f"{kind} ended: {episode.count} times in {episode.last - episode.started:.0f} s"
                )


def connection_limit(configured: int, reserve: int) -> int:
    """The logger connections this process can hold: ``configured``, or what its
    descriptor limit leaves after ``reserve`` (web, database, files), raising
    the soft limit to the hard one first where that allows more."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = configured + reserve
        target = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
        if target > soft:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
                soft = target
            except (ValueError, OSError):
                pass
    return max(1, min(configured, soft - reserve))
