"""The command-line contract other tools rely on: registry export, data export,
tokens, and ``serve`` running gateway and web together (real processes, real
SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine

from envwatch.demo.seed import seed_demo
from envwatch.hj212 import DecodedFrame, Decoder
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from tests.gateway.helpers import register, upload


def envwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envwatch", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_registry_export_follows_the_contract(database_url: str, engine: Engine) -> None:
    seed_demo(engine)
    done = envwatch("registry", "export", "--db", database_url)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document) == {"points", "meters"}
    point = document["points"][0]
    assert {"mn", "pw", "st", "version", "enterprise", "county", "pollutants"} <= set(point)
    assert {p["pw"] for p in document["points"]} == {None}  # unless asked for
    asked = envwatch("registry", "export", "--db", database_url, "--passwords")
    assert asked.returncode == 0, asked.stderr
    passwords = [p["pw"] for p in json.loads(asked.stdout)["points"]]
    assert passwords and all(isinstance(pw, str) and len(pw) >= 6 for pw in passwords)
    limited = [
        pollutant
        for point in document["points"]
        for pollutant in point["pollutants"]
        if pollutant["limit"] is not None
    ]
    assert limited and set(limited[0]) == {"code", "unit", "limit"}
    # SO2 of a coal power plant: the ultra-low emission limit of the demo city.
    power = next(p for p in document["points"] if "热电" in p["enterprise"])
    so2 = next(p for p in power["pollutants"] if p["code"] == "a21026")
    assert so2 == {"code": "a21026", "unit": "mg/m³", "limit": 35.0}
    meter = document["meters"][0]
    assert {"id", "name", "kind", "mn", "enterprise", "county"} <= set(meter)
    assert len(document["meters"]) > 100


def test_data_export_prints_one_line_per_upload(database_url: str, engine: Engine) -> None:
    register(engine, ("MN1", "123456"))
    ten = datetime(2026, 11, 29, 10, 0)

    def frame(cn: str, rows: tuple[MeasurementRow, ...]) -> ReceivedFrame:
        return ReceivedFrame(datetime.now(UTC), "p", b"##", "accepted", mn="MN1", cn=cn,
                             measurements=rows)  # fmt: skip

    Archive(engine).write_batch(
        [
            frame("2011", (MeasurementRow("MN1", "2011", ten, "a21026", rtd=12.3, flag="N"),
                           MeasurementRow("MN1", "2011", ten, "a19001", rtd=9.8))),
            frame("2061", (MeasurementRow("MN1", "2061", ten, "a21026", avg=11.0, min=9.0,
                                          max=13.5, flag="N"),)),
        ]
    )  # fmt: skip
    done = envwatch("data", "export", "--db", database_url, "--mn", "MN1")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines == [
        {"mn": "MN1", "cn": "2011", "data_time": "2026-11-29T10:00:00+08:00",
         "values": {"a19001": {"Rtd": 9.8}, "a21026": {"Rtd": 12.3, "Flag": "N"}}},
        {"mn": "MN1", "cn": "2061", "data_time": "2026-11-29T10:00:00+08:00",
         "values": {"a21026": {"Avg": 11.0, "Min": 9.0, "Max": 13.5, "Flag": "N"}}},
    ]  # fmt: skip
    only = envwatch("data", "export", "--db", database_url, "--mn", "MN1", "--cn", "2061")
    assert [json.loads(line)["cn"] for line in only.stdout.splitlines()] == ["2061"]


def test_tokens_are_made_listed_and_revoked(database_url: str, engine: Engine) -> None:
    made = envwatch("token", "create", "--db", database_url, "--name", "采集器",
                    "--scope", "electricity:write")  # fmt: skip
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert created["token"].startswith("ew_") and len(created["token"]) > 40
    listed = [
        json.loads(line)
        for line in envwatch("token", "list", "--db", database_url).stdout.splitlines()
    ]
    assert [(t["id"], t["name"], t["revoked_at"]) for t in listed] == [
        (created["id"], "采集器", None)
    ]
    assert created["token"] not in json.dumps(listed)
    assert envwatch("token", "revoke", "--db", database_url, str(created["id"])).returncode == 0
    assert envwatch("token", "revoke", "--db", database_url, str(created["id"])).returncode == 1
    bad = envwatch("token", "create", "--db", database_url, "--name", "x", "--scope", "root")
    assert bad.returncode == 2 and "unknown scope" in bad.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited early"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def test_serve_runs_gateway_and_web_together(database_url: str, engine: Engine) -> None:
    register(engine, ("010000A8900016F000169DC1", "123456"))
    hj212, http = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "envwatch", "serve", "--db", database_url,
         "--hj212", f"127.0.0.1:{hj212}", "--http", f"127.0.0.1:{http}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(hj212, process)
        wait_for(http, process)
        assert httpx.get(f"http://127.0.0.1:{http}/healthz").json()["status"] == "ok"
        with socket.create_connection(("127.0.0.1", hj212), timeout=10) as logger:
            logger.sendall(upload("010000A8900016F000169DC1", "20261129100000001"))
            decoder = Decoder()
            answers: list[DecodedFrame] = []
            while not answers:
                answers = [
                    i for i in decoder.feed(logger.recv(4096)) if isinstance(i, DecodedFrame)
                ]
        assert answers[0].packet.cn == "9014"
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors.decode()
    done = envwatch("data", "export", "--db", database_url, "--mn", "010000A8900016F000169DC1")
    assert json.loads(done.stdout.splitlines()[0])["values"]["a21026"]["Avg"] == 12.5
