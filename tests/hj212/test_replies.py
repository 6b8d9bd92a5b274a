"""Reply policy beyond the standard's printed examples."""

from __future__ import annotations

import pytest

from envwatch.hj212 import (
    ProtocolVersion,
    decode_frame,
    device_replies,
    encode_packet,
    execution_result,
    frame_segment,
    platform_replies,
)
from envwatch.hj212.codes import ExeRtn, QnRtn

MN = b"010000A8900016F000169DC0"


def packet(cn: bytes, flag: bytes, cp: bytes = b"") -> bytes:
    return frame_segment(
        b"QN=20160801085857223;ST=32;CN=" + cn + b";PW=123456;MN=" + MN + b";Flag=" + flag
        + b";CP=&&" + cp + b"&&"
    )  # fmt: skip


def test_time_calibration_request_gets_9013() -> None:
    (reply,) = platform_replies(decode_frame(packet(b"1013", b"5")).packet)
    assert encode_packet(reply)[6:-6] == (
        b"QN=20160801085857223;ST=91;CN=9013;PW=123456;MN=" + MN + b";Flag=4;CP=&&&&"
    )


@pytest.mark.parametrize(
    ("cn", "cp"),
    [(b"9015", b""), (b"9021", b"Data=0BBE"), (b"9014", b""), (b"9011", b"QnRtn=1")],
)
def test_heartbeats_and_answers_are_never_answered(cn: bytes, cp: bytes) -> None:
    decoded = decode_frame(packet(cn, b"5", cp)).packet
    assert platform_replies(decoded) == []
    assert device_replies(decoded) == []


@pytest.mark.parametrize(
    ("cn", "cp"),
    [
        (b"1061", b"RtdInterval=30"),
        (b"3019", b"PolId=w01018;w01018-SN=010000A8900016F000169DC1"),
        (b"3020", b"DataTime=20160801085857;PolId=w01018;i12001-Info=1"),
    ],
)
def test_device_answers_to_requests_are_data(cn: bytes, cp: bytes) -> None:
    (reply,) = platform_replies(decode_frame(packet(cn, b"5", cp)).packet)
    assert reply.cn == "9014"


def test_device_refuses_with_a_qnrtn_and_reports_execution() -> None:
    request = decode_frame(packet(b"1062", b"5", b"RtdInterval=30")).packet
    (refused,) = device_replies(request, qn_rtn=QnRtn.PW_ERROR)
    assert refused.cp == ((("QnRtn", "3"),),)
    done = execution_result(request, ExeRtn.NO_DATA)
    assert (done.cn, done.qn, done.cp) == ("9012", "20160801085857223", ((("ExeRtn", "100"),),))


def test_2005_request_answer_carries_qn_in_cp() -> None:
    frame = frame_segment(
        b"QN=20040516010101001;ST=32;CN=1012;PW=123456;MN=88888880000001;Flag=1;"
        b"CP=&&SystemTime=20040516010101&&"
    )
    (reply,) = device_replies(decode_frame(frame).packet, ProtocolVersion.HJT212_2005)
    assert encode_packet(reply)[6:-6] == (
        b"ST=91;CN=9011;PW=123456;MN=88888880000001;Flag=0;CP=&&QN=20040516010101001;QnRtn=1&&"
    )
