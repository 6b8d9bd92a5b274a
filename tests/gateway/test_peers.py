"""What one peer may cost the gateway: budgets, connection slots, overload
episodes, runs of unframeable input (pure, clocks passed in)."""

from __future__ import annotations

import json
import resource
from datetime import UTC, datetime

from envwatch.gateway.admission import GARBAGE_RUN, Admission, admit, coalesced
from envwatch.gateway.peers import (
    Episodes,
    PeerBudget,
    PeerConnections,
    connection_limit,
    peer_address,
)
from envwatch.hj212 import DecodeOptions, Decoder
from tests.gateway.helpers import upload

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def test_a_peer_over_its_rejected_input_budget_is_refused_for_a_while() -> None:
    budget = PeerBudget(bytes_per_minute=1000, records_per_minute=10, ban_s=300)
    assert budget.charge("10.0.0.1", 600, 1, now=0.0)
    assert budget.charge("10.0.0.2", 900, 1, now=1.0)  # another peer has its own
    assert not budget.charge("10.0.0.1", 600, 1, now=2.0)
    assert budget.banned("10.0.0.1", now=3.0) and not budget.banned("10.0.0.2", now=3.0)
    assert not budget.banned("10.0.0.1", now=302.5)
    # A new minute, a new budget; records count as bytes do.
    assert budget.charge("10.0.0.2", 900, 1, now=61.0)
    assert not budget.charge("10.0.0.3", 10, 11, now=61.0)


def test_connections_per_peer_address() -> None:
    slots = PeerConnections(per_address=2)
    assert slots.open("a") and slots.open("a") and not slots.open("a")
    assert slots.open("b")
    slots.close("a")
    assert slots.open("a")
    assert peer_address("127.0.0.1:5000") == "127.0.0.1"
    assert peer_address("[::1]:5000") == "::1"


def test_an_overload_is_told_once_when_it_starts_and_once_when_it_ends() -> None:
    lines: list[str] = []
    episodes = Episodes(quiet_s=60, emit=lines.append)
    for second in range(100):
        episodes.occurred("refused_connections", "10.0.0.1", now=float(second))
    episodes.settle(now=120.0)  # quiet for 21 s: still going
    assert len(lines) == 1
    episodes.settle(now=160.0)
    assert lines == ["refused_connections started: 10.0.0.1",
                     "refused_connections ended: 100 times in 99 s"]  # fmt: skip


def admitted(data: bytes) -> list[Admission]:
    decoder = Decoder(DecodeOptions(lenient=True))
    items = decoder.feed(data) + decoder.close()
    return [admit(item, {}, peer="10.0.0.9:1", received_at=NOW) for item in items]


def test_a_run_of_unframeable_input_is_one_record_with_its_size_and_a_sample() -> None:
    flood = b"##0000\r\n" * 5000  # empty frames without a CRC: an error each
    admissions = admitted(flood)
    assert len(admissions) == 5000
    (record,) = [a.record for a in coalesced(admissions, sample_bytes=512)]
    assert record.verdict == "rejected" and len(record.raw) == 512
    (summary,) = json.loads(record.warnings)
    assert summary["code"] == GARBAGE_RUN and summary["bytes"] == len(flood)
    # Frames between runs stay records of their own, in order.
    mixed = admitted(b"xx" + upload("MN1", "20261129100000001") + b"##0000\r\n" * 3 + b"yy")
    kept = coalesced(mixed, sample_bytes=512)
    assert [a.record.error_code for a in kept] == ["garbage", "unknown_mn", "truncated"]
    assert json.loads(kept[2].record.warnings)[0]["pieces"] == 3


def test_connections_are_limited_to_what_descriptors_allow() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert connection_limit(10, reserve=64) == 10
    limit = connection_limit(10**9, reserve=64)
    soft_now, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft_now >= soft and limit == soft_now - 64
