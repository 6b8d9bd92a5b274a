"""The user API: city administrators keep the accounts (add, change role or
scope, deactivate, reset a password, end a lockout); everyone sees their own
account and changes their own password. Changes need a person and the
session's CSRF token (``X-CSRF-Token``), and go to the audit log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Connection, func, or_, select

from envwatch.audit.log import Actor
from envwatch.auth.passwords import MIN_LENGTH
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
from envwatch.store.schema import MAX_ID, AppUser
from envwatch.times import as_utc
from envwatch.web.api_alerts import MAX_OFFSET
from envwatch.web.errors import ApiError, csrf_failed
from envwatch.web.people import CSRF_HEADER, SESSION_COOKIE, api_person, csrf_ok, peer_of

router = APIRouter()
UserId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]
Username = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
CountyCode = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,12}$")]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
Password = Annotated[str, Field(min_length=MIN_LENGTH, max_length=200)]
DisplayName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]
Email = Annotated[str, Field(max_length=200, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")]
# A refusal's HTTP status by its code (anything else: the payload is wrong).
USER_STATUS = {"unknown_user": 404, "duplicate_username": 409, "own_account": 409,
               "bad_credentials": 403}  # fmt: skip


class UserPublic(BaseModel):
    """An account as administrators see it (never its password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    counties: list[str]
    enterprise_id: int | None
    contractor_id: int | None
    email: str | None
    active: bool
    locked: bool = Field(description="locked after repeated failed logins, for now")


class UserList(BaseModel):
    items: list[UserPublic]
    total: int
    limit: int
    offset: int


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    display_name: DisplayName
    role: str = Field(description=f"one of {', '.join(ROLES)}")
    counties: list[CountyCode] = Field(default=[], max_length=20)
    enterprise_id: RowId | None = None
    contractor_id: RowId | None = None
    email: Email | None = None
    password: Password | None = Field(default=None, description="None: cannot log in yet")


class UserUpdate(BaseModel):
    """Only the fields sent change; ``null`` clears enterprise, contractor or e-mail."""

    model_config = ConfigDict(extra="forbid")
    display_name: DisplayName | None = None
    role: str | None = None
    counties: list[CountyCode] | None = Field(default=None, max_length=20)
    enterprise_id: RowId | None = None
    contractor_id: RowId | None = None
    email: Email | None = None
    active: bool | None = None


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Password


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current: str = Field(min_length=1, max_length=200)
    new: Password


class UserQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = Field(default=None, max_length=32, pattern=r"^[a-z_]+$")
    county: CountyCode | None = None
    active: bool | None = None
    q: str | None = Field(default=None, min_length=1, max_length=64,
                          pattern=r"^[^\x00]+$")  # fmt: skip
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


def user_public(row: Any, now: datetime | None = None) -> UserPublic:
    locked_until = as_utc(row.locked_until)
    return UserPublic(
        id=row.id, username=row.username, display_name=row.display_name, role=row.role,
        counties=[code for code in row.county_codes.split(",") if code],
        enterprise_id=row.enterprise_id, contractor_id=row.contractor_id, email=row.email,
        active=row.active,
        locked=locked_until is not None and locked_until > (now or datetime.now(UTC)),
    )  # fmt: skip


def _administrator(user: SessionUser) -> None:
    if user.role != "city_admin":
        raise ApiError(403, "forbidden", "user accounts are kept by city administrators",
                       "用户账号由市局管理员维护")  # fmt: skip


def _change(request: Request, user: SessionUser) -> Actor:
    """The actor of a change, once the CSRF token is checked."""
    if not csrf_ok(user, request.headers.get(CSRF_HEADER)):
        raise csrf_failed()
    return Actor(user.username, user.role, peer_of(request))


def _refused(error: UserError) -> ApiError:
    return ApiError(USER_STATUS.get(error.code, 422), error.code, error.message_en,
                    error.message_zh)  # fmt: skip


async def _write(request: Request, change: Callable[[Connection], int]) -> UserPublic:
    """Run ``change`` in a transaction; the account it names, as it now is."""

    def write() -> UserPublic:
        with request.app.state.database().begin() as connection:
            return _one(connection, change(connection))

    try:
        return await asyncio.to_thread(write)
    except UserError as error:
        raise _refused(error) from None


def _one(connection: Connection, user_id: int) -> UserPublic:
    row = connection.execute(select(AppUser).where(AppUser.id == user_id)).first()
    if row is None:
        raise ApiError(404, "unknown_user", f"no user {user_id}", f"没有编号为{user_id}的用户")
    return user_public(row)


@router.get("/api/v1/users")
async def list_users(
    request: Request,
    query: Annotated[UserQuery, Query()],
    user: Annotated[SessionUser, Depends(api_person)],
) -> UserList:
    """The accounts, by user name, narrowed by role, county, active and words
    of the name (city administrators only)."""
    _administrator(user)
    conditions: list[ColumnElement[bool]] = []
    if query.role is not None:
        conditions.append(AppUser.role == query.role)
    if query.county is not None:
        # county_codes is a comma-separated list: match a whole code.
        conditions.append(("," + AppUser.county_codes + ",").contains(f",{query.county},"))
    if query.active is not None:
        conditions.append(AppUser.active.is_(query.active))
    if query.q is not None:
        conditions.append(or_(AppUser.username.contains(query.q, autoescape=True),
                              AppUser.display_name.contains(query.q, autoescape=True)))  # fmt: skip

    def read() -> UserList:
        with request.app.state.database().connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(AppUser).where(*conditions)
            ).scalar_one()
            rows = connection.execute(
                select(AppUser).where(*conditions).order_by(AppUser.username)
                .limit(query.limit).offset(query.offset)
            ).all()  # fmt: skip
        return UserList(items=[user_public(row) for row in rows], total=int(total),
                        limit=query.limit, offset=query.offset)  # fmt: skip

    return await asyncio.to_thread(read)


