"""Property tests of the HJ 212 codec: CRC, encode/decode identity, typed round
trip, robustness against arbitrary bytes, chunking independence, resync after a
truncated frame and single-byte error detection.

The tests at the end pin bugs these properties once found, each with the
smallest input that showed it.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from envwatch.hj212 import (
    DecodedFrame,
    DecodeOptions,
    Decoder,
    ErrorCode,
    Packet,
    ProtocolError,
    crc16,
    crc_text,
    decode_frame,
    encode_packet,
    encode_segment,
    interpret,
    to_packet,
)
from envwatch.hj212.crc import crc16_reference
from envwatch.hj212.errors import DeviationCode
from envwatch.hj212.framing import STANDARD_MAX_SEGMENT
from envwatch.hj212.model import DataUpload
from envwatch.hj212.segment import CpGroup

Item = DecodedFrame | ProtocolError

STRICT = DecodeOptions()
LENIENT = DecodeOptions(lenient=True)
BOTH_MODES = pytest.mark.parametrize("options", [STRICT, LENIENT], ids=["strict", "lenient"])

# Small limits exercise the oversized-buffer path with inputs Hypothesis can build.
STRICT_SMALL = DecodeOptions(max_segment_length=64, max_buffer=76)
LENIENT_SMALL = DecodeOptions(lenient=True, max_segment_length=64, max_buffer=76)

SETTINGS = settings(max_examples=60, deadline=None)

# -- strategies -------------------------------------------------------------

DIGITS = "0123456789"
UPPER_HEX = "0123456789ABCDEF"
ALNUM = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

SYSTEM_CODES = ("21", "22", "31", "32", "91")
DATA_UPLOAD_CNS = ("2011", "2051", "2061", "2031")
OTHER_CNS = ("1011", "1061", "1062", "2021", "2041", "3020", "9011", "9012", "9014")
DATA_FLAGS = ("N", "F", "M", "S", "D", "C", "T", "B")
NUMERIC_SUFFIXES = ("Rtd", "Avg", "Min", "Max", "Cou")


def fixed_text(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=size)


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)
).map(lambda moment: moment.replace(microsecond=0))


def period_start(cn: str, moment: datetime) -> datetime:
    """DataTime of minute, hourly and daily data is the start of its period."""
    if cn == "2051":
        return moment.replace(second=0)
    if cn == "2061":
        return moment.replace(minute=0, second=0)
    if cn == "2031":
        return moment.replace(hour=0, minute=0, second=0)
    return moment


def times(cn: str) -> st.SearchStrategy[str]:
    return moments.map(lambda moment: period_start(cn, moment).strftime("%Y%m%d%H%M%S"))


# Numbers as loggers write them: "-12.30", "7", ".5", "+3.", at most 6 decimals
# (see test_to_packet_writes_small_numbers_as_plain_decimals for more).
numbers = st.from_regex(r"[+-]?(?:[0-9]{1,8}(?:\.[0-9]{0,6})?|\.[0-9]{1,6})", fullmatch=True)

factor_codes = st.from_regex(r"[aw][0-9]{5}", fullmatch=True)


@st.composite
def factor_pairs(draw: st.DrawFn) -> tuple[str, str]:
    code = draw(factor_codes)
    suffix = draw(st.sampled_from((*NUMERIC_SUFFIXES, "Flag")))
    value = draw(st.sampled_from(DATA_FLAGS)) if suffix == "Flag" else draw(numbers)
    return f"{code}-{suffix}", value


@st.composite
def cp_areas(draw: st.DrawFn, cn: str) -> tuple[CpGroup, ...]:
    """CP groups with keys unique across the whole CP; data uploads start with DataTime."""
    data_time = cn in DATA_UPLOAD_CNS
    pairs: list[tuple[str, str]] = []
    if data_time or draw(st.booleans()):
        pairs.append(("DataTime", draw(times(cn))))
    if draw(st.booleans()):
        pairs.append(("RtdInterval", draw(st.text(alphabet=DIGITS, min_size=1, max_size=4))))
    pairs += draw(st.lists(factor_pairs(), max_size=12, unique_by=lambda pair: pair[0]))
    if not data_time:
        pairs = draw(st.permutations(pairs))
    groups: list[CpGroup] = []
    rest = pairs
    while rest:
        size = draw(st.integers(1, len(rest)))
        groups.append(tuple(rest[:size]))
        rest = rest[size:]
    return tuple(groups)


def count_text(value: int, *, padded: bool) -> str:
    return f"{value:04d}" if padded else str(value)


@st.composite
def packets(draw: st.DrawFn, cns: Sequence[str] = DATA_UPLOAD_CNS + OTHER_CNS) -> Packet:
    """Valid HJ 212-2017 packets whose data segment fits the standard's 1024 bytes."""
    cn = draw(st.sampled_from(cns))
    flag = draw(st.integers(4, 7))
    pnum: str | None = None
    pno: str | None = None
    if flag & 2:
        total = draw(st.integers(1, 9999))
        number = draw(st.integers(1, total))
        padded = draw(st.booleans())
        pnum = count_text(total, padded=padded)
        pno = count_text(number, padded=padded)
    packet = Packet.from_groups(
        cn,
        mn=draw(fixed_text(UPPER_HEX, 24)),
        st=draw(st.sampled_from(SYSTEM_CODES)),
        pw=draw(fixed_text(ALNUM, 6)),
        qn=draw(fixed_text(DIGITS, 17)),
        flag=str(flag),
        pnum=pnum,
        pno=pno,
        cp=draw(cp_areas(cn)),
    )
    assume(len(encode_segment(packet)) <= STANDARD_MAX_SEGMENT)
    return packet


