"""The standard's own examples: decoded as stated, re-encoded byte for byte,
answered exactly; each run whole, byte by byte and inside garbage."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from envwatch.hj212 import (
    DecodeOptions,
    Packet,
    SegmentAssembler,
    crc_text,
    decode_frame,
    device_replies,
    encode_packet,
    execution_result,
    platform_replies,
)
from envwatch.hj212.codes import ExeRtn
from envwatch.hj212.segment import encode_segment
from tests.hj212.conftest import (
    EXAMPLES,
    MALFORMED,
    THREE_WAYS,
    WELL_FORMED,
    Example,
    Item,
    only_error,
    only_frame,
)

STRICT = DecodeOptions()
LENIENT = DecodeOptions(lenient=True)
Way = Callable[[bytes, DecodeOptions], list[Item]]


def example_id(example: Example) -> str:
    return example.table + ("-" + example.frame[-8:-6].decode() if example.table == "C.1" else "")


def test_the_examples_file_is_complete() -> None:
    assert len(EXAMPLES) == 23
    assert len(MALFORMED) == 3


@pytest.mark.parametrize("way", THREE_WAYS)
@pytest.mark.parametrize("options", [STRICT, LENIENT], ids=["strict", "lenient"])
@pytest.mark.parametrize("example", WELL_FORMED, ids=example_id)
def test_well_formed_example_decodes_and_reencodes(
    example: Example, options: DecodeOptions, way: Way
) -> None:
    decoded = only_frame(way(example.frame, options))
    assert decoded.warnings == ()
    assert decoded.frame.raw == example.frame
    assert decoded.frame.crc == example.frame[-6:-2].decode()
    assert encode_packet(decoded.packet) == example.frame


@pytest.mark.parametrize("example", WELL_FORMED, ids=example_id)
def test_declared_length_and_crc_are_over_utf8_bytes(example: Example) -> None:
    segment = example.frame[6:-6]
    assert int(example.frame[2:6]) == len(segment)
    assert crc_text(segment) == example.frame[-6:-2].decode()


def test_appendix_a_fields() -> None:
    example = EXAMPLES[0]
    expected = example.expected
    decoded = decode_frame(example.frame)
    packet = decoded.packet
    fields = expected["fields"]
    assert (packet.qn, packet.st, packet.cn, packet.pw, packet.mn, packet.flag) == (
        fields["QN"],
        fields["ST"],
        fields["CN"],
        fields["PW"],
        fields["MN"],
        fields["Flag"],
    )
    assert packet.cp_fields() == fields["CP"]
    assert decoded.frame.crc == expected["crc"]
    assert len(decoded.frame.segment) == expected["data_segment_length"]


@pytest.mark.parametrize("example", [e for e in EXAMPLES if "fields" in e.expected], ids=example_id)
def test_stated_fields(example: Example) -> None:
    packet = decode_frame(example.frame).packet
    fields = example.expected["fields"]
    for name, attribute in [("ST", "st"), ("CN", "cn"), ("Flag", "flag"), ("QN", "qn")]:
        if name in fields:
            assert getattr(packet, attribute) == fields[name]
    assert packet.cp_fields() == fields["CP"]


def test_real_time_upload_c14_keeps_every_item_and_the_typo_key() -> None:
    example = next(e for e in EXAMPLES if e.table == "C.14")
    packet = decode_frame(example.frame).packet
    assert packet.cp_fields() == {"DataTime": "20160801085857"}
    assert packet.factors() == {
        "w01001": {"Rtd": "7.1", "Flag": "N"},
        "w01018": {"SampleTime": "20160801070000", "Flag": "N", "EFlag": "A01"},
        # The standard prints "01018-Rtd" (missing 'w'); it is kept as sent.
        "01018": {"Rtd": "2.2"},
    }


def test_log_text_c40_is_utf8_and_kept_whole() -> None:
    example = next(e for e in EXAMPLES if e.table == "C.40")
    decoded = decode_frame(example.frame)
    assert int(example.frame[2:6]) == 152
    assert decoded.packet.factors()["i11001"] == {"Info": "//清洗管路//"}
    # What implementations counting UTF-16 characters would have produced.
    assert example.expected["length_if_utf16_chars"] == len(decoded.frame.segment.decode())


@pytest.mark.parametrize(
    ("table", "code", "warning", "check"),
    [
        ("C.19", "bad_field", "missing_separator", ("flag", "5")),
        ("C.22", "bad_field", "comma_separator", ("st", "32")),
        ("C.42", "bad_cp", "whitespace", ("cn", "3020")),
    ],
)
@pytest.mark.parametrize("way", THREE_WAYS)
def test_malformed_examples_strict_rejects_lenient_keeps(
    table: str, code: str, warning: str, check: tuple[str, str], way: Way
) -> None:
    example = next(e for e in MALFORMED if e.table == table)
    error = only_error(way(example.frame, STRICT))
    assert error.code == code
    assert error.raw == example.frame
    decoded = only_frame(way(example.frame, LENIENT))
    assert [w.code.value for w in decoded.warnings] == [warning]
    attribute, value = check
    assert getattr(decoded.packet, attribute) == value
    # Re-encoding writes the standard's form, which strict mode accepts.
    assert decode_frame(encode_packet(decoded.packet)).packet == decoded.packet


def test_malformed_examples_read_as_intended() -> None:
    by_table = {e.table: decode_frame(e.frame, LENIENT).packet for e in MALFORMED}
    assert by_table["C.19"].cp_fields() == {"DataTime": "20160801000000"}
    assert by_table["C.19"].factors() == {"SB1": {"RT": "1.1"}, "SB2": {"RT": "2.1"}}
    assert by_table["C.22"].qn == "20160801085857534"
    assert by_table["C.42"].factors() == {"i12001": {"Info": "1"}, "i12003": {"Info": "0"}}


# -- replies -----------------------------------------------------------------

REPLY_EXAMPLES = [e for e in EXAMPLES if "response_frame_computed" in e.expected]


@pytest.mark.parametrize("example", REPLY_EXAMPLES, ids=example_id)
def test_the_listed_reply_is_produced_exactly(example: Example) -> None:
    packet = decode_frame(example.frame).packet
    expected = example.expected["response_frame_computed"].encode()
    segment = example.expected["response_segment_in_standard"].encode()
    assert expected[6:-6] == segment
    cn = packet.cn
    # 1000 and 3011 are platform requests and 2012 a platform notification:
    # the field device answers them. Everything else is an upload we answer.
    replies = device_replies(packet) if cn in {"1000", "3011", "2012"} else platform_replies(packet)
    assert [encode_packet(reply) for reply in replies] == [expected]


def test_execution_result_of_c1() -> None:
    example = next(e for e in EXAMPLES if e.table == "C.1" and b"CN=1000" in e.frame)
    result = execution_result(decode_frame(example.frame).packet, ExeRtn.SUCCESS)
    assert (
        encode_segment(result) == example.expected["execution_result_segment_in_standard"].encode()
    )


@pytest.mark.parametrize(
    "example",
    [e for e in EXAMPLES if e.table in {"C.5", "C.49"} or b"CN=901" in e.frame],
    ids=example_id,
)
def test_nothing_is_answered_without_the_a_bit_or_for_answers(example: Example) -> None:
    packet = decode_frame(example.frame).packet
    assert packet.cn in {"9011", "9012"} or not packet.wants_answer
    assert platform_replies(packet) == []
    assert device_replies(packet) == []


def test_history_request_c20_is_not_acknowledged_as_data() -> None:
    example = next(e for e in EXAMPLES if e.table == "C.20")
    packet = decode_frame(example.frame).packet
    assert platform_replies(packet) == []
    assert [r.cn for r in device_replies(packet)] == ["9011"]


# -- segmented uploads ---------------------------------------------------------


def _segments(table: str) -> list[Packet]:
    return [decode_frame(e.frame).packet for e in EXAMPLES if e.table == table]


@pytest.mark.parametrize("table", ["C.49", "C.50"])
@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["in-order", "reversed"])
def test_segmented_examples_reassemble_in_any_order(table: str, order: tuple[int, int]) -> None:
    segments = _segments(table)
    assembler = SegmentAssembler(timeout=60)
    first, second = (segments[i] for i in order)
    assert assembler.add(first, now=0.0) is None
    whole = assembler.add(second, now=1.0)
    assert whole is not None
    assert assembler.pending == 0
    assert whole.segment_qns == ("20160801085857534", "20160801085857535")
    merged = whole.packet
    assert merged.pnum is None and merged.pno is None
    assert merged.flag == ("4" if table == "C.49" else "5")
    assert merged.qn == "20160801085857534"
    assert merged.cp_fields() == {"DataTime": "20160801080000"}
    assert list(merged.factors()) == ["w00000", "w01001", "w01018"]
    assert merged.factors()["w01018"]["Avg"] == "40.1"


def test_each_acknowledged_segment_gets_its_own_9014() -> None:
    replies = [platform_replies(packet) for packet in _segments("C.50")]
    assert [[r.qn for r in rs] for rs in replies] == [
        ["20160801085857534"],
        ["20160801085857535"],
    ]
    assert all(r.flag == "4" and r.cn == "9014" and r.st == "91" for rs in replies for r in rs)
