"""The account pages: everyone's own account (and password change), and the
city administrators' user list, where accounts are added, deactivated,
unlocked and given new passwords. Every change is a POST with the session's
CSRF token and goes to the audit log (``auth/users.py``)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from envwatch.alerts.workflow import ROLES_ZH
from envwatch.audit.log import Actor
from envwatch.auth.sessions import SessionUser, session_digest
from envwatch.auth.users import (
    ROLES,
    NewUser,
    UserError,
    add_user,
    change_own_password,
    set_password,
    unlock_user,
    update_user,
)
from envwatch.store.schema import MAX_ID, AppUser, Contractor, County, Enterprise
from envwatch.web.api_users import user_public
from envwatch.web.i18n import language, translator
from envwatch.web.people import SESSION_COOKIE, csrf_ok, current_user, peer_of
from envwatch.web.rendering import database, form, not_found, render

router = APIRouter()


def _message(error: UserError, lang: str) -> str:
    return error.message_zh if lang == "zh" else error.message_en


@router.get("/account", response_class=HTMLResponse, response_model=None)
async def account_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return await _account(request, user)


async def _account(
    request: Request, user: SessionUser, status: int = 200, error: str = "", done: str = ""
) -> HTMLResponse:
    def read() -> Any:
        with database(request).connect() as connection:
            return connection.execute(select(AppUser).where(AppUser.id == user.id)).first()

    row = await asyncio.to_thread(read)
    return render(request, "account.html", user, status=status, me=user_public(row),
                  roles=ROLES_ZH, error=error, done=done)  # fmt: skip


@router.post("/account/password", response_model=None)
async def account_password(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    fields = await form(request)
    words = translator(language(request))
    if not csrf_ok(user, fields.get("csrf")):
        return await _account(request, user, 403, words["csrf_failed"])
    if fields.get("new", "") != fields.get("confirm", ""):
        return await _account(request, user, 422, words["us_mismatch"])
    actor = Actor(user.username, user.role, peer_of(request))
    session = session_digest(request.cookies.get(SESSION_COOKIE, ""))

    passwords = (fields.get("current", ""), fields.get("new", ""))
    try:
        await asyncio.to_thread(
            change_own_password, database(request), user.id, passwords, actor, session
        )
    except UserError as error:
        return await _account(request, user, 422, _message(error, language(request)))
    return await _account(request, user, done=words["us_password_changed"])


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and int(text) <= MAX_ID else None


@router.get("/users", response_class=HTMLResponse, response_model=None)
async def users_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return await _users(request, user)


async def _users(
    request: Request, user: SessionUser, status: int = 200, error: str = ""
) -> HTMLResponse:
    if user.role != "city_admin":
        return not_found(request, user)
    role = request.query_params.get("role") or None
    words = request.query_params.get("q") or None

    def read() -> dict[str, Any]:
        query = select(AppUser).order_by(AppUser.username)
        if role in ROLES:
            query = query.where(AppUser.role == role)
        if words:
            # PostgreSQL text holds no NUL: control characters are no search.
            needle = "".join(ch for ch in words[:64] if ch >= " ")
            query = query.where(
                AppUser.username.contains(needle, autoescape=True)
                | AppUser.display_name.contains(needle, autoescape=True)
            )
        with database(request).connect() as connection:
            rows = connection.execute(query.limit(500)).all()
            counties = dict(connection.execute(select(County.code, County.name_zh)).all())
            enterprises = dict(connection.execute(select(Enterprise.id, Enterprise.name)).all())
            contractors = dict(connection.execute(select(Contractor.id, Contractor.name)).all())
        return {"accounts": [user_public(row) for row in rows], "counties": counties,
                "enterprises": enterprises, "contractors": contractors}  # fmt: skip

    data = await asyncio.to_thread(read)
    return render(request, "users.html", user, status=status, roles=ROLES_ZH, role=role or "",
                  q=words or "", error=error, done=request.query_params.get("done", ""),
                  **data)  # fmt: skip


async def _admin_change(
    request: Request,
) -> tuple[SessionUser | None, dict[str, str], Response | None]:
    """The administrator behind a change of the user list, its form, or the
    answer when there is none (not logged in, not an administrator, no CSRF)."""
    user = await current_user(request)
    if user is None:
        return None, {}, RedirectResponse("/login", status_code=303)
    fields = await form(request)
    if user.role != "city_admin":
        return user, fields, not_found(request, user)
    if not csrf_ok(user, fields.get("csrf")):
        words = translator(language(request))
        return user, fields, await _users(request, user, 403, words["csrf_failed"])
    return user, fields, None


def _done(request: Request, what: str) -> RedirectResponse:
    lang = language(request)
    return RedirectResponse(f"/users?done={quote(what)}&lang={lang}", status_code=303)


@router.post("/users", response_model=None)
async def users_add(request: Request) -> Response:
    user, fields, answer = await _admin_change(request)
    if answer is not None or user is None:
        return answer or RedirectResponse("/login", status_code=303)
    actor = Actor(user.username, user.role, peer_of(request))
    counties = [code.strip() for code in fields.get("counties", "").split(",") if code.strip()]
    new = NewUser(fields.get("username", "").strip(), fields.get("display_name", "").strip(),
                  fields.get("role", ""), counties, _int(fields.get("enterprise_id")),
                  fields.get("email") or None, _int(fields.get("contractor_id")))  # fmt: skip
    password = fields.get("password", "")

    def write() -> None:
        with database(request).begin() as connection:
            user_id = add_user(connection, new, actor)
            if password:
                set_password(connection, user_id, password, actor)

    try:
        await asyncio.to_thread(write)
    except UserError as error:
        return await _users(request, user, 422, _message(error, language(request)))
    return _done(request, new.username)


@router.post("/users/{user_id}", response_model=None)
async def users_change(request: Request, user_id: int) -> Response:
    """One of: deactivate, activate, unlock, password (with ``password``)."""
    user, fields, answer = await _admin_change(request)
    if answer is not None or user is None:
        return answer or RedirectResponse("/login", status_code=303)
    actor = Actor(user.username, user.role, peer_of(request))
    action = fields.get("action", "")

    def write() -> None:
        with database(request).begin() as connection:
            if action in {"deactivate", "activate"}:
                update_user(connection, user_id, {"active": action == "activate"}, actor)
            elif action == "unlock":
                unlock_user(connection, user_id, actor)
            elif action == "password":
                set_password(connection, user_id, fields.get("password", ""), actor)
            else:
                raise UserError("unknown_action", f"unknown action {action!r}",
                                f"未知操作“{action}”")  # fmt: skip

    try:
        await asyncio.to_thread(write)
    except UserError as error:
        return await _users(request, user, 422, _message(error, language(request)))
    return _done(request, f"#{user_id} {action}")
