"""Parallel logins on SQLite and PostgreSQL (issue 12 item 8): every failure
counts, the account locks, and the audit log keeps every attempt in one
unbroken chain, without a server error."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import Engine, func, select

from envwatch.audit.log import verify
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
    assert set(again) == {423}
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
