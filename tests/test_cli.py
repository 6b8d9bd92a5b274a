"""The ``envwatch hj212`` command-line contract, run as a real process."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import Any

import pytest

from envwatch.cli.hj212 import decode_stream
from envwatch.cli.serve import for_simulated_loggers
from envwatch.hj212 import DecodeOptions
from envwatch.settings import Settings
from tests.hj212.conftest import EXAMPLES, EXAMPLES_FILE, MALFORMED, WELL_FORMED

STREAM = b"".join(example.frame for example in EXAMPLES)


def run(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "envwatch", *args],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=60,
    )


def json_lines(output: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.decode("utf-8").splitlines()]


def test_decode_follows_the_contract_on_the_examples_file() -> None:
    assert EXAMPLES_FILE.exists()
    result = run(["hj212", "decode"], STREAM)
    assert result.returncode == 1, "three examples are malformed as printed"
    objects = json_lines(result.stdout)
    assert len(objects) == len(EXAMPLES)
    for example, obj in zip(EXAMPLES, objects, strict=True):
        if example.malformed:
            assert obj["ok"] is False
            assert set(obj["error"]) >= {"code", "message"}
            continue
        assert set(obj) == {"ok", "crc", "version", "header", "cp", "warnings"}
        assert obj["ok"] is True
        assert obj["crc"] == example.frame[-6:-2].decode()
        assert obj["version"] == "2017"
        assert list(obj["header"]) == ["QN", "ST", "CN", "PW", "MN", "Flag", "PNO", "PNUM"]
        assert obj["warnings"] == []
        assert "pollutants" in obj["cp"]
        values = [v for v in obj["header"].values() if v is not None]
        values += [v for k, v in obj["cp"].items() if k != "pollutants"]
        values += [v for items in obj["cp"]["pollutants"].values() for v in items.values()]
        assert all(isinstance(v, str) and v.encode() in example.frame for v in values)


def test_decode_appendix_a_exactly() -> None:
    result = run(["hj212", "decode"], EXAMPLES[0].frame)
    assert result.returncode == 0
    (obj,) = json_lines(result.stdout)
    assert obj == {
        "ok": True,
        "crc": "1C80",
        "version": "2017",
        "header": {
            "QN": "20160801085857223",
            "ST": "32",
            "CN": "1062",
            "PW": "100000",
            "MN": "010000A8900016F000169DC0",
            "Flag": "5",
            "PNO": None,
            "PNUM": None,
        },
        "cp": {"RtdInterval": "30", "pollutants": {}},
        "warnings": [],
    }


def test_pollutants_are_grouped_by_code() -> None:
    c14 = next(e for e in EXAMPLES if e.table == "C.14")
    (obj,) = json_lines(run(["hj212", "decode"], c14.frame).stdout)
    assert obj["cp"]["DataTime"] == "20160801085857"
    assert obj["cp"]["pollutants"]["w01001"] == {"Rtd": "7.1", "Flag": "N"}


def test_lenient_decodes_every_example_with_warnings_for_the_malformed() -> None:
    result = run(["hj212", "decode", "--lenient"], STREAM)
    assert result.returncode == 0
    objects = json_lines(result.stdout)
    assert all(obj["ok"] for obj in objects)
    warned = [obj for obj in objects if obj["warnings"]]
    assert len(warned) == len(MALFORMED)
    assert {w["code"] for obj in warned for w in obj["warnings"]} == {
        "missing_separator",
        "comma_separator",
        "whitespace",
    }


def test_errors_are_reported_and_set_the_exit_status() -> None:
    bad = EXAMPLES[0].frame[:-6] + b"0000\r\n"
    result = run(["hj212", "decode"], b"junk" + bad + EXAMPLES[0].frame)
    assert result.returncode == 1
    objects = json_lines(result.stdout)
    assert [o["ok"] for o in objects] == [False, False, True]
    assert [o["error"]["code"] for o in objects[:2]] == ["garbage", "crc_mismatch"]
    assert "1C80" in objects[1]["error"]["message"]


class Trickle(io.RawIOBase):
    """A stdin that hands out a few bytes per read, like a slow pipe."""

    def __init__(self, data: bytes, size: int) -> None:
        self._data = data
        self._size = size

    def readable(self) -> bool:
        return True

    def read1(self, n: int = -1) -> bytes:
        chunk, self._data = self._data[: self._size], self._data[self._size :]
        return chunk


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_any_chunking_of_stdin_gives_the_same_output(size: int) -> None:
    whole = io.StringIO()
    decode_stream(io.BytesIO(STREAM), whole, DecodeOptions(lenient=True))
    chunked = io.StringIO()
    decode_stream(Trickle(STREAM, size), chunked, DecodeOptions(lenient=True))  # type: ignore[arg-type]
    assert chunked.getvalue() == whole.getvalue()


def test_encode_reverses_decode_byte_for_byte() -> None:
    # C.14 holds "01018-Rtd" inside the w01018 group; JSON groups items by code,
    # so that one frame re-encodes with the same items in another grouping.
    stream = b"".join(example.frame for example in WELL_FORMED if example.table != "C.14")
    decoded = run(["hj212", "decode"], stream)
    assert decoded.returncode == 0
    encoded = run(["hj212", "encode"], decoded.stdout)
    assert encoded.returncode == 0
    assert encoded.stdout == stream


def test_encode_reports_bad_lines_by_number() -> None:
    good = run(["hj212", "decode"], EXAMPLES[0].frame).stdout
    result = run(["hj212", "encode"], good + b'{"header": {}}\nnot json\n')
    assert result.returncode == 1
    assert result.stdout == EXAMPLES[0].frame
    assert b"line 2: " in result.stderr and b"CN" in result.stderr
    assert b"line 3: " in result.stderr


def test_encode_refuses_values_the_frame_cannot_carry() -> None:
    obj = json_lines(run(["hj212", "decode"], EXAMPLES[0].frame).stdout)[0]
    obj["cp"]["RtdInterval"] = "30;CN=9999"
    result = run(["hj212", "encode"], json.dumps(obj).encode() + b"\n")
    assert result.returncode == 1
    assert result.stdout == b""
    assert b"separator" in result.stderr


def test_the_simulated_city_is_not_banned_for_its_own_scripted_faults() -> None:
    # The demo's hundreds of loggers share 127.0.0.1: a production budget per
    # address (and its ban) would stop the whole city; other settings stay.
    production = Settings(peer_rejected_records_per_min=120, peer_ban_s=300.0)
    demo = for_simulated_loggers(production)
    assert demo.peer_rejected_records_per_min >= 1_000_000
    assert demo.peer_rejected_bytes_per_min >= 1 << 30
    assert demo.max_connections_per_peer >= 100_000
    assert production.peer_rejected_records_per_min == 120
    unchanged = {"peer_rejected_records_per_min", "peer_rejected_bytes_per_min",
                 "max_connections_per_peer"}  # fmt: skip
    assert {k: v for k, v in demo.model_dump().items() if k not in unchanged} == {
        k: v for k, v in production.model_dump().items() if k not in unchanged
    }
