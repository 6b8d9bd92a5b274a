"""A real ``envwatch serve`` process (gateway, processing and web) for the
hostile-input tests, with settings given as ENVWATCH_* variables."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from envwatch.hj212 import DecodedFrame, DecodeOptions, Decoder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Serving:
    hj212_port: int
    http_port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"envwatch serve ended: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("envwatch serve did not start listening")


@contextmanager
def envwatch_serve(database_url: str, log_dir: Path, **settings: object) -> Iterator[Serving]:
    """``envwatch serve`` on free ports until the block ends (then SIGTERM)."""
    serving = Serving(free_port(), free_port(), log_dir / "serve.log")
    env = {**os.environ, **{f"ENVWATCH_{k.upper()}": str(v) for k, v in settings.items()}}
    with serving.log.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "envwatch", "serve", "--db", database_url,
             "--hj212", f"127.0.0.1:{serving.hj212_port}",
             "--http", f"127.0.0.1:{serving.http_port}"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_for(serving.hj212_port, process, serving.log)
            _wait_for(serving.http_port, process, serving.log)
            yield serving
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def exchange(port: int, frames: list[bytes], answers: int) -> list[DecodedFrame]:
    """Send ``frames`` on one connection and read ``answers`` answers (10 s at most)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    decoder = Decoder(DecodeOptions(lenient=True))
    got: list[DecodedFrame] = []
    try:
        writer.write(b"".join(frames))
        await writer.drain()
        while len(got) < answers:
            data = await asyncio.wait_for(reader.read(4096), 10)
            if not data:
                break
            got += [item for item in decoder.feed(data) if isinstance(item, DecodedFrame)]
    finally:
        writer.close()
    return got
