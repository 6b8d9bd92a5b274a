"""Who is asking: the login session behind a request (cookie), for pages and
for the API; CSRF checks on every change."""

from __future__ import annotations

import asyncio

from fastapi import Request

from envwatch.auth.sessions import SessionUser, check_csrf, session_user
from envwatch.web.errors import ApiError

SESSION_COOKIE = "envwatch_session"
CSRF_HEADER = "X-CSRF-Token"


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


async def api_user(request: Request) -> SessionUser:
    """The logged-in user of an API request (401 without a live session)."""
    user = await current_user(request)
    if user is None:
        raise ApiError(401, "unauthenticated", "log in first (POST /api/v1/session)", "请先登录")
    return user
