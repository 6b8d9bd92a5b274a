"""Online backup of the embedded SQLite database while the gateway writes,
and restore: the restored database's chains verify."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from envwatch.store.archive import verify
from envwatch.store.backup import BackupError, backup
from envwatch.store.db import make_engine, upgrade
from tests.gateway.helpers import register
from tests.gateway.test_crash import free_port, logger, start_gateway


def test_backup_while_the_gateway_writes_restores_verifiable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/live.db"
    upgrade(url)
    engine = make_engine(url)
    mns = [f"010000A8900016F00018{n:04d}" for n in range(10)]
    register(engine, *[(mn, "123456") for mn in mns])
    port = free_port()
    gateway = start_gateway(url, port)
    copies: list[Path] = []
    acked: list[tuple[str, str]] = []
    try:

        async def traffic() -> None:
            halt = asyncio.Event()
            loggers = [asyncio.create_task(logger(mn, port, acked, halt)) for mn in mns]
            for number in range(3):
                await asyncio.sleep(0.7)
                copy = tmp_path / f"backup-{number}.db"
                await asyncio.to_thread(backup, url, copy)
                copies.append(copy)
            halt.set()
            await asyncio.gather(*loggers)

        asyncio.run(traffic())
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
    assert len(acked) > 100, "the gateway was busy during the backups"
    restored = f"sqlite:///{tmp_path}/restored.db"
    result = subprocess.run(
        [sys.executable, "-m", "envwatch", "restore", str(copies[-1]), "--db", restored],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    restored_engine = make_engine(restored)
    report = verify(restored_engine)
    assert report.broken == ()
    assert 0 < report.links < verify(engine).links, "a snapshot from mid-traffic"
    for copy in copies[:-1]:
        assert verify(make_engine(f"sqlite:///{copy}")).broken == ()
    # Restoring over an existing database needs --overwrite.
    again = subprocess.run(
        [sys.executable, "-m", "envwatch", "restore", str(copies[0]), "--db", restored],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert again.returncode != 0 and "--overwrite" in again.stderr
    restored_engine.dispose()
    engine.dispose()


def test_backup_refuses_postgresql(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="pg_dump"):
        backup("postgresql+psycopg://postgres@127.0.0.1/x", tmp_path / "x.db")