# '#' is left out so garbage can never start (or end inside) a frame header.
garbage = st.binary(max_size=24).map(lambda data: data.replace(b"#", b""))


@st.composite
def frames_with_garbage(draw: st.DrawFn) -> tuple[list[Packet], list[bytes], bytes]:
    """1..5 packets, the garbage runs around their frames, and the whole stream."""
    originals = draw(st.lists(packets(), min_size=1, max_size=5))
    gaps = [draw(garbage) for _ in range(len(originals) + 1)]
    frames = [encode_packet(packet) for packet in originals]
    stream = gaps[0] + b"".join(f + gap for f, gap in zip(frames, gaps[1:], strict=True))
    return originals, gaps, stream


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at Hypothesis-chosen points (empty chunks included)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# -- helpers ----------------------------------------------------------------


def feed_chunks(chunks: Iterable[bytes], options: DecodeOptions) -> tuple[list[Item], list[int]]:
    """Everything the decoder reports for ``chunks``, and its buffer size after each feed."""
    decoder = Decoder(options)
    items: list[Item] = []
    buffered: list[int] = []
    for chunk in chunks:
        items += decoder.feed(chunk)
        buffered.append(decoder.buffered)
    items += decoder.close()
    buffered.append(decoder.buffered)
    return items, buffered


def feed_whole(data: bytes, options: DecodeOptions) -> list[Item]:
    return feed_chunks([data], options)[0]


def raw_of(item: Item) -> bytes:
    return item.frame.raw if isinstance(item, DecodedFrame) else item.raw


def decoded_packets(items: Iterable[Item]) -> list[Packet]:
    return [item.packet for item in items if isinstance(item, DecodedFrame)]


def shape(items: Iterable[Item]) -> list[str]:
    """ "frame" or the error code per item, runs of garbage reports merged into one."""
    out: list[str] = []
    for item in items:
        tag = "frame" if isinstance(item, DecodedFrame) else item.code
        if not (tag == ErrorCode.GARBAGE and out and out[-1] == ErrorCode.GARBAGE):
            out.append(tag)
    return out


def describe(items: Iterable[Item]) -> list[str]:
    return [
        "frame" if isinstance(item, DecodedFrame) else f"{item.code}: {item.message_en}"
        for item in items
    ]


# -- 1. CRC -----------------------------------------------------------------


