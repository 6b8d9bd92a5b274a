"""The gateway end to end over real TCP, on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from envwatch.gateway.committer import GroupCommitter
from envwatch.gateway.server import Gateway, load_devices, run_gateway
from envwatch.hj212 import DecodedFrame, Decoder, device_replies, encode_packet
from envwatch.settings import Settings
from envwatch.store.archive import Archive
from envwatch.store.schema import ArchivedFrame, Measurement
from tests.gateway.helpers import register, upload

MN1 = "010000A8900016F000169DC1"
MN2 = "010000A8900016F000169DC2"


def run(coroutine: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(coroutine(), timeout=60))


class Running:
    def __init__(self, engine: Engine, **settings: Any) -> None:
        self.settings = Settings(database_url="unused", **settings)
        self.committer = GroupCommitter(Archive(engine).write_batch)
        self.gateway = Gateway(self.settings, self.committer, load_devices(engine))

    async def __aenter__(self) -> Running:
        self.committer.start()
        await self.gateway.start("127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.gateway.stop()
        await self.committer.close()

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.gateway.port)


async def answers(reader: asyncio.StreamReader, count: int) -> list[DecodedFrame]:
    decoder = Decoder()
    frames: list[DecodedFrame] = []
    while len(frames) < count:
        data = await asyncio.wait_for(reader.read(4096), 10)
        assert data, "connection closed before the answers came"
        for item in decoder.feed(data):
            assert isinstance(item, DecodedFrame)
            frames.append(item)
    return frames


def count(engine: Engine, table: type[Any], *where: Any) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        )


def test_a_frame_is_acknowledged_after_it_is_stored(engine: Engine) -> None:
    register(engine, (MN1, "123456"))

    async def scenario() -> None:
        async with Running(engine) as running:
            reader, writer = await running.connect()
            writer.write(upload(MN1, "20261129100000001"))
            (answer,) = await answers(reader, 1)
            # The answer is out: the frame and its measurements are committed.
            assert count(engine, ArchivedFrame, ArchivedFrame.qn == "20261129100000001") == 1
            assert count(engine, Measurement, Measurement.mn == MN1) == 2
            packet = answer.packet
            assert (packet.cn, packet.qn, packet.st, packet.flag) == (
                "9014",
                "20261129100000001",
                "91",
                "4",
            )
            writer.close()

    run(scenario)


def test_resends_are_idempotent(engine: Engine) -> None:
    register(engine, (MN1, "123456"))

    async def scenario() -> None:
        async with Running(engine) as running:
            reader, writer = await running.connect()
            frame = upload(MN1, "20261129100000001")
            writer.write(frame * 3)
            assert len(await answers(reader, 3)) == 3
            writer.close()
        assert count(engine, ArchivedFrame) == 3
        assert count(engine, Measurement) == 2

    run(scenario)


def test_bad_input_is_refused_archived_and_harms_no_one(engine: Engine) -> None:
    register(engine, (MN1, "123456"), (MN2, "654321"))

    async def scenario() -> None:
        async with Running(engine) as running:
            bad_reader, bad_writer = await running.connect()
            good_reader, good_writer = await running.connect()
            bad_crc = upload(MN2, "20261129100000009", pw="654321")[:-6] + b"0000\r\n"
            bad_writer.write(
                b"\x00garbage"
                + upload("UNKNOWN00000000000000000", "20261129100000002")
                + upload(MN2, "20261129100000003", pw="wrong!")
                + bad_crc
                + b"##9999" + b"x" * 100
            )  # fmt: skip
            await bad_writer.drain()
            for hour in range(10):
                good_writer.write(upload(MN1, f"2026112910000010{hour}", hour=hour))
            assert len(await answers(good_reader, 10)) == 10
            bad_writer.close()
            await bad_writer.wait_closed()
            # The bad connection got no answer at all.
            assert await bad_reader.read() == b""
            good_writer.close()
        codes = {
            row[0]
            for row in _rows(
                engine, select(ArchivedFrame.error_code).where(ArchivedFrame.verdict == "rejected")
            )
        }
        assert codes >= {
            "garbage",
            "unknown_mn",
            "wrong_password",
            "crc_mismatch",
            "frame_too_long",
        }
        assert count(engine, Measurement, Measurement.mn == MN1) == 20
        assert count(engine, Measurement, Measurement.mn == MN2) == 0

    run(scenario)


def _rows(engine: Engine, query: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(query))


def test_a_strict_device_is_read_strictly(engine: Engine) -> None:
    register(engine, (MN1, "123456"), lenient=False)
    lf_only = upload(MN1, "20261129100000001")[:-2] + b"\n"

    async def scenario() -> None:
        async with Running(engine) as running:
            reader, writer = await running.connect()
            writer.write(lf_only + upload(MN1, "20261129100000002", hour=11))
            (answer,) = await answers(reader, 1)
            assert answer.packet.qn == "20261129100000002"
            writer.close()
        (code,) = _rows(
            engine, select(ArchivedFrame.error_code).where(ArchivedFrame.verdict == "rejected")
        )
        assert code[0] == "bad_trailer"

    run(scenario)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_idle_connection_is_closed(engine: Engine) -> None:
    async def scenario() -> None:
        async with Running(engine, idle_timeout_s=0.2) as running:
            reader, writer = await running.connect()
            assert await asyncio.wait_for(reader.read(), 5) == b""
            assert running.gateway.counts["idle_timeouts"] == 1
            writer.close()
            await writer.wait_closed()

    run(scenario)


def test_new_connections_are_initialised_when_configured(engine: Engine) -> None:
    register(engine, (MN1, "123456"))

    async def scenario() -> None:
        async with Running(engine, initialise_devices=True) as running:
            reader, writer = await running.connect()
            writer.write(upload(MN1, "20261129100000001"))
            frames = await answers(reader, 7)
            assert [f.packet.cn for f in frames] == [
                "9014", "1012", "1000", "1062", "1064", "2011", "2021",
            ]  # fmt: skip
            # The logger answers the first request; its 9011 is archived, not answered.
            answer = device_replies(frames[1].packet)[0]
            writer.write(encode_packet(answer))
            writer.write(upload(MN1, "20261129110000001", hour=11))
            (ack,) = await answers(reader, 1)
            assert ack.packet.qn == "20261129110000001"
            writer.close()
        assert count(engine, ArchivedFrame, ArchivedFrame.cn == "9011") == 1

    run(scenario)


def test_a_client_that_never_reads_is_dropped_and_harms_no_one(engine: Engine) -> None:
    register(engine, (MN1, "123456"), (MN2, "654321"))

    async def scenario() -> None:
        async with Running(
            engine,
            write_timeout_s=0.5,
            send_buffer_bytes=4096,
            device_rate_per_s=100_000,
            device_rate_burst=100_000,
        ) as running:
            # This logger floods frames asking for answers and never reads them.
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", running.gateway.port))
            _slow_reader, slow_writer = await asyncio.open_connection(sock=sock)
            flood = b"".join(
                upload(
                    MN2,
                    f"2026112910{n:07d}",
                    pw="654321",
                    data_time=f"2026{n % 12 + 1:02d}01000000",
                )
                for n in range(3000)
            )
            slow_writer.write(flood)
            good_reader, good_writer = await running.connect()
            for hour in range(5):
                good_writer.write(upload(MN1, f"2026112910000020{hour}", hour=hour))
            assert len(await answers(good_reader, 5)) == 5
            deadline = asyncio.get_running_loop().time() + 20
            while running.gateway.counts["slow_clients"] == 0:
                assert asyncio.get_running_loop().time() < deadline, (
                    f"the slow client was not dropped: {dict(running.gateway.counts)}"
                )
                await asyncio.sleep(0.1)
            good_writer.write(upload(MN1, "20261129100000299", hour=9))
            assert len(await answers(good_reader, 1)) == 1
            good_writer.close()
            slow_writer.close()

    run(scenario)


def test_a_device_over_its_rate_is_refused_beyond_its_burst(engine: Engine) -> None:
    register(engine, (MN1, "123456"))

    async def scenario() -> None:
        async with Running(engine, device_rate_per_s=0.01, device_rate_burst=5) as running:
            reader, writer = await running.connect()
            writer.write(
                b"".join(upload(MN1, f"202611291000000{n:02d}", hour=n) for n in range(10))
            )
            assert len(await answers(reader, 5)) == 5
            with pytest.raises(TimeoutError):  # no sixth answer
                await asyncio.wait_for(reader.read(4096), 1.0)
            writer.close()
            assert running.gateway.counts["rate_limited"] == 5
        assert count(engine, ArchivedFrame, ArchivedFrame.error_code == "rate_limited") == 5

    run(scenario)


def test_devices_registered_while_running_are_served(database_url: str, engine: Engine) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario() -> None:
        settings = Settings(
            database_url=database_url,
            gateway_host="127.0.0.1",
            gateway_port=port,
            registry_refresh_s=0.2,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run_gateway(settings, engine, stop=stop))
        await asyncio.sleep(0.3)
        await asyncio.to_thread(register, engine, (MN1, "123456"))
        await asyncio.sleep(0.5)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(upload(MN1, "20261129100000001"))
        (answer,) = await answers(reader, 1)
        assert answer.packet.cn == "9014"
        writer.close()
        stop.set()
        await task

    run(scenario)
