"""Frames as real loggers send them (constructed for these tests, with right
length and CRC): each decodes in lenient mode, its oddities kept as coded
warnings and its header and data read as meant; strict mode rejects each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envwatch.gateway.admission import measurements_of
from envwatch.hj212 import (
    DecodeOptions,
    ProtocolError,
    ProtocolVersion,
    decode_frame,
    frame_segment,
)
from tests.hj212.conftest import THREE_WAYS, feed_whole, only_frame

FIELD_FRAMES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "field-frames.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
]
LENIENT = DecodeOptions(lenient=True)


def frame_id(record: dict[str, Any]) -> str:
    return f"{record['class']}:{record['notes'][:40]}"


@pytest.mark.parametrize("record", FIELD_FRAMES, ids=frame_id)
@pytest.mark.parametrize("way", THREE_WAYS)
def test_lenient_reads_the_frame_as_meant(record: dict[str, Any], way: object) -> None:
    assert callable(way)
    decoded = only_frame(way(record["packet"].encode("utf-8"), LENIENT))
    assert sorted({w.code.value for w in decoded.warnings}) == sorted(record["warnings"])
    packet = decoded.packet
    assert {"MN": packet.mn, "CN": packet.cn, "Flag": packet.flag} == record["header"]
    assert packet.factors() == record["factors"]
    assert not packet.segmented


@pytest.mark.parametrize("record", FIELD_FRAMES, ids=frame_id)
def test_strict_rejects_the_frame(record: dict[str, Any]) -> None:
    items = feed_whole(record["packet"].encode("utf-8"), DecodeOptions())
    assert len(items) == 1
    assert isinstance(items[0], ProtocolError)


def test_every_field_class_has_a_frame() -> None:
    assert {r["class"] for r in FIELD_FRAMES} == {
        "fields_after_cp",
        "segment_flag_without_numbers",
        "dashed_factor_code",
    }


def test_dashed_vendor_codes_become_measurements_of_their_own() -> None:
    record = next(r for r in FIELD_FRAMES if r["class"] == "dashed_factor_code")
    packet = decode_frame(record["packet"].encode("utf-8"), LENIENT).packet
    rows = measurements_of(packet, ProtocolVersion.HJ212_2017)
    assert {(row.pollutant, row.avg, row.flag) for row in rows} == {
        ("a34004-1", 1.52, "N"),
        ("a34004-2", 1.61, "N"),
        ("a01012", 45.0, "N"),
    }


def test_what_follows_the_cp_area_must_be_header_fields() -> None:
    # Trailing text that is not header fields stays an error in every mode.
    segment = (
        b"QN=20261201083000123;ST=31;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
        b"CP=&&DataTime=20261201080000;a21026-Avg=35.2&&;a21026-Flag=N"
    )
    items = feed_whole(frame_segment(segment), LENIENT)
    assert isinstance(items[0], ProtocolError)
    assert items[0].code == "bad_cp"