def _check_crc(data: bytes) -> None:
    assert crc16(data) == crc16_reference(data)
    text = crc_text(data)
    assert len(text) == 4
    assert all(char in UPPER_HEX for char in text)
    assert int(text, 16) == crc16(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
@example(b"")
@example(b"\x00")
@example(b"\xff" * 9)
def test_crc16_matches_the_reference(data: bytes) -> None:
    _check_crc(data)


@st.composite
def large_messages(draw: st.DrawFn) -> bytes:
    """9990..10010 bytes (around the fast path's 10000-byte limit): Hypothesis
    picks both ends, a seeded generator fills the middle (too big to draw)."""
    size = draw(st.sampled_from((9999, 10_000, 10_001)) | st.integers(9990, 10_010))
    head = draw(st.binary(max_size=64))
    tail = draw(st.binary(max_size=64))
    seed = draw(st.integers(0, 2**32 - 1))
    middle = random.Random(seed).randbytes(size - len(head) - len(tail))
    return head + middle + tail


@settings(max_examples=12, deadline=None)
@given(large_messages())
def test_crc16_matches_the_reference_on_large_messages(data: bytes) -> None:
    assert 9990 <= len(data) <= 10_010
    _check_crc(data)


def test_crc16_of_the_standards_example() -> None:
    segment = (
        b"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
        b"Flag=5;CP=&&RtdInterval=30&&"
    )
    assert crc_text(segment) == "1C80"
    assert crc_text(b"") == "FFFF"


# -- 2. encode -> decode identity -------------------------------------------


@BOTH_MODES
@SETTINGS
@given(packet=packets())
def test_decode_of_encode_is_identity(packet: Packet, options: DecodeOptions) -> None:
    frame = encode_packet(packet)
    decoded = decode_frame(frame, options)
    assert decoded.packet == packet
    assert decoded.warnings == ()
    assert decoded.frame.raw == frame
    assert encode_packet(decoded.packet) == frame


# -- 3. typed round trip ----------------------------------------------------


@SETTINGS
@given(packet=packets(DATA_UPLOAD_CNS))
def test_interpret_of_to_packet_is_identity_for_data_uploads(packet: Packet) -> None:
    message = interpret(packet)
    assert isinstance(message, DataUpload)
    assert interpret(to_packet(message)) == message


@SETTINGS
@given(packet=packets(DATA_UPLOAD_CNS))
def test_data_upload_survives_the_wire_in_strict_mode(packet: Packet) -> None:
    message = interpret(packet)
    rebuilt = to_packet(message)
    assume(len(encode_segment(rebuilt)) <= STANDARD_MAX_SEGMENT)
    decoded = decode_frame(encode_packet(rebuilt), STRICT)
    assert decoded.warnings == ()
    assert interpret(decoded.packet) == message


# -- 4. arbitrary bytes: frames or the codec's own errors, bounded buffer ----


def _check_only_frames_or_errors(chunks: list[bytes], options: DecodeOptions) -> None:
    items, buffered = feed_chunks(chunks, options)
    for item in items:
        assert isinstance(item, DecodedFrame | ProtocolError), item
        if isinstance(item, ProtocolError):
            assert item.error_code in ErrorCode
    # Every byte is reported exactly once, in order.
    assert b"".join(raw_of(item) for item in items) == b"".join(chunks)
    assert buffered[-1] == 0
    assert max(buffered) <= options.max_buffer


ALL_OPTIONS = pytest.mark.parametrize(
    "options",
    [STRICT, LENIENT, STRICT_SMALL, LENIENT_SMALL],
    ids=["strict", "lenient", "strict-small", "lenient-small"],
)


@ALL_OPTIONS
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=600))
@example(data=b"")
@example(data=b"#")
@example(data=b"##")
@example(data=b"##0000&&FFFF\r\n")
@example(data=b"##9999")
@example(data=b"##0006CP=&&&&\r")
def test_arbitrary_bytes_yield_only_frames_or_protocol_errors(
    data: bytes, options: DecodeOptions
) -> None:
    _check_only_frames_or_errors([data], options)


def _mangled(frame: bytes, cut: int, kind: int) -> bytes:
    if kind == 0:
        return frame
    if kind == 1:
        return frame[:cut]  # truncated
    if kind == 2:
        return frame[:-2] + b"\n"  # LF only
    if kind == 3:
        return frame[:-2]  # no terminator
    return frame[:2] + b"%04d" % max(0, len(frame) - 12 + (cut % 7) - 3) + frame[6:]  # bad length


@st.composite
def mixed_streams(draw: st.DrawFn) -> bytes:
    parts: list[bytes] = []
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            parts.append(draw(st.binary(max_size=40)))
        else:
            frame = encode_packet(draw(packets()))
            cut = draw(st.integers(0, len(frame)))
            parts.append(_mangled(frame, cut, draw(st.integers(0, 4))))
    return b"".join(parts)


@ALL_OPTIONS
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mixed_streams_yield_only_frames_or_protocol_errors(
    data: st.DataObject, options: DecodeOptions
) -> None:
    stream = data.draw(mixed_streams())
    chunks = data.draw(splits(stream))
    _check_only_frames_or_errors(chunks, options)


# -- 5. chunking does not change the outcome ---------------------------------


@BOTH_MODES
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_split_of_a_stream_yields_the_same_frames(
    data: st.DataObject, options: DecodeOptions
) -> None:
    originals, gaps, stream = data.draw(frames_with_garbage())
    chunks = data.draw(splits(stream))

    whole = feed_whole(stream, options)
    expected_shape: list[str] = []
    for gap in gaps[:-1]:
        expected_shape += [ErrorCode.GARBAGE, "frame"] if gap else ["frame"]
    expected_shape += [ErrorCode.GARBAGE] if gaps[-1] else []
    assert shape(whole) == expected_shape, describe(whole)
    assert decoded_packets(whole) == originals
    assert b"".join(raw_of(item) for item in whole) == stream

    pieces, _ = feed_chunks(chunks, options)
    assert decoded_packets(pieces) == originals
    assert b"".join(raw_of(item) for item in pieces) == stream
    assert shape(pieces) == shape(whole), describe(pieces)
    assert [raw_of(item) for item in pieces] == [raw_of(item) for item in whole]


# -- 6. resync after a truncated frame ---------------------------------------


