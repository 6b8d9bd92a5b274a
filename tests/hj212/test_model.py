"""The typed model: what the standard's examples mean, and the way back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from envwatch.hj212 import (
    DecodeOptions,
    ProtocolError,
    decode_frame,
    frame_segment,
    interpret,
    to_packet,
)
from envwatch.hj212.codes import DataFlag, QnRtn, RunState
from envwatch.hj212.model import (
    Command,
    DataKind,
    DataUpload,
    DeviceInfo,
    FacilityRunState,
    FacilityRunTime,
    FactorValues,
    LoggerRestart,
    Reply,
)
from tests.hj212.conftest import EXAMPLES, Example

LENIENT = DecodeOptions(lenient=True)


def message_of(table: str, cn: str | None = None) -> object:
    example = next(
        e for e in EXAMPLES if e.table == table and (cn is None or f"CN={cn}".encode() in e.frame)
    )
    return interpret(decode_frame(example.frame, LENIENT).packet)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.table)
def test_every_example_round_trips_through_the_typed_model(example: Example) -> None:
    message = interpret(decode_frame(example.frame, LENIENT).packet)
    packet = to_packet(message)
    assert interpret(packet) == message


def test_minute_data_c16() -> None:
    message = message_of("C.16")
    assert isinstance(message, DataUpload)
    assert message.kind is DataKind.MINUTE
    assert message.data_time == datetime(2016, 8, 1, 8, 40)
    assert message.envelope.mn == "010000A8900016F000169DC0"
    assert message.envelope.wants_answer
    assert message.values["w00000"] == FactorValues(
        cou=Decimal("10.5"),
        min=Decimal("16.4"),
        avg=Decimal("17.5"),
        max=Decimal("20.1"),
        flag=DataFlag.NORMAL,
    )
    assert message.values["w01001"].cou is None


def test_real_time_data_c14_sample_time_and_extended_flag() -> None:
    message = message_of("C.14")
    assert isinstance(message, DataUpload)
    cod = message.values["w01018"]
    assert cod.sample_time == datetime(2016, 8, 1, 7, 0)
    assert cod.eflag == "A01"
    assert cod.flag is DataFlag.NORMAL


def test_noise_minute_data_c26() -> None:
    message = message_of("C.26")
    assert isinstance(message, DataUpload)
    assert message.values["Leq"].data == Decimal("50.0")


def test_run_state_and_run_time() -> None:
    state = message_of("C.15")
    assert isinstance(state, FacilityRunState)
    assert state.states == {"SB1": RunState.RUNNING, "SB2": RunState.OFF}
    run_time = message_of("C.19")
    assert isinstance(run_time, FacilityRunTime)
    assert run_time.hours == {"SB1": Decimal("1.1"), "SB2": Decimal("2.1")}


def test_logger_restart_c24() -> None:
    message = message_of("C.24")
    assert isinstance(message, LoggerRestart)
    assert message.restart_time == datetime(2016, 8, 1, 8, 56, 24)


def test_device_log_c40() -> None:
    message = message_of("C.40")
    assert isinstance(message, DeviceInfo)
    assert message.pol_id == "w01018"
    assert message.text("i11001") == "清洗管路"


def test_commands_have_typed_parameters() -> None:
    set_timeout = message_of("C.1", "1000")
    assert isinstance(set_timeout, Command)
    assert set_timeout.params == {"OverTime": 5, "ReCount": 3}
    history = message_of("C.20")
    assert isinstance(history, Command)
    assert history.params == {
        "BeginTime": datetime(2016, 8, 1, 8, 40),
        "EndTime": datetime(2016, 8, 1, 8, 40),
    }
    calibrate = message_of("C.30")
    assert isinstance(calibrate, Command)
    assert calibrate.params == {"PolId": "w01018"}
    answer = message_of("C.1", "9011")
    assert isinstance(answer, Reply)
    assert answer.qn_rtn is QnRtn.READY


HEADER = b"QN=20160801085857223;ST=32;CN=%s;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"


def command(cn: bytes, cp: bytes) -> bytes:
    return frame_segment(HEADER % cn + b"CP=&&" + cp + b"&&")


@pytest.mark.parametrize(
    ("cn", "cp", "detail"),
    [
        (b"1062", b"RtdInterval=10", "30..3600"),
        (b"1064", b"MinInterval=7", "1, 2, 3"),
        (b"1000", b"OverTime=0;ReCount=3", "1..99"),
        (b"1012", b"SystemTime=20161301000000", "not a time"),
        (b"3016", b"PolId=w01018;CstartTime=250000;Ctime=2", "hhmmss"),
        (b"1062", b"Bogus=1", "does not take"),
    ],
)
def test_out_of_range_parameters_are_rejected(cn: bytes, cp: bytes, detail: str) -> None:
    # Lenient decoding lets a malformed time through to the typed layer.
    packet = decode_frame(command(cn, cp), LENIENT).packet
    with pytest.raises(ProtocolError) as caught:
        interpret(packet)
    assert caught.value.code == "bad_cp"
    assert detail in caught.value.message_en


def test_data_upload_without_data_time_is_not_data() -> None:
    packet = decode_frame(command(b"2011", b"w01018-Rtd=1.0")).packet
    message = interpret(packet)
    # Without DataTime a 2011 is the platform's "start real-time data" request.
    assert isinstance(message, Command)
    assert message.factor_params == {"w01018-Rtd": "1.0"}


def test_unknown_suffixes_and_unreadable_numbers_are_kept_as_text() -> None:
    packet = decode_frame(
        command(b"2061", b"DataTime=20160801080000;a21026-Avg=N/A,a21026-ZsCou=1.2,a21026-Flag=P"),
        LENIENT,
    ).packet
    message = interpret(packet)
    assert isinstance(message, DataUpload)
    so2 = message.values["a21026"]
    assert so2.avg is None
    assert so2.extra == (("Avg", "N/A"), ("ZsCou", "1.2"))
    assert so2.flag == "P"
    assert interpret(to_packet(message)) == message


@pytest.mark.parametrize(
    ("cn", "cp", "code", "detail"),
    [
        (b"1062", b"", "missing_field", "needs parameter RtdInterval"),
        (b"1000", b"OverTime=5", "missing_field", "needs parameter ReCount"),
        (b"2061", b"BeginTime=20160801080000", "missing_field", "needs parameter EndTime"),
        (b"9011", b"", "missing_field", "needs parameter QnRtn"),
        (b"1000", b"OverTime=5;ReCount=3;PolId=w01018", "bad_cp", "does not take parameter PolId"),
        (b"3011", b"PolId=w01018;NewPW=123456", "bad_cp", "does not take parameter NewPW"),
    ],
)
def test_each_command_takes_its_own_parameters(
    cn: bytes, cp: bytes, code: str, detail: str
) -> None:
    packet = decode_frame(command(cn, cp)).packet
    with pytest.raises(ProtocolError) as caught:
        interpret(packet)
    assert caught.value.code == code
    assert detail in caught.value.message_en


def test_both_directions_of_a_shared_command_are_read() -> None:
    request = interpret(decode_frame(command(b"1061", b"")).packet)
    answer = interpret(decode_frame(command(b"1061", b"RtdInterval=60")).packet)
    assert isinstance(request, Command) and request.params == {}
    assert isinstance(answer, Command) and answer.params == {"RtdInterval": 60}
