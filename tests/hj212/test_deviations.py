"""Known deviations of real loggers: kept with a coded warning in lenient mode,
rejected in strict mode; facts of extensible tables reported in both modes."""

from __future__ import annotations

import pytest

from envwatch.hj212 import (
    DecodedFrame,
    DecodeOptions,
    DeviationCode,
    ProtocolError,
    ProtocolVersion,
    decode_frame,
    frame_segment,
)
from tests.hj212.conftest import THREE_WAYS, Item, feed_bytewise, feed_whole, only_frame

STRICT = DecodeOptions()
LENIENT = DecodeOptions(lenient=True)

HEADER = b"QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
CP = b"CP=&&DataTime=20160801085857;w01018-Rtd=2.2,w01018-Flag=N&&"
SEGMENT = HEADER + CP
GOOD = frame_segment(SEGMENT)


def framed(segment: bytes) -> bytes:
    return frame_segment(segment)


def replaced(old: bytes, new: bytes) -> bytes:
    assert old in SEGMENT
    return framed(SEGMENT.replace(old, new))


def with_cp(cp: bytes) -> bytes:
    return framed(HEADER + b"CP=&&" + cp + b"&&")


# Deviations tolerated only in lenient mode: (code, frame bytes).
LENIENT_ONLY: list[tuple[DeviationCode, bytes]] = [
    (DeviationCode.LENGTH_MISMATCH, b"##0137" + GOOD[6:]),
    (DeviationCode.BAD_TERMINATOR, GOOD[:-2] + b"\n"),
    (
        DeviationCode.OVERSIZE_SEGMENT,
        with_cp(b"DataTime=20160801085857;i11001-Info=//" + b"x" * 1000 + b"//"),
    ),
    (
        DeviationCode.GBK_TEXT,
        with_cp(b"DataTime=20160801085857;i11001-Info=//" + "清洗管路".encode("gbk") + b"//"),
    ),
    (DeviationCode.MISSING_FIELD, replaced(b"QN=20160801085857223;", b"")),
    (DeviationCode.UNKNOWN_FIELD, replaced(b"Flag=5;", b"Flag=5;XX=1;")),
    (DeviationCode.FIELD_NAME_CASE, replaced(b"Flag=5", b"FLAG=5")),
    (DeviationCode.DUPLICATE_FIELD, replaced(b"ST=32;", b"ST=32;ST=32;")),
    (DeviationCode.STRAY_SEPARATOR, replaced(b"ST=32;", b"ST=32;;")),
    (DeviationCode.MISSING_SEPARATOR, replaced(b"Flag=5;CP", b"Flag=5CP")),
    (DeviationCode.COMMA_SEPARATOR, replaced(b"223;ST", b"223,ST")),
    (DeviationCode.WHITESPACE, replaced(b"w01018-Rtd=2.2", b"w01018-Rtd = 2.2")),
    (DeviationCode.BAD_HEADER_VALUE, replaced(b"PW=123456", b"PW=")),
    (DeviationCode.PNO_WITHOUT_FLAG, replaced(b"Flag=5;", b"Flag=5;PNUM=0002;PNO=0002;")),
    (
        DeviationCode.DUPLICATE_KEY,
        with_cp(b"DataTime=20160801085857;w01018-Rtd=2.2,w01018-Rtd=2.3"),
    ),
    (DeviationCode.TRAILING_SEPARATOR, with_cp(b"DataTime=20160801085857;w01018-Rtd=2.2;")),
    (DeviationCode.EMPTY_VALUE, with_cp(b"DataTime=20160801085857;a01013-SampleTime=")),
    (DeviationCode.BAD_NUMBER, with_cp(b"DataTime=20160801085857;w01018-Rtd=N/A")),
    (DeviationCode.BAD_TIME, with_cp(b"DataTime=2016-08-01 08:58")),
    (DeviationCode.FIELDS_AFTER_CP, framed(HEADER.replace(b"Flag=5;", b"") + CP + b";Flag=5")),
    (DeviationCode.SEGMENT_FLAG_WITHOUT_NUMBERS, replaced(b"Flag=5", b"Flag=7")),
    (DeviationCode.BAD_DATA_FLAG, replaced(b"w01018-Flag=N", b'w01018-Flag==HYPERLINK("x")')),
    (
        DeviationCode.DASHED_FACTOR_CODE,
        with_cp(b"DataTime=20160801085857;a34004-1-Rtd=2.2,a34004-1-Flag=N"),
    ),
]

