"""Login sessions for people: a random token in a cookie (only its SHA-256 is
stored), a CSRF token per session, and lockouts after repeated failures
(per account and address, per address, per account: ``auth/throttle.py``)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, insert, select, update

from envwatch.audit.log import Actor, record
from envwatch.auth.passwords import hash_password, verify_password
from envwatch.auth.throttle import (
    ANY_ACCOUNT,
    ANY_ADDRESS,
    LoginPolicy,
    locked,
    lockout_for,
    trusted,
)
from envwatch.errors import PeerError
from envwatch.store.db import dialect_insert
from envwatch.store.schema import AppUser, LoginThrottle, WebSession
from envwatch.times import as_utc

# [I] a session lasts 8 hours (lockouts: ``auth/throttle.py``).
SESSION_LIFETIME = timedelta(hours=8)


class LoginError(PeerError):
    """A refused login: wrong name or password (never saying which), or locked."""


@dataclass(frozen=True, slots=True)
class SessionUser:
    id: int
    username: str
    display_name: str
    role: str
    county_codes: str
    enterprise_id: int | None
    csrf: str
    contractor_id: int | None = None
    """The operation contractor of a contractor user: its devices are the user's scope."""

    @property
    def counties(self) -> set[str]:
        return {code for code in self.county_codes.split(",") if code}


def active_user(connection: Connection, username: str) -> Any:
    """The active user named ``username`` (their ``app_user`` row), or None."""
    return connection.execute(
        select(AppUser).where(AppUser.username == username, AppUser.active.is_(True))
    ).first()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_digest(token: str) -> str:
    """How a session token is stored (and so told apart from the others)."""
    return _digest(token)


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
"""Checked against when no such user exists, so a login takes as long either way."""


def _throttle_row(connection: Connection, user_id: int, peer: str) -> Any:
    """The row of (``user_id``, ``peer``), made if missing."""
    connection.execute(
        dialect_insert(connection, LoginThrottle)
        .values(user_id=user_id, peer=peer, failures=0, lockouts=0)
        .on_conflict_do_nothing()
    )
    return connection.execute(
        select(LoginThrottle).where(LoginThrottle.user_id == user_id, LoginThrottle.peer == peer)
    ).one()


def _count_failure(
    connection: Connection, user_id: int, peer: str, *, limit: int, now: datetime,
    policy: LoginPolicy,
) -> datetime | None:  # fmt: skip
    """Count a failure on the row, in the database (parallel attempts each
    count; a run older than the window starts over); lock it at ``limit``.
    When it locked, until when."""
    _throttle_row(connection, user_id, peer)
    row = (LoginThrottle.user_id == user_id) & (LoginThrottle.peer == peer)
    stale = LoginThrottle.first_failure_at.is_(None) | (
        LoginThrottle.first_failure_at < now - policy.window
    )
    failures, lockouts = connection.execute(
        update(LoginThrottle).where(row).values(
            failures=case((stale, 1), else_=LoginThrottle.failures + 1),
            first_failure_at=case((stale, now), else_=LoginThrottle.first_failure_at),
        ).returning(LoginThrottle.failures, LoginThrottle.lockouts)
    ).one()  # fmt: skip
    if failures < limit:
        return None
    until = now + lockout_for(lockouts + 1, policy)
    connection.execute(update(LoginThrottle).where(row).values(
        failures=0, first_failure_at=None, lockouts=lockouts + 1, locked_until=until))  # fmt: skip
    return until


