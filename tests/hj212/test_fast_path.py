"""The fast path for segments in the standard's own form must read exactly what
the field-by-field reading reads: same packet, no deviation. It may decline
(and leave the frame to the slow path), never disagree."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from envwatch.hj212 import DecodeOptions, ProtocolError, ProtocolVersion
from envwatch.hj212.segment import (
    _STANDARD_CP,
    _STANDARD_SEGMENT,
    _Checker,
    _read_cp_items,
    _read_fields,
    _standard_items,
    _standard_packet,
)
from tests.hj212.conftest import EXAMPLES

KEYS = [
    "DataTime", "SystemTime", "BeginTime", "RtdInterval", "PolId", "Foo",
    "a21026-Rtd", "a21026-ZsRtd", "a21026-Flag", "a21026-EFlag", "w01018-SampleTime",
    "w01018-Cou", "SB1-RS", "SB1-RT", "Leq-Data", "i12001-Info", "a-b-Rtd", "w01018-Foo",
    "Rtd", "-Rtd", "a21026-", "a21026-Rtdx",
]  # fmt: skip
VALUES = [
    "12.5", "-0.041", "+3", ".5", "7.", "0", "", "1e5", "N/A", "12,5", "1.2.3", "--1",
    "N", "F", "M", "S", "D", "C", "T", "B", "P", "NN", "A01", "a&b", "x&",
    "20160801085857", "20240229000000", "20230229000000", "20161301000000",
    "20160431000000", "00000101000000", "19000229000000", "20000229235959",
    "20160801245959", "2016080108585", "201608010858570", "清洗", "x y",
]  # fmt: skip


@st.composite
def cp_texts(draw: st.DrawFn) -> str:
    count = draw(st.integers(1, 8))
    parts = []
    for index in range(count):
        if index:
            parts.append(draw(st.sampled_from([";", ","])))
        parts.append(draw(st.sampled_from(KEYS)) + "=" + draw(st.sampled_from(VALUES)))
    return "".join(parts)


@settings(max_examples=600, deadline=None)
@given(text=cp_texts())
@example(text="DataTime=20160801085857;a21026-Rtd=12.5,a21026-Flag=N")
@example(text="a21026-Rtd=1,a21026-Rtd=2")
def test_fast_cp_reading_agrees_with_the_item_by_item_reading(text: str) -> None:
    fast = _standard_items(text) if _STANDARD_CP.fullmatch(text) else None
    if fast is None:
        return
    check = _Checker(lenient=False, deviations=[])
    assert _read_cp_items(text, check) == fast
    assert check.deviations == []


HEADERS = [
    "QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;",
    "QN=20160801085857223;ST=77;CN=9999;PW=123456;MN=010000A8900016F000169DC0;Flag=13;",
    "QN=20160801085857223;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=7;PNUM=2;PNO=3;",
    "QN=20160801085857223;ST=32;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=6;"
    "PNUM=0002;PNO=0001;",
    "QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=1;",
    "QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=999;",
    "QN=20160801085857223;ST=32;CN=2031;PW=123456;MN=010000A8900016F000169DC0;Flag=9;",
]
OPTIONS = [
    DecodeOptions(),
    DecodeOptions(lenient=True),
    DecodeOptions(version=ProtocolVersion.HJ212_2017),
    DecodeOptions(version=ProtocolVersion.HJT212_2005, lenient=True),
]


@settings(max_examples=600, deadline=None)
@given(
    header=st.sampled_from(HEADERS),
    cp=st.one_of(st.just(""), cp_texts()),
    options=st.sampled_from(OPTIONS),
)
def test_fast_segment_reading_agrees_with_the_field_by_field_reading(
    header: str, cp: str, options: DecodeOptions
) -> None:
    text = f"{header}CP=&&{cp}&&"
    match = _STANDARD_SEGMENT.fullmatch(text)
    assert match is not None or cp, "every header above is in the standard form"
    if match is None:
        return
    fast_check = _Checker(options.lenient, [])
    fast_error: ProtocolError | None = None
    try:
        fast = _standard_packet(match, options, fast_check)
    except ProtocolError as error:
        fast, fast_error = None, error
    if fast_error is not None:
        with pytest.raises(ProtocolError) as slow_error:
            _read_fields(text, options, _Checker(options.lenient, []))
        assert slow_error.value.code == fast_error.code
        return
    if fast is None:
        return
    slow_check = _Checker(options.lenient, [])
    assert _read_fields(text, options, slow_check) == fast
    assert slow_check.deviations == fast_check.deviations


def test_the_fast_path_is_taken_for_the_standards_examples() -> None:
    taken = 0
    for example_ in EXAMPLES:
        text = example_.frame[6:-6].decode()
        match = _STANDARD_SEGMENT.fullmatch(text)
        if match and _standard_packet(match, DecodeOptions(), _Checker(False, [])):
            taken += 1
    # All but the three malformed ones and C.40, whose log text is left to the
    # slow path.
    assert taken == len(EXAMPLES) - 4
