"""HJ/T 212-2005, HJ 212-2017 and HJ 212-2025 frames, and what decides how each is read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from envwatch.hj212 import (
    DecodeOptions,
    DeviationCode,
    ProtocolError,
    ProtocolVersion,
    decode_frame,
    encode_packet,
    frame_segment,
    interpret,
    platform_replies,
    to_packet,
)
from envwatch.hj212.jsonform import decoded_to_json
from envwatch.hj212.model import Command, DataKind, DataUpload, Heartbeat, Reply

V2005 = ProtocolVersion.HJT212_2005
V2017 = ProtocolVersion.HJ212_2017
V2025 = ProtocolVersion.HJ212_2025

# A 2005 real-time upload as loggers send it: no QN, no Flag, 14-char MN, short codes.
FRAME_2005 = frame_segment(
    b"ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817;"
    b"B01-Rtd=36.91;011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&"
)
FRAME_2005_ACK = frame_segment(
    b"QN=20160824003817000;ST=31;CN=2011;PW=123456;MN=88888880000001;Flag=1;"
    b"CP=&&DataTime=20160824003817;02-Rtd=35.5,02-Flag=N;S01-Rtd=9.8,S01-Flag=N&&"
)
HEARTBEAT_2025 = frame_segment(
    b"QN=20260101120000001;ST=32;CN=9015;PW=123456;MN=010000A8900016F000169DC0;Flag=9;CP=&&&&"
)
SURFACE_WATER = frame_segment(
    b"QN=20260101120000001;ST=21;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=9;"
    b"CP=&&DataTime=20260101110000;w01001-Avg=7.62,w01001-Flag=N;w21003-Avg=0.412,w21003-Flag=N&&"
)


def test_2005_frame_decodes_in_strict_mode_as_2005() -> None:
    decoded = decode_frame(FRAME_2005)
    assert decoded.warnings == ()
    assert decoded.claimed_version is V2005
    assert decoded.packet.qn is None and decoded.packet.flag is None
    assert decoded_to_json(decoded)["version"] == "2005"
    assert encode_packet(decoded.packet) == FRAME_2005


def test_2005_short_codes_are_mapped_to_2017_codes() -> None:
    message = interpret(decode_frame(FRAME_2005).packet)
    assert isinstance(message, DataUpload)
    assert message.kind is DataKind.REALTIME
    assert list(message.values) == ["w00000", "w01018", "w21003"]
    assert message.values["w01018"].rtd == Decimal("231.0")
    assert message.values["w01018"].sent_code == "011"
    rebuilt = decode_frame(encode_packet(to_packet(message))).packet
    assert rebuilt == decode_frame(FRAME_2005).packet
    assert interpret(rebuilt) == message


def test_2005_air_codes_by_system_code() -> None:
    message = interpret(decode_frame(FRAME_2005_ACK).packet)
    assert isinstance(message, DataUpload)
    assert set(message.values) == {"a21026", "a19001"}


def test_2005_millisecond_data_time_is_read_in_lenient_mode() -> None:
    frame = frame_segment(
        b"ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817000;011-Rtd=231.0&&"
    )
    with pytest.raises(ProtocolError) as caught:
        decode_frame(frame)
    assert caught.value.code == "bad_cp"
    decoded = decode_frame(frame, DecodeOptions(lenient=True))
    assert [w.code for w in decoded.warnings] == [DeviationCode.BAD_TIME]
    message = interpret(decoded.packet)
    assert isinstance(message, DataUpload)
    assert message.data_time == datetime(2016, 8, 24, 0, 38, 17)


def test_2005_mn_must_be_14_characters_in_strict_mode() -> None:
    frame = frame_segment(b"ST=32;CN=2011;PW=123456;MN=LD1301330000;CP=&&DataTime=20160824003817&&")
    with pytest.raises(ProtocolError) as caught:
        decode_frame(frame)
    assert caught.value.code == "bad_field"
    assert "14" in caught.value.message_en


def test_2017_device_without_flag_is_a_deviation() -> None:
    registered = DecodeOptions(version=V2017)
    with pytest.raises(ProtocolError) as caught:
        decode_frame(FRAME_2005, registered)
    assert caught.value.code == "missing_field"
    decoded = decode_frame(FRAME_2005, DecodeOptions(version=V2017, lenient=True))
    assert DeviationCode.MISSING_FIELD in [w.code for w in decoded.warnings]


def test_2005_reply_form_carries_qn_and_cn_inside_cp() -> None:
    packet = decode_frame(FRAME_2005_ACK).packet
    (reply,) = platform_replies(packet, V2005)
    assert encode_packet(reply)[6:-6] == (
        b"ST=91;CN=9014;PW=123456;MN=88888880000001;Flag=0;CP=&&QN=20160824003817000;CN=2011&&"
    )
    typed = interpret(reply, V2005)
    assert isinstance(typed, Reply)
    assert (typed.answered_qn, typed.answered_cn) == ("20160824003817000", "2011")


def test_2005_upload_without_flag_is_not_answered() -> None:
    assert platform_replies(decode_frame(FRAME_2005).packet, V2005) == []


def test_2025_heartbeat() -> None:
    decoded = decode_frame(HEARTBEAT_2025)
    assert decoded.warnings == ()
    assert decoded.claimed_version is V2025
    assert decoded_to_json(decoded)["version"] == "2025"
    assert isinstance(interpret(decoded.packet), Heartbeat)


@pytest.mark.parametrize(
    ("cn", "cp", "kind"),
    [
        ("2062", b"DataTime=20260101110000;w01018-Avg=21.5,w01018-Flag=N", DataKind.STANDARD_CHECK),
        ("2013", b"DataTime=20260101110012;w01018-Rtd=21.5", DataKind.RAW),
        ("2111", b"DataTime=20260101110500;a01901-Avg=872.4", DataKind.FURNACE_5MIN),
    ],
)
def test_2025_data_commands(cn: str, cp: bytes, kind: DataKind) -> None:
    frame = frame_segment(
        b"QN=20260101120000001;ST=31;CN=%s;PW=123456;MN=010000A8900016F000169DC0;Flag=9;CP=&&%s&&"
        % (cn.encode(), cp)
    )
    decoded = decode_frame(frame)
    assert decoded.warnings == ()
    message = interpret(decoded.packet)
    assert isinstance(message, DataUpload)
    assert message.kind is kind
    (reply,) = platform_replies(decoded.packet)
    assert (reply.cn, reply.flag) == ("9014", "8")


def test_2025_secret_key_command() -> None:
    frame = frame_segment(
        b"QN=20260101120000001;ST=32;CN=1014;PW=123456;MN=010000A8900016F000169DC0;Flag=9;"
        b"CP=&&SKCreateTime=20260101120000;NewSK=0123456789ABCDEF&&"
    )
    message = interpret(decode_frame(frame).packet)
    assert isinstance(message, Command)
    assert message.params == {"SKCreateTime": datetime(2026, 1, 1, 12), "NewSK": "0123456789ABCDEF"}


def test_version_bits_000010_are_read_as_the_device_is_registered() -> None:
    # A surface-water station sends Flag=9 too: nothing is rejected, and the
    # frame's own claim is reported next to the registered edition.
    as_2025 = decode_frame(SURFACE_WATER)
    assert as_2025.warnings == ()
    as_2017 = decode_frame(SURFACE_WATER, DecodeOptions(version=V2017))
    assert [w.code for w in as_2017.warnings] == [DeviationCode.VERSION_MISMATCH]
    assert decoded_to_json(as_2017)["version"] == "2025"
    message = interpret(as_2017.packet, V2017)
    assert isinstance(message, DataUpload)
    assert message.envelope.version is V2017
    assert message.values["w21003"].avg == Decimal("0.412")


def test_unknown_version_bits_are_accepted_reported_and_echoed() -> None:
    frame = frame_segment(
        b"QN=20260101120000001;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=13;"
        b"CP=&&DataTime=20260101110000;w01018-Rtd=21.5&&"
    )
    decoded = decode_frame(frame)
    assert [w.code for w in decoded.warnings] == [DeviationCode.UNKNOWN_VERSION_BITS]
    assert decoded.claimed_version is None
    assert decoded_to_json(decoded)["version"] == "unknown"
    (reply,) = platform_replies(decoded.packet)
    assert reply.flag == "12"