def login(
    connection: Connection,
    username: str,
    password: str,
    peer: str,
    now: datetime | None = None,
    *,
    policy: LoginPolicy | None = None,
) -> tuple[str, str]:
    """A new session's (token, CSRF token), or LoginError: ``bad_credentials``,
    ``locked`` (only ever told to the right password) or ``throttled`` (the
    address tried too many; ``auth/throttle.py``)."""
    now = now or datetime.now(UTC)
    policy = policy or LoginPolicy()
    peer = peer[:100]
    if "\x00" in username:
        # No user name holds a NUL (PostgreSQL text cannot): a wrong name.
        raise LoginError("bad_credentials", "wrong user name or password", "用户名或密码错误")
    user = active_user(connection, username)
    pair = _throttle_row(connection, user.id, peer) if user is not None else None
    known_here = pair is not None and trusted(as_utc(pair.last_success_at), now, policy)
    address = _throttle_row(connection, ANY_ACCOUNT, peer)
    if locked(as_utc(address.locked_until), now) and not known_here:
        record(connection, Actor(username, user.role if user else "", peer),
               "auth.login_throttled", "address", peer)  # fmt: skip
        raise LoginError("throttled", "too many failed logins from this address: try later",
                         "该地址登录失败次数过多，请稍后再试")  # fmt: skip
    # The same work whether the name exists or not: no account shows by timing.
    right = verify_password(password, user.password_hash if user is not None else _DUMMY_HASH)
    if user is not None and pair is not None:
        # Locked for this address, or for the account where this address is not
        # trusted: another address's failures never lock out a trusted one.
        lock = as_utc(pair.locked_until)
        if not locked(lock, now) and not known_here:
            lock = as_utc(_throttle_row(connection, user.id, ANY_ADDRESS).locked_until)
        if locked(lock, now):
            assert lock is not None
            record(connection, Actor(username, user.role, peer), "auth.login_locked", "user",
                   user.id)  # fmt: skip
            if not right:
                # Only the right password learns of the lock: a 423 shows no account.
                raise LoginError("bad_credentials", "wrong user name or password",
                                 "用户名或密码错误")  # fmt: skip
            raise LoginError("locked", f"too many failed logins: locked until {lock:%H:%M} UTC",
                             "登录失败次数过多，账号已暂时锁定，请稍后再试")  # fmt: skip
    if user is None or not right:
        _count_failure(connection, ANY_ACCOUNT, peer, limit=policy.failures_per_address,
                       now=now, policy=policy)  # fmt: skip
        if user is not None:
            locks = [_count_failure(connection, user.id, peer,
                                    limit=policy.failures_per_account_and_address, now=now,
                                    policy=policy)]  # fmt: skip
            if not known_here:
                locks.append(_count_failure(connection, user.id, ANY_ADDRESS,
                                            limit=policy.failures_per_account, now=now,
                                            policy=policy))  # fmt: skip
            failures = connection.execute(
                update(AppUser).where(AppUser.id == user.id)
                .values(failed_logins=AppUser.failed_logins + 1)
                .returning(AppUser.failed_logins)
            ).scalar_one()  # fmt: skip
            until = max((lock for lock in locks if lock is not None), default=None)
            if until is not None:  # shown to administrators, who may end it
                connection.execute(update(AppUser).where(AppUser.id == user.id)
                                   .values(locked_until=until))  # fmt: skip
            record(connection, Actor(username, user.role, peer), "auth.login_failed", "user",
                   user.id, after={"failures": failures})  # fmt: skip
        raise LoginError("bad_credentials", "wrong user name or password", "用户名或密码错误")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    connection.execute(
        update(AppUser).where(AppUser.id == user.id).values(failed_logins=0, locked_until=None)
    )
    connection.execute(
        update(LoginThrottle)
        .where(LoginThrottle.user_id == user.id, LoginThrottle.peer == peer)
        .values(failures=0, first_failure_at=None, lockouts=0, locked_until=None,
                last_success_at=now)
    )  # fmt: skip
    connection.execute(insert(WebSession).values(
        token_hash=_digest(token), user_id=user.id, csrf=csrf, peer=peer,
        created_at=now, expires_at=now + SESSION_LIFETIME))  # fmt: skip
    record(connection, Actor(user.username, user.role, peer), "auth.login", "user", user.id)
    return token, csrf


def end_lockouts(connection: Connection, user_id: int) -> None:
    """Forget an account's failed logins and lockouts, from every address."""
    connection.execute(
        update(AppUser).where(AppUser.id == user_id).values(failed_logins=0, locked_until=None)
    )
    connection.execute(
        update(LoginThrottle)
        .where(LoginThrottle.user_id == user_id)
        .values(failures=0, first_failure_at=None, lockouts=0, locked_until=None)
    )


def session_user(
    connection: Connection, token: str | None, now: datetime | None = None
) -> SessionUser | None:
    """The user of a live session token, or None."""
    if not token:
        return None
    now = now or datetime.now(UTC)
    row = connection.execute(
        select(AppUser, WebSession.csrf, WebSession.expires_at)
        .join(WebSession, WebSession.user_id == AppUser.id)
        .where(WebSession.token_hash == _digest(token), AppUser.active.is_(True))
    ).first()
    expires = as_utc(row.expires_at) if row is not None else None
    if row is None or expires is None or expires <= now:
        return None
    return SessionUser(row.id, row.username, row.display_name, row.role, row.county_codes,
                       row.enterprise_id, row.csrf, row.contractor_id)  # fmt: skip


def logout(connection: Connection, token: str) -> None:
    connection.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def check_csrf(user: SessionUser, sent: str | None) -> bool:
    return sent is not None and secrets.compare_digest(user.csrf, sent)


def attempt_login(
    engine: Engine, username: str, password: str, peer: str, policy: LoginPolicy | None = None
) -> tuple[str, str]:
    """``login`` in a transaction of its own that commits a failure's count and
    audit entry before the LoginError leaves."""
    refused: LoginError | None = None
    with engine.begin() as connection:
        try:
            return login(connection, username, password, peer, policy=policy)
        except LoginError as error:
            refused = error
    raise refused