# Reported in both modes: the standard's tables are extensible.
BOTH_MODES: list[tuple[DeviationCode, bytes, DecodeOptions]] = [
    (DeviationCode.UNKNOWN_VERSION_BITS, replaced(b"Flag=5", b"Flag=13"), STRICT),
    (DeviationCode.UNKNOWN_SYSTEM_CODE, replaced(b"ST=32", b"ST=77"), STRICT),
    (DeviationCode.UNKNOWN_COMMAND, replaced(b"CN=2011", b"CN=9999"), STRICT),
    (DeviationCode.UNKNOWN_DATA_FLAG, replaced(b"w01018-Flag=N", b"w01018-Flag=P"), STRICT),
    (
        DeviationCode.UNALIGNED_DATA_TIME,
        framed(SEGMENT.replace(b"CN=2011", b"CN=2061")),
        STRICT,
    ),
    (
        DeviationCode.VERSION_MISMATCH,
        GOOD,
        DecodeOptions(version=ProtocolVersion.HJT212_2005),
    ),
    (DeviationCode.CRC_NOT_VERIFIED, GOOD[:-6] + b"0000\r\n", DecodeOptions(verify_crc=False)),
]


def codes(decoded: DecodedFrame) -> list[DeviationCode]:
    return [warning.code for warning in decoded.warnings]


@pytest.mark.parametrize(("code", "data"), LENIENT_ONLY, ids=[c.value for c, _ in LENIENT_ONLY])
@pytest.mark.parametrize("way", THREE_WAYS)
def test_lenient_keeps_the_frame_with_a_coded_warning(
    code: DeviationCode, data: bytes, way: object
) -> None:
    assert callable(way)
    decoded = only_frame(way(data, LENIENT))
    assert code in codes(decoded)
    warning = next(w for w in decoded.warnings if w.code is code)
    assert warning.message_en and any("\u4e00" <= c <= "\u9fff" for c in warning.message_zh)


@pytest.mark.parametrize(("code", "data"), LENIENT_ONLY, ids=[c.value for c, _ in LENIENT_ONLY])
def test_strict_rejects_the_same_frame(code: DeviationCode, data: bytes) -> None:
    items = feed_whole(data, STRICT)
    assert isinstance(items[0], ProtocolError), f"{code} should be rejected in strict mode"
    assert not any(isinstance(item, DecodedFrame) for item in items)


@pytest.mark.parametrize(
    ("code", "data", "options"), BOTH_MODES, ids=[c.value for c, _, _ in BOTH_MODES]
)
def test_reported_but_never_rejected(
    code: DeviationCode, data: bytes, options: DecodeOptions
) -> None:
    for mode in (
        options,
        DecodeOptions(lenient=True, version=options.version, verify_crc=options.verify_crc),
    ):
        decoded = decode_frame(data, mode)
        assert code in codes(decoded)


def test_every_deviation_code_has_a_case() -> None:
    covered = {code for code, _ in LENIENT_ONLY} | {code for code, _, _ in BOTH_MODES}
    assert covered == set(DeviationCode)


@pytest.mark.parametrize(("code", "data"), LENIENT_ONLY, ids=[c.value for c, _ in LENIENT_ONLY])
def test_lenient_chunking_does_not_change_the_verdict(code: DeviationCode, data: bytes) -> None:
    def verdict(items: list[Item]) -> list[object]:
        return [
            (item.code, item.raw) if isinstance(item, ProtocolError) else item.packet
            for item in items
        ]

    stream = GOOD + data + GOOD
    assert verdict(feed_whole(stream, LENIENT)) == verdict(feed_bytewise(stream, LENIENT))


