"""Who is asking: the login session behind a request (cookie), for pages and
for the API; a read token (``Authorization: Bearer``) for the API's GETs
only; CSRF checks on every change."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

from fastapi import Request, Response

from envwatch.auth.sessions import SessionUser, check_csrf, session_user
from envwatch.auth.throttle import LoginPolicy
from envwatch.auth.tokens import TokenReader, authenticate, reader_of
from envwatch.settings import get_settings
from envwatch.web.errors import ApiError

SESSION_COOKIE = "envwatch_session"
CSRF_HEADER = "X-CSRF-Token"
READ_METHODS = frozenset({"GET", "HEAD"})

Principal = SessionUser | TokenReader
"""Whoever an API read is for: a person, or a read token (both Viewers)."""


def login_policy() -> LoginPolicy:
    """The lockouts of failed logins, as configured."""
    settings = get_settings()
    return LoginPolicy(
        failures_per_account_and_address=settings.login_failures_per_account_and_address,
        failures_per_address=settings.login_failures_per_address,
        failures_per_account=settings.login_failures_per_account,
        lockout=timedelta(seconds=settings.login_lockout_s),
        longest_lockout=timedelta(seconds=settings.login_longest_lockout_s),
        trusted_for=timedelta(days=settings.login_trusted_days),
    )


def peer_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def current_user(request: Request) -> SessionUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None

    def look_up() -> SessionUser | None:
        with request.app.state.database().connect() as connection:
            return session_user(connection, token)

    return await asyncio.to_thread(look_up)


def csrf_ok(user: SessionUser, sent: str | None) -> bool:
    return check_csrf(user, sent)


def _bearer(request: Request) -> str | None:
    """The bearer token of the request, if it sends one ("" for a malformed one)."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _unauthenticated() -> ApiError:
    error = ApiError(401, "unauthenticated", "log in first (POST /api/v1/session) or send a "
                     "valid read token (Authorization: Bearer ew_...)",
                     "请先登录，或提供有效的只读访问令牌")  # fmt: skip
    error.headers["WWW-Authenticate"] = "Bearer"
    return error


async def api_user(request: Request) -> Principal:
    """Who an API request is for: the logged-in person, or, for a GET, the
    reader of a bearer token with the ``read`` scope. A token never changes
    anything (403 ``token_read_only``: changes need a person, and CSRF)."""
    bearer = _bearer(request)
    if bearer is None:
        user = await current_user(request)
        if user is None:
            raise _unauthenticated()
        return user
    client = (
        await asyncio.to_thread(authenticate, request.app.state.database(), bearer)
        if bearer
        else None
    )
    if client is None:
        raise _unauthenticated()
    if request.method not in READ_METHODS:
        raise ApiError(403, "token_read_only", "a token may only read: changes need a person "
                       "logged in (session and X-CSRF-Token)",
                       "访问令牌只能读取；修改须由登录人员操作（会话及CSRF令牌）")  # fmt: skip
    reader = reader_of(client)
    if reader is None:
        raise ApiError(403, "insufficient_scope", "this token lacks the read scope",
                       "该访问令牌没有读取权限（read）")  # fmt: skip
    return reader


async def api_person(request: Request) -> SessionUser:
    """The logged-in person behind an API change (a token gets 403 ``token_read_only``)."""
    principal = await api_user(request)
    if not isinstance(principal, SessionUser):
        # A GET reaching a person-only resource with a token.
        raise ApiError(403, "person_required", "this needs a person logged in, not a token",
                       "此操作须由登录人员进行，访问令牌不可用")  # fmt: skip
    return principal


def _secure(request: Request) -> bool:
    """Whether cookies get the Secure flag: when served over HTTPS (directly,
    or behind a proxy that says so) or when configured so (``ENVWATCH_COOKIE_SECURE``)."""
    configured = get_settings().cookie_secure
    https = request.url.scheme == "https" or (
        request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() == "https"
    )
    return https if configured is None else configured


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure as ``_secure`` says."""
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=_secure(request))  # fmt: skip


LOGIN_CSRF_COOKIE = "envwatch_login_csrf"
LOGIN_CSRF_FIELD = "login_csrf"


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def set_login_csrf_cookie(request: Request, response: Response, token: str) -> None:
    """A login form's CSRF token, also as a cookie (double submit): another
    site can post a login form, but cannot read or set this cookie, so it
    cannot log a browser into an account of the attacker's choosing."""
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure(request), path="/login", max_age=12 * 3600)  # fmt: skip


def login_csrf_ok(request: Request, sent: str | None) -> bool:
    kept = request.cookies.get(LOGIN_CSRF_COOKIE)
    return bool(kept) and sent is not None and secrets.compare_digest(kept or "", sent)
