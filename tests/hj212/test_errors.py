"""Every rejection code, each shown not to harm the frame that follows."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from envwatch.hj212 import (
    DecodedFrame,
    DecodeOptions,
    Decoder,
    ErrorCode,
    Packet,
    ProtocolError,
    SegmentAssembler,
    decode_frame,
    frame_segment,
)
from tests.hj212.conftest import THREE_WAYS, Item, feed_bytewise, feed_whole

STRICT = DecodeOptions()
LENIENT = DecodeOptions(lenient=True)

HEADER = b"QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
SEGMENT = HEADER + b"CP=&&DataTime=20160801085857;w01018-Rtd=2.2,w01018-Flag=N&&"
GOOD = frame_segment(SEGMENT)


def frame_with(cp: bytes, header: bytes = HEADER) -> bytes:
    return frame_segment(header + b"CP=&&" + cp + b"&&")


def with_length(frame: bytes, declared: int) -> bytes:
    return b"##%04d" % declared + frame[6:]


# (id, bytes, options, expected code)
CASES: list[tuple[str, bytes, DecodeOptions, ErrorCode]] = [
    ("garbage", b"hello \x00\xff", STRICT, ErrorCode.GARBAGE),
    ("bad_header", b"##01a1" + SEGMENT + b"0000\r\n", STRICT, ErrorCode.BAD_HEADER),
    ("bad_length-short", with_length(GOOD, len(SEGMENT) - 3), STRICT, ErrorCode.BAD_LENGTH),
    ("bad_length-long", with_length(GOOD, len(SEGMENT) + 2), STRICT, ErrorCode.BAD_LENGTH),
    ("crc_mismatch", GOOD[:-6] + b"FFFF\r\n", STRICT, ErrorCode.CRC_MISMATCH),
    ("crc_mismatch-lenient", GOOD[:-6] + b"FFFF\r\n", LENIENT, ErrorCode.CRC_MISMATCH),
    ("bad_trailer-lf", GOOD[:-2] + b"\n", STRICT, ErrorCode.BAD_TRAILER),
    ("bad_trailer-not-hex", GOOD[:-6] + b"XYZW\r\n", STRICT, ErrorCode.BAD_TRAILER),
    (
        "frame_too_long-strict",
        frame_with(b"DataTime=20160801085857;i11001-Info=//" + b"x" * 1000 + b"//"),
        STRICT,
        ErrorCode.FRAME_TOO_LONG,
    ),
    (
        "frame_too_long-lenient",
        frame_with(b"DataTime=20160801085857;i11001-Info=//" + b"x" * 5000 + b"//"),
        LENIENT,
        ErrorCode.FRAME_TOO_LONG,
    ),
    ("truncated", GOOD[:50], STRICT, ErrorCode.TRUNCATED),
    ("truncated-lenient", GOOD[:50], LENIENT, ErrorCode.TRUNCATED),
    (
        "bad_encoding",
        frame_with(b"DataTime=20160801085857;i11001-Info=//\xff\xfe//"),
        STRICT,
        ErrorCode.BAD_ENCODING,
    ),
    (
        "bad_encoding-lenient",
        frame_with(b"DataTime=20160801085857;i11001-Info=//\xff\xfe//"),
        LENIENT,
        ErrorCode.BAD_ENCODING,
    ),
    (
        "bad_field-qn",
        frame_segment(SEGMENT.replace(b"QN=20160801085857223", b"QN=2016080108585722")),
        STRICT,
        ErrorCode.BAD_FIELD,
    ),
    (
        "bad_field-flag",
        frame_segment(SEGMENT.replace(b"Flag=5", b"Flag=x5")),
        LENIENT,
        ErrorCode.BAD_FIELD,
    ),
    (
        "bad_field-flag-range",
        frame_segment(SEGMENT.replace(b"Flag=5", b"Flag=256")),
        LENIENT,
        ErrorCode.BAD_FIELD,
    ),
    (
        "bad_field-pno",
        frame_segment(SEGMENT.replace(b"Flag=5;", b"Flag=7;PNUM=2;PNO=3;")),
        LENIENT,
        ErrorCode.BAD_FIELD,
    ),
    (
        "bad_field-cn",
        frame_segment(SEGMENT.replace(b"CN=2011", b"CN=20a1")),
        LENIENT,
        ErrorCode.BAD_FIELD,
    ),
    (
        "bad_field-mn",
        frame_segment(SEGMENT.replace(b"MN=010000A8900016F000169DC0", b"MN=01 00")),
        LENIENT,
        ErrorCode.BAD_FIELD,
    ),
    (
        "missing_field-cn",
        frame_segment(SEGMENT.replace(b"CN=2011;", b"")),
        LENIENT,
        ErrorCode.MISSING_FIELD,
    ),
    (
        "missing_field-mn",
        frame_segment(SEGMENT.replace(b"MN=010000A8900016F000169DC0;", b"")),
        LENIENT,
        ErrorCode.MISSING_FIELD,
    ),
    (
        "missing_field-qn",
        frame_segment(SEGMENT.replace(b"QN=20160801085857223;", b"")),
        STRICT,
        ErrorCode.MISSING_FIELD,
    ),
    (
        "missing_field-cp",
        frame_segment(HEADER.rstrip(b";")),
        LENIENT,
        ErrorCode.MISSING_FIELD,
    ),
    (
        "missing_field-pnum",
        frame_segment(SEGMENT.replace(b"Flag=5;", b"Flag=7;PNO=1;")),
        LENIENT,
        ErrorCode.MISSING_FIELD,
    ),
    (
        "bad_cp-number",
        frame_with(b"DataTime=20160801085857;w01018-Rtd=2,2x"),
        STRICT,
        ErrorCode.BAD_CP,
    ),
    ("bad_cp-time", frame_with(b"DataTime=20161301085857"), STRICT, ErrorCode.BAD_CP),
    ("bad_cp-item", frame_with(b"DataTime=20160801085857;w01018"), STRICT, ErrorCode.BAD_CP),
    (
        "bad_cp-unclosed",
        frame_segment(HEADER + b"CP=&&DataTime=20160801085857"),
        LENIENT,
        ErrorCode.BAD_CP,
    ),
]


@pytest.mark.parametrize(
    ("data", "options", "code"),
    [pytest.param(data, options, code, id=name) for name, data, options, code in CASES],
)
@pytest.mark.parametrize("feed", [feed_whole, feed_bytewise])
def test_rejected_with_its_code_and_the_next_frame_survives(
    data: bytes,
    options: DecodeOptions,
    code: ErrorCode,
    feed: Callable[[bytes, DecodeOptions], list[Item]],
) -> None:
    alone = feed(data, options)
    assert all(isinstance(item, ProtocolError) for item in alone)
    errors = [item for item in alone if isinstance(item, ProtocolError)]
    assert errors[0].code == code
    # Every byte is accounted for exactly once, in order.
    assert b"".join(error.raw for error in errors) == data
    *before, good = feed(data + GOOD, options)
    errors = [item for item in before if isinstance(item, ProtocolError)]
    assert len(errors) == len(before)
    assert errors[0].code == code
    assert b"".join(error.raw for error in errors) == data
    assert isinstance(good, DecodedFrame)
    assert good.frame.raw == GOOD


@pytest.mark.parametrize(
    ("data", "options", "code"),
    [pytest.param(data, options, code, id=name) for name, data, options, code in CASES],
)
def test_chunking_does_not_change_the_verdict(
    data: bytes, options: DecodeOptions, code: ErrorCode
) -> None:
    def verdict(items: list[Item]) -> list[tuple[str, bytes]]:
        return [
            (item.code, item.raw) if isinstance(item, ProtocolError) else ("frame", item.frame.raw)
            for item in items
        ]

    stream = GOOD + data + GOOD
    assert verdict(feed_whole(stream, options)) == verdict(feed_bytewise(stream, options))


@pytest.mark.parametrize(
    ("data", "options", "code"),
    [pytest.param(data, options, code, id=name) for name, data, options, code in CASES],
)
def test_errors_say_what_is_wrong_in_english_and_chinese(
    data: bytes, options: DecodeOptions, code: ErrorCode
) -> None:
    error = feed_whole(data, options)[0]
    assert isinstance(error, ProtocolError)
    assert error.code == code.value
    assert error.message_en.startswith(error.message_en.split(":")[0])
    assert ":" in error.message_en, "the message names the detail"
    assert any("\u4e00" <= char <= "\u9fff" for char in error.message_zh)
    assert error.message("zh-CN") == error.message_zh


def test_every_error_code_has_a_case() -> None:
    covered = {code for _, _, _, code in CASES} | {
        ErrorCode.SEGMENT_TIMEOUT,  # test_segment_timeout below
        ErrorCode.SEGMENT_CONFLICT,  # test_segment_conflict below
    }
    assert covered == set(ErrorCode)


def test_buffer_cap_drops_an_endless_frame() -> None:
    options = DecodeOptions(lenient=True, max_segment_length=1024, max_buffer=2048)
    # A plausible header whose frame never ends: the reader must not hold it forever.
    endless = b"##0100" + b"QN=1;" * 1000
    decoder = Decoder(options)
    codes = []
    for offset in range(0, len(endless), 100):
        codes += [
            item.code
            for item in decoder.feed(endless[offset : offset + 100])
            if isinstance(item, ProtocolError)
        ]
        assert decoder.buffered <= options.max_buffer
    assert codes[0] == "frame_too_long"
    assert set(codes) <= {"frame_too_long", "garbage"}


def test_lenient_overlong_declared_length_is_rejected() -> None:
    data = b"##9999" + SEGMENT + b"\r\n"
    (too_long,) = feed_whole(data, LENIENT)
    # Consumed whole, up to its real end: one rejection.
    assert isinstance(too_long, ProtocolError) and too_long.code == "frame_too_long"
    assert too_long.raw == data


@pytest.mark.parametrize("way", THREE_WAYS)
def test_a_frame_declared_too_long_is_one_rejection_whatever_it_holds(way: object) -> None:
    assert callable(way)
    inside = b"##" * 600  # a '##' every other byte: not an error each
    oversized = frame_segment(HEADER + b"CP=&&i11001-Info=//" + inside + b"//&&")
    assert len(oversized) > 1024 + 12
    for options in (DecodeOptions(), DecodeOptions(lenient=True, max_segment_length=1024)):
        items = way(oversized + GOOD, options)
        rejected = [i for i in items if isinstance(i, ProtocolError)]
        assert [i.code for i in rejected] == ["frame_too_long"], [i.code for i in rejected]
        assert b"".join(i.raw for i in rejected) == oversized
        assert [i.frame.raw for i in items if isinstance(i, DecodedFrame)] == [GOOD]
    # Cut short by a good frame: that frame is kept.
    items = feed_whole(oversized[:700] + GOOD, DecodeOptions())
    assert [type(i) for i in items] == [ProtocolError, DecodedFrame]


def test_decode_frame_raises_for_two_frames() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_frame(GOOD + GOOD)
    assert caught.value.code == "garbage"


def _segment(pno: int, cp: bytes) -> Packet:
    header = HEADER.replace(b"Flag=5;", b"Flag=7;PNUM=3;PNO=%d;" % pno)
    return decode_frame(frame_segment(header + b"CP=&&" + cp + b"&&")).packet


def test_segment_timeout() -> None:
    assembler = SegmentAssembler(timeout=30)
    assert assembler.add(_segment(1, b"DataTime=20160801085857;a-Rtd=1"), now=100.0) is None
    assert assembler.add(_segment(3, b"DataTime=20160801085857;c-Rtd=3"), now=110.0) is None
    assert assembler.expire(now=129.9) == []
    (error,) = assembler.expire(now=130.0)
    assert error.code == "segment_timeout"
    assert "[2]" in error.message_en
    assert assembler.pending == 0
    # A late segment starts a new set rather than completing the expired one.
    assert assembler.add(_segment(2, b"DataTime=20160801085857;b-Rtd=2"), now=131.0) is None


def test_segment_conflict() -> None:
    assembler = SegmentAssembler()
    assembler.add(_segment(1, b"DataTime=20160801085857;a-Rtd=1"), now=0.0)
    # The same segment resent is harmless ...
    assert assembler.add(_segment(1, b"DataTime=20160801085857;a-Rtd=1"), now=1.0) is None
    # ... a different one under the same number is not.
    with pytest.raises(ProtocolError) as caught:
        assembler.add(_segment(1, b"DataTime=20160801085857;a-Rtd=9"), now=2.0)
    assert caught.value.code == "segment_conflict"


def test_segments_of_different_hours_do_not_mix() -> None:
    assembler = SegmentAssembler()
    assert assembler.add(_segment(1, b"DataTime=20160801080000;a-Rtd=1"), now=0.0) is None
    assert assembler.add(_segment(2, b"DataTime=20160801090000;b-Rtd=2"), now=0.0) is None
    assert assembler.add(_segment(3, b"DataTime=20160801080000;c-Rtd=3"), now=0.0) is None
    assert assembler.pending == 2
    whole = assembler.add(_segment(2, b"DataTime=20160801080000;b-Rtd=5"), now=0.0)
    assert whole is not None
    assert whole.packet.factors() == {"a": {"Rtd": "1"}, "b": {"Rtd": "5"}, "c": {"Rtd": "3"}}