def test_lenient_values_are_read_as_meant() -> None:
    decoded = decode_frame(replaced(b"w01018-Rtd=2.2", b"w01018-Rtd = 2.2"), LENIENT)
    assert decoded.packet.factors()["w01018"] == {"Rtd": "2.2", "Flag": "N"}
    decoded = decode_frame(replaced(b"Flag=5", b"FLAG=5"), LENIENT)
    assert decoded.packet.flag == "5"
    decoded = decode_frame(b"##0137" + GOOD[6:], LENIENT)
    assert decoded.packet == decode_frame(GOOD).packet
    decoded = decode_frame(
        with_cp(b"DataTime=20160801085857;i11001-Info=//" + "清洗管路".encode("gbk") + b"//"),
        LENIENT,
    )
    assert decoded.packet.factors()["i11001"]["Info"] == "//清洗管路//"


@pytest.mark.parametrize("ending", [b"\n", b"", b" \r\n", b"\r"], ids=["lf", "none", "blank", "cr"])
def test_terminators_real_loggers_send(ending: bytes) -> None:
    stream = GOOD[:-2] + ending + GOOD
    for items in (feed_whole(stream, LENIENT), feed_bytewise(stream, LENIENT)):
        assert [type(item) for item in items] == [DecodedFrame, DecodedFrame]
        first = items[0]
        assert isinstance(first, DecodedFrame)
        assert first.frame.raw == GOOD[:-2] + ending
        assert codes(first) == [DeviationCode.BAD_TERMINATOR]


def test_unterminated_last_frame_is_kept_at_end_of_stream() -> None:
    decoded = only_frame(feed_whole(GOOD[:-2], LENIENT))
    assert codes(decoded) == [DeviationCode.BAD_TERMINATOR]


def test_lower_case_crc_is_standard_enough_for_strict_mode() -> None:
    lower = GOOD[:-6] + GOOD[-6:-2].lower() + b"\r\n"
    assert lower != GOOD
    decoded = decode_frame(lower)
    assert decoded.warnings == ()
    assert decoded.frame.crc == GOOD[-6:-2].lower().decode()


def test_fields_in_any_order() -> None:
    shuffled = framed(
        b"ST=32;CN=2011;QN=20160801085857223;MN=010000A8900016F000169DC0;PW=123456;Flag=5;" + CP
    )
    assert decode_frame(shuffled).packet == decode_frame(GOOD).packet


def test_what_is_no_data_flag_is_left_out_in_lenient_mode() -> None:
    for flag in (b'=HYPERLINK("http://x")', b"", b"NN", b"+1"):
        decoded = decode_frame(replaced(b"w01018-Flag=N", b"w01018-Flag=" + flag), LENIENT)
        assert decoded.packet.factors()["w01018"] == {"Rtd": "2.2"}, flag
        assert codes(decoded) == [DeviationCode.BAD_DATA_FLAG]
    # Flags the standard's table lacks are letters still: kept, and reported.
    decoded = decode_frame(replaced(b"w01018-Flag=N", b"w01018-Flag=P"), LENIENT)
    assert decoded.packet.factors()["w01018"]["Flag"] == "P"
    eflag = decode_frame(replaced(b"w01018-Flag=N", b"w01018-Flag=N,w01018-EFlag=A01"), LENIENT)
    assert eflag.packet.factors()["w01018"]["EFlag"] == "A01" and eflag.warnings == ()


def test_log_text_may_hold_separators() -> None:
    data = with_cp(b"DataTime=20160801085857;PolId=w01018;i11001-Info=//a;b,c=d//;i12001-Info=1")
    packet = decode_frame(data).packet
    assert packet.factors() == {"i11001": {"Info": "//a;b,c=d//"}, "i12001": {"Info": "1"}}
