"""The wire between gateways and writers (pure): partitions, dedup ids, the body."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envwatch.cluster.frames import (
    BadMessageError,
    decode_frame,
    encode_frame,
    message_id,
    partition_of,
    subject,
)
from envwatch.cluster.lease import fair_share
from envwatch.store.archive import MeasurementRow, MeterReading, ReceivedFrame
from tests.cluster.harness import upload

MN = "010000A8900016F000169999"


def frame(raw: bytes, **changes: object) -> ReceivedFrame:
    base = ReceivedFrame(
        received_at=datetime(2026, 12, 4, 11, 0, 0, 123456, tzinfo=UTC),
        peer="10.0.0.7:50123",
        raw=raw,
        verdict="accepted",
        warnings='[{"code": "x"}]',
        mn=MN,
        cn="2061",
        qn="20261129000000001",
        measurements=(
            MeasurementRow(MN, "2061", datetime(2026, 1, 1, 1), "a21026", avg=12.5, flag="N"),
            MeasurementRow(MN, "2061", datetime(2026, 1, 1, 1), "a19001", avg=None, min=-0.0),
        ),
        electricity=(MeterReading(3, datetime(2026, 1, 1, 1), 1.5, None, 2.0),),
        data_time=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_body_round_trips_every_field() -> None:
    _, raw = upload(MN, 1, "12.5")
    original = frame(raw)
    assert decode_frame(encode_frame(original)) == original
    rejected = frame(b"\x00\xffgarbage", verdict="rejected", error_code="bad_crc", mn=None,
                     cn=None, qn=None, measurements=(), electricity=(),
                     data_time=datetime(2026, 1, 1))  # fmt: skip
    assert decode_frame(encode_frame(rejected)) == rejected


@pytest.mark.parametrize(
    "data", [b"", b"not json", b"[]", b'{"t": "2026-01-01"}', b'{"t": 1, "p": 2}']
)
def test_anything_else_is_a_bad_message(data: bytes) -> None:
    with pytest.raises(BadMessageError):
        decode_frame(data)


def test_a_resend_has_the_same_id_another_frame_another() -> None:
    _, raw = upload(MN, 1, "12.5")
    first = frame(raw)
    # Received again, later, over another connection: the same frame.
    resent = replace(first, received_at=datetime.now(UTC), peer="10.0.0.8:1")
    assert message_id(resent) == message_id(first)
    _, other = upload(MN, 2, "12.5")
    assert message_id(frame(other)) != message_id(first)
    # The same bytes claimed by another device, or unattributed from two peers.
    assert message_id(replace(first, mn="x" * 24)) != message_id(first)
    garbage = frame(b"junk", mn=None)
    assert message_id(garbage) != message_id(replace(garbage, peer="10.0.0.9:1"))


@given(st.text(min_size=1, max_size=30), st.integers(min_value=1, max_value=64))
def test_partition_is_stable_and_in_range(mn: str, partitions: int) -> None:
    partition = partition_of(mn, partitions)
    assert 0 <= partition < partitions
    assert partition == partition_of(mn, partitions)
    assert subject(partition) == f"envwatch.frames.{partition}"


def test_partitions_spread_devices() -> None:
    mns = [f"010000A8900016F00016{n:04d}" for n in range(400)]
    counts = [sum(partition_of(mn, 8) == p for mn in mns) for p in range(8)]
    assert min(counts) > 20


@pytest.mark.parametrize(("partitions", "members", "share"), [(8, 1, 8), (8, 2, 4), (8, 3, 3),
                         (4, 8, 1), (8, 0, 8)])  # fmt: skip
def test_fair_share_covers_every_partition(partitions: int, members: int, share: int) -> None:
    assert fair_share(partitions, members) == share
    assert fair_share(partitions, members) * max(1, members) >= partitions