@BOTH_MODES
@SETTINGS
@given(data=st.data())
def test_valid_frame_after_a_truncated_frame_is_recovered(
    data: st.DataObject, options: DecodeOptions
) -> None:
    frame_a = encode_packet(data.draw(packets(), label="a"))
    packet_b = data.draw(packets(), label="b")
    frame_b = encode_packet(packet_b)
    cut = data.draw(st.integers(6, len(frame_a) - 2), label="cut")
    # The cut that makes a's declared end fall exactly on b's end loses b:
    # test_frame_after_truncated_frame_lost_when_declared_end_hits_its_end.
    assume(cut != len(frame_a) - len(frame_b))

    items = feed_whole(frame_a[:cut] + frame_b, options)

    if options.lenient and cut == len(frame_a) - 2:
        # Only CR LF is missing: lenient mode keeps frame a, as documented.
        first = items[0]
        assert isinstance(first, DecodedFrame), describe(items)
        assert [w.code for w in first.warnings] == [DeviationCode.BAD_TERMINATOR]
        assert first.frame.raw == frame_a[:cut]
    else:
        assert isinstance(items[0], ProtocolError), describe(items)
        assert items[0].raw == frame_a[:cut]
    assert len(items) == 2, describe(items)
    second = items[1]
    assert isinstance(second, DecodedFrame), describe(items)
    assert second.packet == packet_b
    assert second.frame.raw == frame_b


# -- 7. single-byte errors in the data segment are caught --------------------


@BOTH_MODES
@SETTINGS
@given(data=st.data())
def test_single_byte_change_in_the_data_segment_is_never_accepted(
    data: st.DataObject, options: DecodeOptions
) -> None:
    packet = data.draw(packets())
    frame = encode_packet(packet)
    index = data.draw(st.integers(6, len(frame) - 7), label="index")
    replacement = data.draw(st.integers(0, 255).filter(lambda b: b != frame[index]))
    corrupted = frame[:index] + bytes([replacement]) + frame[index + 1 :]

    items = feed_whole(corrupted, options)

    assert not any(isinstance(item, DecodedFrame) and item.packet == packet for item in items), (
        describe(items)
    )
    # Stronger: the declared length still lands on the CRC, and the CRC catches
    # every single-byte change, so the frame is rejected for its CRC.
    assert shape(items) == [ErrorCode.CRC_MISMATCH], describe(items)


# -- known bugs ----------------------------------------------------------------

_A = Packet.from_groups(
    cn="2011",
    mn="0" * 24,
    st="22",
    pw="123456",
    qn="2" * 17,
    flag="4",
    cp=((("DataTime", "20200101000000"), ("a21026-Rtd", "12.5")),),
)
_B = Packet(cn="9014", mn="0" * 24, st="91", pw="123456", qn="2" * 17, flag="4")


@BOTH_MODES
def test_frame_after_truncated_frame_lost_when_declared_end_hits_its_end(
    options: DecodeOptions,
) -> None:
    frame_a, frame_b = encode_packet(_A), encode_packet(_B)
    cut = len(frame_a) - len(frame_b)  # 138 - 99 = 39
    items = feed_whole(frame_a[:cut] + frame_b, options)
    assert len(items) == 2, describe(items)  # actual: [crc_mismatch] covering both frames
    assert isinstance(items[0], ProtocolError)
    assert isinstance(items[1], DecodedFrame)
    assert items[1].packet == _B


@pytest.mark.parametrize(
    ("options", "data"),
    [
        (STRICT, b"##0000##x" + b"y" * 9000),
        (LENIENT, b"##0000##x" + b"y" * 9000),
        (STRICT_SMALL, b"##0999##0999" + b"y" * 100),
        (LENIENT_SMALL, b"##0000##x" + b"y" * 100),
    ],
    ids=["strict", "lenient", "strict-small", "lenient-small"],
)
def test_buffer_never_exceeds_max_buffer(options: DecodeOptions, data: bytes) -> None:
    decoder = Decoder(options)
    decoder.feed(data)
    assert decoder.buffered <= options.max_buffer


@pytest.mark.parametrize("value", ["0.0000001", "0.0000000", "-0.00000012"])
def test_to_packet_writes_small_numbers_as_plain_decimals(value: str) -> None:
    packet = Packet.from_groups(
        cn="2011",
        mn="0" * 24,
        st="22",
        pw="123456",
        qn="2" * 17,
        flag="4",
        cp=((("DataTime", "20200101000000"), ("a21026-Rtd", value)),),
    )
    assert decode_frame(encode_packet(packet)).packet == packet  # the input is valid
    message = interpret(packet)
    assert isinstance(message, DataUpload)
    assert message.values["a21026"].rtd == Decimal(value)
    decoded = decode_frame(encode_packet(to_packet(message)), STRICT)
    assert interpret(decoded.packet) == message
