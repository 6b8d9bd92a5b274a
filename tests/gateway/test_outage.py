"""A database that is locked or unreachable: no acknowledgement, no crash, and
the gateway resumes once the database is back (the loggers' resends get stored)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from envwatch.gateway.committer import GroupCommitter
from envwatch.gateway.server import Gateway, load_devices
from envwatch.hj212 import DecodedFrame, Decoder
from envwatch.settings import Settings
from envwatch.store.archive import Archive
from envwatch.store.db import make_engine
from envwatch.store.schema import ArchivedFrame
from tests.gateway.helpers import register, upload

MN = "010000A8900016F000169DC1"


async def answer(reader: asyncio.StreamReader, seconds: float) -> DecodedFrame | None:
    decoder = Decoder()
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            data = await asyncio.wait_for(reader.read(4096), left)
        except TimeoutError:
            return None
        for item in decoder.feed(data):
            if isinstance(item, DecodedFrame):
                return item
    return None


async def exchange(
    engine: Engine, outage: Any
) -> tuple[DecodedFrame | None, DecodedFrame | None, Any]:
    committer = GroupCommitter(Archive(engine).write_batch)
    committer.start()
    # Off the event loop: the PostgreSQL relay below runs on it.
    devices = await asyncio.to_thread(load_devices, engine)
    gateway = Gateway(Settings(database_url="unused"), committer, devices)
    await gateway.start("127.0.0.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    frame = upload(MN, "20261129100000001")
    try:
        await outage.begin()
        writer.write(frame)
        during = await answer(reader, 2.0)
        await outage.end()
        writer.write(frame)  # the logger resends
        after = await answer(reader, 10.0)
    finally:
        writer.close()
        await gateway.stop()
        await committer.close()
    return during, after, gateway.counts


class SqliteLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self.connection: sqlite3.Connection | None = None

    async def begin(self) -> None:
        self.connection = sqlite3.connect(self.path, isolation_level=None)
        self.connection.execute("BEGIN EXCLUSIVE")

    async def end(self) -> None:
        assert self.connection is not None
        self.connection.execute("ROLLBACK")
        self.connection.close()


def test_a_locked_sqlite_database(sqlite_url: str) -> None:
    setup = make_engine(sqlite_url)
    register(setup, (MN, "123456"))
    setup.dispose()
    engine = make_engine(sqlite_url, busy_timeout=0.2)
    path = make_url(sqlite_url).database
    assert path is not None
    during, after, counts = asyncio.run(exchange(engine, SqliteLock(path)))
    assert during is None, "nothing may be acknowledged while the database is locked"
    assert counts["unacknowledged"] >= 1
    assert after is not None and after.packet.cn == "9014"
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(ArchivedFrame)).scalar()
    assert stored == 1
    engine.dispose()


class Proxy:
    """A TCP relay to PostgreSQL that can be cut (connections dropped, new ones refused)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.port = 0
        self.links: set[asyncio.StreamWriter] = set()

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", port)
        self.port = int(self.server.sockets[0].getsockname()[1])

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        self.links |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    async def begin(self) -> None:
        assert self.server is not None
        self.server.close()
        for link in self.links:
            link.transport.abort()
        self.links.clear()
        await self.server.wait_closed()

    async def end(self) -> None:
        await self.start(self.port)


def test_an_unreachable_postgresql(postgres_url: str) -> None:
    setup = make_engine(postgres_url)
    register(setup, (MN, "123456"))
    setup.dispose()
    url = make_url(postgres_url)

    async def scenario() -> tuple[Any, Any, Any]:
        proxy = Proxy(url.port or 5432)
        await proxy.start()
        engine = make_engine(
            url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        )
        try:
            return await exchange(engine, proxy)
        finally:
            engine.dispose()
            await proxy.begin()

    during, after, counts = asyncio.run(scenario())
    assert during is None
    assert counts["unacknowledged"] >= 1
    assert after is not None and after.packet.cn == "9014"
    check = make_engine(postgres_url)
    with check.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ArchivedFrame)).scalar() == 1
    check.dispose()
