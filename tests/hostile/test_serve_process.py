"""Hostile and broken input against a real ``envwatch serve`` process over TCP,
on SQLite and PostgreSQL (issue 12 items 1-5): one device or one peer never
stops the city's acknowledgements or processing, and a device's password
leaks through no frame, view, export or log."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, insert, select, update

from envwatch.auth.passwords import hash_password
from envwatch.auth.tokens import create_token
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.store.schema import (
    AppUser,
    ArchivedFrame,
    AuditEntry,
    FindingRecord,
    MonitoringPoint,
    Outlet,
    PermitLimit,
    ProcessingCursor,
)
from tests.gateway.helpers import register, upload
from tests.hostile.serve import Serving, envwatch_serve, exchange

MN_ODD = "010000A8900016F000169D01"
MN_GOOD = "010000A8900016F000169D02"


def test_an_over_long_field_stops_no_one_s_acknowledgement(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    register(engine, (MN_ODD, "123456"), (MN_GOOD, "123456"))
    long_qn = "2" * 24  # lenient decoding takes it; the archive's column holds 20

    async def traffic(port: int) -> tuple[list[str | None], list[str | None]]:
        odd = exchange(port, [upload(MN_ODD, long_qn, hour=h) for h in range(10)], 10)
        good = exchange(port, [upload(MN_GOOD, f"2026112910000{h:04d}", hour=h)
                               for h in range(10)], 10)  # fmt: skip
        odd_answers, good_answers = await asyncio.gather(odd, good)
        return [a.packet.qn for a in odd_answers], [a.packet.qn for a in good_answers]

    with envwatch_serve(database_url, tmp_path) as serving:
        odd_qns, good_qns = asyncio.run(traffic(serving.hj212_port))
    assert good_qns == [f"2026112910000{h:04d}" for h in range(10)]
    # The odd device is answered too, with its own QN, and its data are stored.
    assert odd_qns == [long_qn] * 10
    with engine.connect() as connection:
        stored = connection.execute(
            select(ArchivedFrame.qn, ArchivedFrame.verdict, ArchivedFrame.warnings).where(
                ArchivedFrame.mn == MN_ODD
            )
        ).all()
    assert {(qn, verdict) for qn, verdict, _ in stored} == {("2" * 20, "accepted")}
    assert all("field_too_long" in warnings for *_, warnings in stored)


def rejected_rows(engine: Engine) -> tuple[int, int]:
    """Rejected records archived and the bytes they hold."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(ArchivedFrame.raw).where(ArchivedFrame.verdict == "rejected")
        ).all()
    return len(rows), sum(len(row.raw) for row in rows)


async def send_until_closed(port: int, chunk: bytes, times: int) -> int:
    """Send ``chunk`` up to ``times`` times; how many went before the gateway hung up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    try:
        for _ in range(times):
            writer.write(chunk)
            await writer.drain()
            sent += 1
            await asyncio.sleep(0.05)
            if reader.at_eof():
                break
    except ConnectionError:
        pass
    finally:
        writer.close()
    return sent


async def closed_at_once(port: int) -> bool:
    """Whether the gateway closes a new connection without a word."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await asyncio.wait_for(reader.read(1), 5) == b""
    except ConnectionError:
        return True
    finally:
        writer.close()


