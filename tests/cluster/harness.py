"""Processes of a cluster on this machine, and loggers that resend until
answered (as real dataloggers do), for the cluster tests and bench/cluster.py."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from envwatch.hj212 import DecodedFrame, Decoder, Packet, encode_packet

START = datetime(2026, 1, 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def find_nats_server() -> str | None:
    return shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server") if Path(p).exists()), None
    )


@dataclass
class NatsServer:
    """``nats-server -js -p PORT -sd DIR``: same port and store across restarts."""

    binary: str
    store: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None


def role_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ENVWATCH_CLUSTER_LEASE_TTL_S": "2",
            "ENVWATCH_CLUSTER_PARTITIONS": "4",
            "ENVWATCH_CLUSTER_PUBLISH_TIMEOUT_S": "1",
            "ENVWATCH_REGISTRY_REFRESH_S": "3600",
            "ENVWATCH_CLUSTER_STOP_GRACE_S": "3",
        }
    )
    env.update(extra or {})
    return env


def start_role(
    role: str,
    nats_url: str,
    db: str,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """``envwatch gateway|writer|worker --nats URL --db URL`` as a child process."""
    command = [sys.executable, "-m", "envwatch", role, "--nats", nats_url, "--db", db]
    if port is not None:
        command += ["--port", str(port)]
    if log is None:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=role_env(env)
        )
    else:
        with open(log, "ab") as output:  # the child keeps its own descriptor
            process = subprocess.Popen(command, stdout=output, stderr=output, env=role_env(env))
    if port is not None:
        wait_port(port)
    return process


def kill_9(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes], grace: float = 20.0) -> bool:
    """SIGTERM, as a rolling restart does; whether it stopped within ``grace``
    (if not, its threads' stacks go to its log (SIGUSR1) and it is killed)."""
    if process.poll() is not None:
        return True
    process.terminate()
    try:
        process.wait(timeout=grace)
        return True
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGUSR1)
        time.sleep(0.5)
        process.kill()
        process.wait()
        return False


def hour_text(number: int) -> str:
    return (START + timedelta(hours=number)).strftime("%Y%m%d%H%M%S")


def upload(mn: str, number: int, so2: str) -> tuple[str, bytes]:
    """Hourly upload ``number`` of ``mn`` asking for an answer; its QN and bytes."""
    qn = f"20261129{number:09d}"
    frame = encode_packet(
        Packet.from_groups(
            "2061", qn=qn, st="31", pw="123456", mn=mn, flag="5",
            cp=(
                (("DataTime", hour_text(number)),),
                (("a21026-Avg", so2), ("a21026-Flag", "N")),
                (("a19001-Avg", "9.8"), ("a19001-Flag", "N")),
            ),
        )
    )  # fmt: skip
    return qn, frame


@dataclass
class Acks:
    """What the loggers had acknowledged, and when (monotonic time)."""

    acked: list[tuple[str, str, float]] = field(default_factory=list)
    resends: int = 0


async def logger(
    mn: str, ports: list[int], first: int, acks: Acks, stop: asyncio.Event, *,
    faulty: bool, answer_timeout: float = 1.5,
) -> None:  # fmt: skip
    """Send hourly uploads one at a time; resend each until it is answered,
    reconnecting to the next gateway when one fails (a logger's failover)."""
    number = 0
    which = first
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    decoder = Decoder()
    pending: tuple[str, bytes] | None = None
    try:
        while not stop.is_set():
            if pending is None:
                number += 1
                # A faulty analyser reads negative every 7th hour (a finding each).
                value = "-1.5" if faulty and number % 7 == 0 else str(10 + number % 5)
                pending = upload(mn, number, value)
            qn, frame = pending
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection("127.0.0.1", ports[which % len(ports)]), 2
                    )
                    decoder = Decoder()
                assert reader is not None and writer is not None
                writer.write(frame)
                await writer.drain()
                deadline = asyncio.get_running_loop().time() + answer_timeout
                answered = False
                while not answered:
                    left = deadline - asyncio.get_running_loop().time()
                    if left <= 0:
                        raise TimeoutError
                    data = await asyncio.wait_for(reader.read(4096), left)
                    if not data:
                        raise ConnectionError("closed")
                    answered = any(
                        isinstance(item, DecodedFrame) and item.packet.qn == qn
                        for item in decoder.feed(data)
                    )
                acks.acked.append((mn, qn, time.monotonic()))
                pending = None
            except (OSError, TimeoutError, ConnectionError):
                acks.resends += 1
                if writer is not None:
                    writer.close()
                writer = None
                which += 1
                await asyncio.sleep(0.1)
    finally:
        if writer is not None:
            writer.close()
