"""Nothing acknowledged is lost when the gateway process is killed (SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from envwatch.hj212 import DecodedFrame, Decoder
from envwatch.store.archive import verify
from envwatch.store.schema import ArchivedFrame, Measurement
from tests.gateway.helpers import register, upload

LOGGERS = 50
START = datetime(2026, 1, 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gateway(database_url: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "envwatch", "gateway", "--db", database_url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("gateway did not start")


def hour_text(number: int) -> str:
    return (START + timedelta(hours=number)).strftime("%Y%m%d%H%M%S")


async def logger(mn: str, port: int, acked: list[tuple[str, str]], stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    decoder = Decoder()
    number = 0
    try:
        while not stop.is_set():
            number += 1
            qn = f"20261129{number:09d}"
            writer.write(upload(mn, qn, data_time=hour_text(number), so2=str(number)))
            await writer.drain()
            answer: list[DecodedFrame] = []
            while not answer:
                data = await reader.read(4096)
                if not data:
                    return
                answer = [item for item in decoder.feed(data) if isinstance(item, DecodedFrame)]
            assert answer[0].packet.qn == qn
            acked.append((mn, qn))
    except ConnectionError:
        return
    finally:
        writer.close()


def test_kill_9_loses_nothing_acknowledged(engine: Engine, database_url: str) -> None:
    mns = [f"010000A8900016F00016{n:04d}" for n in range(LOGGERS)]
    register(engine, *[(mn, "123456") for mn in mns])
    port = free_port()
    gateway = start_gateway(database_url, port)
    acked: list[tuple[str, str]] = []

    async def traffic() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(logger(mn, port, acked, stop)) for mn in mns]
        await asyncio.sleep(1.5)
        os.kill(gateway.pid, signal.SIGKILL)  # mid-traffic, no warning
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(traffic())
    gateway.wait(timeout=10)
    assert len(acked) > LOGGERS, "the loggers should have been acknowledged many times"

    restarted = start_gateway(database_url, port)
    try:
        with engine.connect() as connection:
            stored = Counter(
                tuple(row)
                for row in connection.execute(
                    select(ArchivedFrame.mn, ArchivedFrame.qn).where(
                        ArchivedFrame.verdict == "accepted"
                    )
                )
            )
            measured = connection.execute(select(Measurement.mn, Measurement.avg)).all()
        missing = [pair for pair in acked if pair not in stored]
        assert missing == []
        # Each acknowledged upload's SO2 value (its number) was measured exactly once.
        so2 = [
            (mn, value)
            for mn, value in measured
            if value is not None and value >= 1 and value != 9.8
        ]
        assert len(so2) == len(set(so2))
        assert verify(engine).broken == ()
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)
