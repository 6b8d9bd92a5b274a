"""Login sessions for people: a random token in a cookie (only its SHA-256 is
stored), a CSRF token per session, and a lockout after repeated failures."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, update

from envwatch.audit.log import Actor, record
from envwatch.auth.passwords import hash_password, verify_password
from envwatch.errors import PeerError
from envwatch.store.schema import AppUser, WebSession
from envwatch.times import as_utc

# [I] defaults: 5 failures lock an account for 15 minutes; a session lasts 8 hours.
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_digest(token: str) -> str:
    """How a session token is stored (and so told apart from the others)."""
    return _digest(token)


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
"""Checked against when no such user exists, so a login takes as long either way."""


def login(
    connection: Connection, username: str, password: str, peer: str, now: datetime | None = None
) -> tuple[str, str]:
    """A new session's (token, CSRF token), or LoginError."""
    now = now or datetime.now(UTC)
    if "\x00" in username:
        # No user name holds a NUL (PostgreSQL text cannot): a wrong name.
        raise LoginError("bad_credentials", "wrong user name or password", "用户名或密码错误")
    user = connection.execute(
        select(AppUser).where(AppUser.username == username, AppUser.active.is_(True))
    ).first()
    # The same work whether the name exists or not: no account shows by timing.
    right = verify_password(password, user.password_hash if user is not None else _DUMMY_HASH)
    locked_until = as_utc(user.locked_until) if user is not None else None
    if user is not None and locked_until is not None and locked_until > now:
        record(connection, Actor(username, user.role, peer), "auth.login_locked", "user", user.id)
        if not right:
            # Only the right password learns of the lock: a 423 shows no account's existence.
            raise LoginError("bad_credentials", "wrong user name or password",
                             "用户名或密码错误")  # fmt: skip
        raise LoginError("locked", f"too many failed logins: locked until {locked_until:%H:%M} UTC",
                         "登录失败次数过多，账号已暂时锁定，请稍后再试")  # fmt: skip
    if user is None or not right:
        if user is not None:
            # Counted in the database, not from what this request read: parallel
            # attempts each count.
            failures = connection.execute(
                update(AppUser).where(AppUser.id == user.id)
                .values(failed_logins=AppUser.failed_logins + 1)
                .returning(AppUser.failed_logins)
            ).scalar_one()  # fmt: skip
            if failures >= MAX_FAILURES:
                locked = {"failed_logins": 0, "locked_until": now + LOCKOUT}
                connection.execute(update(AppUser).where(AppUser.id == user.id).values(**locked))
            record(connection, Actor(username, user.role, peer), "auth.login_failed", "user",
                   user.id, after={"failures": failures})  # fmt: skip
        raise LoginError("bad_credentials", "wrong user name or password", "用户名或密码错误")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    connection.execute(
        update(AppUser).where(AppUser.id == user.id).values(failed_logins=0, locked_until=None)
    )
    connection.execute(insert(WebSession).values(
        token_hash=_digest(token), user_id=user.id, csrf=csrf, peer=peer[:100],
        created_at=now, expires_at=now + SESSION_LIFETIME))  # fmt: skip
    record(connection, Actor(user.username, user.role, peer), "auth.login", "user", user.id)
    return token, csrf


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


def attempt_login(engine: Engine, username: str, password: str, peer: str) -> tuple[str, str]:
    """``login`` in a transaction of its own that commits a failure's count and
    audit entry before the LoginError leaves."""
    refused: LoginError | None = None
    with engine.begin() as connection:
        try:
            return login(connection, username, password, peer)
        except LoginError as error:
            refused = error
    raise refused