def test_unauthenticated_floods_cost_a_bounded_archive_and_get_the_peer_refused(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    register(engine, (MN_GOOD, "123456"))
    budget = {"peer_rejected_bytes_per_min": 200_000, "peer_rejected_records_per_min": 50,
              "peer_ban_s": 60, "rejected_sample_bytes": 256}  # fmt: skip

    async def attack(port: int) -> tuple[int, bool]:
        await send_until_closed(port, b"##" * 32768, 10)
        await send_until_closed(port, b"##0000\r\n" * 8192, 10)  # an error every 8 bytes
        endless = await send_until_closed(port, b"x" * 65536, 200)  # 13 MB, never a frame end
        return endless, await closed_at_once(port)

    with envwatch_serve(database_url, tmp_path, **budget) as serving:
        endless, refused = asyncio.run(attack(serving.hj212_port))
        log = serving.log_text()
    # Hung up on within the minute's budget, and refused after, not after the whole flood.
    assert endless < 200 and refused
    assert log.count("peers over their rejected-input budget started") == 1
    records, stored = rejected_rows(engine)
    # A constant per peer per minute: records within the budget, each a bounded sample.
    assert records <= 50 and stored <= 50 * 256


def test_slow_senders_idle_slots_and_descriptors_cannot_lock_loggers_or_the_web_out(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    import httpx  # noqa: PLC0415

    register(engine, (MN_GOOD, "123456"))
    limits = {"frame_deadline_s": 1.0, "max_connections_per_peer": 4, "max_connections": 10**6,
              "descriptor_reserve": 200, "overload_quiet_s": 30}  # fmt: skip

    async def scenario(serving: Serving) -> tuple[bool, bool, bool, int]:
        port = serving.hj212_port
        # Slowloris: one byte at a time, each within the idle timeout.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        frame = upload(MN_GOOD, "20261129100000001")
        slow_closed = False
        for byte in frame[:40]:
            try:
                writer.write(bytes([byte]))
                await writer.drain()
            except ConnectionError:
                slow_closed = True
                break
            await asyncio.sleep(0.1)
            if reader.at_eof():
                slow_closed = True
                break
        writer.close()
        # Four slots for this address: a fifth is refused at once, the web answers meanwhile.
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(4)]
        fifth_refused = await closed_at_once(port)
        async with httpx.AsyncClient() as client:
            health = await client.get(serving.base_url + "/healthz", timeout=10)
        for _, held_writer in held:
            held_writer.close()
        await asyncio.sleep(0.2)
        answered = await exchange(port, [frame], 1)
        return slow_closed, fifth_refused, health.status_code == 200, len(answered)

    with envwatch_serve(database_url, tmp_path, **limits) as serving:
        slow_closed, fifth_refused, web_ok, answered = asyncio.run(scenario(serving))
        log = serving.log_text()
    assert slow_closed and fifth_refused and web_ok and answered == 1
    assert log.count("refused_peer_connections started") == 1
    assert "Traceback" not in log


def add_limit(engine: Engine, *mns: str) -> None:
    """Put ``mns`` (registered by ``register``) on an outlet with an SO2 limit of 35."""
    with engine.begin() as connection:
        connection.execute(insert(Outlet).values(id=1, enterprise_id=1, code="DA001",
                                                 name="1号排口", kind="air"))  # fmt: skip
        connection.execute(update(MonitoringPoint).where(MonitoringPoint.mn.in_(mns))
                           .values(outlet_id=1))  # fmt: skip
        connection.execute(insert(PermitLimit).values(
            enterprise_id=1, outlet_id=1, pollutant="a21026", limit_value=35.0, unit="mg/m³",
            reference_o2=6.0, basis="GB 13223-2011", valid_from=datetime(2020, 1, 1)))  # fmt: skip


def rules_found(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        return {tuple(row) for row in connection.execute(  # type: ignore[misc]
            select(FindingRecord.rule, FindingRecord.mn))}  # fmt: skip


def test_an_upload_dated_year_one_stops_no_finding_anywhere(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    register(engine, (MN_ODD, "123456"), (MN_GOOD, "123456"))
    add_limit(engine, MN_ODD, MN_GOOD)
    now = datetime.now(CHINA_STANDARD_TIME).replace(minute=0, second=0, microsecond=0)
    hour = (now - timedelta(hours=1)).strftime("%Y%m%d%H%M%S")

    async def traffic(port: int) -> None:
        poison = upload(MN_ODD, "20261129100000001", data_time="00010101000000", so2="900")
        await exchange(port, [poison], 1)
        await exchange(port, [upload(MN_GOOD, "20261129100000002", data_time=hour, so2="200")], 1)

    with envwatch_serve(database_url, tmp_path) as serving:
        asyncio.run(traffic(serving.hj212_port))
        deadline = time.monotonic() + 30
        while ("exceedance", MN_GOOD) not in rules_found(engine) and time.monotonic() < deadline:
            time.sleep(0.2)
    found = rules_found(engine)
    # The other device's exceedance is found after the poison, which is a finding of its own.
    assert ("exceedance", MN_GOOD) in found
    assert ("implausible_data_time", MN_ODD) in found
    assert ("exceedance", MN_ODD) not in found
    with engine.connect() as connection:
        cursor = connection.execute(select(ProcessingCursor.last_frame_id)).scalar()
        newest = connection.execute(select(func.max(ArchivedFrame.id))).scalar()
    assert cursor == newest


def test_a_device_password_shows_nowhere_but_to_an_administrator_who_asks(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    secret = "Zq7pW2x9"
    register(engine, (MN_GOOD, secret))
    with engine.begin() as connection:
        connection.execute(insert(AppUser).values(
            username="admin", display_name="管理员", role="city_admin", active=True,
            password_hash=hash_password("admin-password-1"), failed_logins=0))  # fmt: skip
    _, token = create_token(engine, "reader", ["read"])

    async def traffic(port: int) -> None:
        mine = [upload(MN_GOOD, f"2026112910000000{hour}", pw=secret, hour=hour)
                for hour in (10, 11)]  # fmt: skip
        await exchange(port, mine, 2)
        # A wrong password is refused (and archived as such), unanswered.
        await exchange(port, [upload(MN_GOOD, "20261129100000003", pw="wrong-pw")], 0)

    with envwatch_serve(database_url, tmp_path) as serving:
        asyncio.run(traffic(serving.hj212_port))
        reader = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=serving.base_url, headers=reader, timeout=30) as api:
            frames = api.get(f"/api/v1/points/{MN_GOOD}/frames")
            assert frames.status_code == 200 and len(frames.json()["items"]) >= 3
            point = api.get(f"/api/v1/registry/points/{MN_GOOD}")
            assert point.status_code == 200 and point.json()["pw"] is None
            shown = frames.text + point.text
            assert api.get(f"/api/v1/points/{MN_GOOD}/frames?reveal_passwords=1").status_code == 403
        with httpx.Client(base_url=serving.base_url, timeout=30) as admin:
            login = {"username": "admin", "password": "admin-password-1"}
            opened = admin.post("/api/v1/session", json=login)
            csrf = opened.json()["csrf"]
            write = {"X-CSRF-Token": csrf}
            started = admin.post("/api/v1/registry/exports?format=json", headers=write)
            export = admin.get(str(wait_for_job(admin, started.json()["href"])["file"]))
            shown += export.text + admin.get(f"/api/v1/registry/points/{MN_GOOD}").text
            asked = admin.get(f"/api/v1/registry/points/{MN_GOOD}?reveal_secrets=1")
            assert asked.json()["pw"] == secret  # asked for: and on record
        log = serving.log_text()
    assert secret not in shown, shown[max(0, shown.find(secret) - 300) : shown.find(secret) + 50]
    assert base64.b64encode(secret.encode()).decode()[:8] not in shown
    assert secret not in log and secret.encode().hex() not in log
    with engine.connect() as connection:
        audited = set(connection.execute(select(AuditEntry.action)).scalars())
    assert {"registry.export", "registry.point.reveal_secrets"} <= audited


def wait_for_job(client: httpx.Client, href: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job: dict[str, object] = client.get(href).json()
        if job["state"] in {"done", "failed"}:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {href} did not finish")
