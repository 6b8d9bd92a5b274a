"""Parallel logins on SQLite and PostgreSQL (issue 12 item 8): every failure
counts, the account locks, and the audit log keeps every attempt in one
unbroken chain, without a server error."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import Engine, func, select

from envwatch.audit.log import verify
from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.store.schema import AppUser, AuditEntry
from tests.electricity.test_http_batch import base_url

__all__ = ["base_url"]


def test_parallel_wrong_passwords_lock_the_account_and_lose_no_audit_entry(
    base_url: str, engine: Engine
) -> None:
    wrong = {"username": "viewer", "password": "guess-again"}

    async def attempts(count: int) -> list[int]:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            answers = await asyncio.gather(
                *(client.post("/api/v1/session", json=wrong) for _ in range(count))
            )
        return [answer.status_code for answer in answers]

    first = asyncio.run(attempts(20))
    assert set(first) <= {401, 423} and 500 not in first
    with engine.connect() as connection:
        locked_until = connection.execute(
            select(AppUser.locked_until).where(AppUser.username == "viewer")
        ).scalar_one()
    assert locked_until is not None
    again = asyncio.run(attempts(20))
    # Locked, but a wrong password learns nothing of it (a 423 would show the account).
    assert set(again) == {401}
    with engine.connect() as connection:
        entries = connection.execute(
            select(AuditEntry.action, func.count())
            .where(AuditEntry.actor == "viewer")
            .group_by(AuditEntry.action)
        ).all()
        assert verify(connection) is None
    counted = dict(entries)
    assert counted.get("auth.login_failed", 0) + counted.get("auth.login_locked", 0) == 40
    assert counted["auth.login_failed"] >= 5


def test_the_session_cookie_is_secure_behind_https_and_names_are_not_told(base_url: str) -> None:
    admin = {"username": "admin", "password": DEMO_PASSWORD}
    plain = httpx.post(f"{base_url}/api/v1/session", json=admin)
    proxied = httpx.post(f"{base_url}/api/v1/session", json=admin,
                         headers={"X-Forwarded-Proto": "https"})  # fmt: skip
    assert plain.status_code == proxied.status_code == 200
    assert "secure" not in plain.headers["set-cookie"].lower()
    assert "secure" in proxied.headers["set-cookie"].lower()
    # A wrong password answers alike for a real account and a made-up one.
    real = httpx.post(f"{base_url}/api/v1/session", json={"username": "admin", "password": "x"})
    made_up = httpx.post(f"{base_url}/api/v1/session",
                         json={"username": "nobody-here", "password": "x"})  # fmt: skip
    assert real.status_code == made_up.status_code == 401
    assert real.json() == made_up.json()
