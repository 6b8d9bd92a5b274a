"""What the gateway does with each decoded item, without sockets or a database."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings

from envwatch.gateway.admission import Device, admit, connection_options, measurements_of
from envwatch.hj212 import DecodeOptions, Decoder, Packet, ProtocolVersion, frame_segment
from envwatch.hj212.model import DataUpload, interpret
from tests.gateway.helpers import upload
from tests.hj212.test_properties import DATA_UPLOAD_CNS, packets

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
MN = "010000A8900016F000169DC1"
V2017 = ProtocolVersion.HJ212_2017
DEVICES = {
    MN: Device(MN, "123456", V2017, DecodeOptions(lenient=True, version=V2017)),
    "STRICT00000000000000000A": Device(
        "STRICT00000000000000000A", "123456", V2017, DecodeOptions(version=V2017)
    ),
}


def decode(data: bytes) -> list[object]:
    return list(Decoder(connection_options()).feed(data))


def test_an_upload_of_a_registered_device_is_accepted_and_answered() -> None:
    (item,) = decode(upload(MN, "20261129100000001"))
    admission = admit(item, DEVICES, peer="p", received_at=NOW)  # type: ignore[arg-type]
    assert admission.accepted
    assert [r.cn for r in admission.replies] == ["9014"]
    rows = {row.pollutant: row for row in admission.record.measurements}
    assert rows["a21026"].avg == 12.5
    assert rows["a21026"].flag == "N"
    assert rows["a19001"].avg == 9.8


def test_unknown_mn_and_wrong_password_are_refused_with_their_code() -> None:
    (unknown,) = decode(upload("0" * 24, "20261129100000001"))
    (wrong,) = decode(upload(MN, "20261129100000001", pw="654321"))
    for item, code in ((unknown, "unknown_mn"), (wrong, "wrong_password")):
        admission = admit(item, DEVICES, peer="p", received_at=NOW)  # type: ignore[arg-type]
        assert not admission.accepted
        assert admission.record.error_code == code
        assert admission.replies == ()
        assert admission.record.measurements == ()


def test_garbage_is_chained_to_the_device_the_connection_proved_to_be() -> None:
    decoder = Decoder(connection_options())
    (garbage,) = decoder.feed(b"junk") + decoder.close()
    admission = admit(garbage, DEVICES, peer="p", received_at=NOW, connection_mn=MN)
    assert admission.record.error_code == "garbage"
    assert admission.record.raw == b"junk"
    assert admission.record.chain == MN


def test_a_strict_device_gets_its_frames_read_strictly() -> None:
    mn = "STRICT00000000000000000A"
    lf_only = upload(mn, "20261129100000001")[:-2] + b"\n"
    (item,) = decode(lf_only + b"\r\n")
    admission = admit(item, DEVICES, peer="p", received_at=NOW)  # type: ignore[arg-type]
    assert admission.record.error_code == "bad_trailer"


def test_measurements_of_2005_frames_use_2017_codes() -> None:
    frame = frame_segment(
        b"ST=32;CN=2061;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824000000;"
        b"011-Avg=231.0,011-Flag=N;B01-Cou=35.2&&"
    )
    (item,) = decode(frame)
    rows = measurements_of(item.packet, ProtocolVersion.HJT212_2005)  # type: ignore[attr-defined]
    assert {row.pollutant: (row.avg, row.cou) for row in rows} == {
        "w01018": (231.0, None),
        "w00000": (None, 35.2),
    }


def test_history_requests_and_commands_yield_no_measurements() -> None:
    request = frame_segment(
        b"QN=20160801085857223;ST=32;CN=2061;PW=123456;MN=" + MN.encode()
        + b";Flag=5;CP=&&BeginTime=20160801080000;EndTime=20160801090000&&"
    )  # fmt: skip
    (item,) = decode(request)
    assert measurements_of(item.packet, V2017) == ()  # type: ignore[attr-defined]


# Generating packets from regular expressions is slow on a busy machine: that
# is not what this test is about.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packets(cns=DATA_UPLOAD_CNS))
def test_measurements_of_agrees_with_the_typed_model(packet: Packet) -> None:
    # The gateway reads uploads with its own fast pass; the typed model is
    # the reference reading of the same text.
    message = interpret(packet, V2017)
    assert isinstance(message, DataUpload)
    rows = measurements_of(packet, V2017)
    assert {row.pollutant for row in rows} == set(message.values)
    for row in rows:
        assert row.mn == packet.mn
        assert row.cn == packet.cn
        assert row.data_time == message.data_time
        values = message.values[row.pollutant]
        for name in ("rtd", "avg", "min", "max", "cou", "zs_rtd", "zs_avg"):
            typed = getattr(values, name)
            assert getattr(row, name) == (None if typed is None else float(typed))
        assert row.flag == (None if values.flag is None else str(values.flag))
        assert row.eflag == values.eflag