@router.post("/api/v1/users", status_code=201)
async def create_user(
    request: Request, body: UserCreate, user: Annotated[SessionUser, Depends(api_person)]
) -> UserPublic:
    """Add an account, checked for its role's scope (a county officer's
    counties, an enterprise user's enterprise, a contractor user's contractor)."""
    _administrator(user)
    actor = _change(request, user)

    new = NewUser(body.username, body.display_name, body.role, body.counties,
                  body.enterprise_id, body.email, body.contractor_id)  # fmt: skip

    def change(connection: Connection) -> int:
        user_id = add_user(connection, new, actor)
        if body.password is not None:
            set_password(connection, user_id, body.password, actor)
        return user_id

    return await _write(request, change)


@router.patch("/api/v1/users/{user_id}")
async def change_user(
    request: Request,
    user_id: UserId,
    body: UserUpdate,
    user: Annotated[SessionUser, Depends(api_person)],
) -> UserPublic:
    """Change an account's name, role, scope, e-mail or whether it is active;
    a change of role, scope or activity logs the user out everywhere."""
    _administrator(user)
    actor = _change(request, user)
    changes = body.model_dump(exclude_unset=True)

    def change(connection: Connection) -> int:
        update_user(connection, user_id, changes, actor)
        return user_id

    return await _write(request, change)


@router.post("/api/v1/users/{user_id}/password")
async def reset_password(
    request: Request,
    user_id: UserId,
    body: PasswordReset,
    user: Annotated[SessionUser, Depends(api_person)],
) -> UserPublic:
    """Give an account a new password (which also ends its lockout and its sessions)."""
    _administrator(user)
    actor = _change(request, user)

    def change(connection: Connection) -> int:
        set_password(connection, user_id, body.password, actor)
        return user_id

    return await _write(request, change)


@router.post("/api/v1/users/{user_id}/unlock")
async def unlock(
    request: Request, user_id: UserId, user: Annotated[SessionUser, Depends(api_person)]
) -> UserPublic:
    """End the lockout that repeated failed logins put on an account."""
    _administrator(user)
    actor = _change(request, user)

    def change(connection: Connection) -> int:
        unlock_user(connection, user_id, actor)
        return user_id

    return await _write(request, change)


@router.get("/api/v1/me")
async def me(request: Request, user: Annotated[SessionUser, Depends(api_person)]) -> UserPublic:
    """The account of the person logged in."""

    def read() -> UserPublic:
        with request.app.state.database().connect() as connection:
            return _one(connection, user.id)

    return await asyncio.to_thread(read)


@router.post("/api/v1/me/password")
async def change_my_password(
    request: Request, body: PasswordChange, user: Annotated[SessionUser, Depends(api_person)]
) -> UserPublic:
    """Change one's own password, giving the current one; other sessions end."""
    actor = _change(request, user)
    session = session_digest(request.cookies.get(SESSION_COOKIE, ""))

    def write() -> UserPublic:
        engine = request.app.state.database()
        change_own_password(engine, user.id, (body.current, body.new), actor, session)
        with engine.connect() as connection:
            return _one(connection, user.id)

    try:
        return await asyncio.to_thread(write)
    except UserError as error:
        raise _refused(error) from None
