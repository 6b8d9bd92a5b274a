"""People using envwatch and their roles (issue 6 adds passwords and
sessions): a county officer covers one or more counties, an enterprise user
one enterprise, a contractor user the devices its operation contractor runs
(``auth/contractors.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from envwatch.alerts.scope import UserScope, viewer_of
from envwatch.alerts.workflow import ROLES_ZH
from envwatch.audit.log import Actor, record
from envwatch.auth.passwords import MIN_LENGTH, hash_password, verify_password
from envwatch.auth.sessions import active_user, end_lockouts
from envwatch.errors import PeerError
from envwatch.store.schema import AppUser, Contractor, County, Enterprise, WebSession

ROLES = tuple(role for role in ROLES_ZH if role != "system")


class UserError(PeerError):
    """A user record refused, with the reason."""


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    display_name: str
    role: str
    counties: Sequence[str] = ()
    enterprise_id: int | None = None
    email: str | None = None
    contractor_id: int | None = None


def _check_scope(
    connection: Connection,
    role: str,
    counties: Sequence[str],
    enterprise_id: int | None,
    contractor_id: int | None,
) -> None:
    """Refuse a role without the scope it needs, or with a scope it cannot have."""
    if role not in ROLES:
        raise UserError("unknown_role", f"unknown role {role!r} (known: {', '.join(ROLES)})",
                        f"未知角色“{role}”")  # fmt: skip
    if role == "county_officer":
        if not counties:
            raise UserError("counties_required", "a county officer needs at least one county",
                            "区县监管人员须指定至少一个区县")  # fmt: skip
        known = set(connection.execute(select(County.code)).scalars())
        unknown = [code for code in counties if code not in known]
        if unknown:
            raise UserError("unknown_county", f"unknown county {unknown[0]!r}",
                            f"未知区县“{unknown[0]}”")  # fmt: skip
    if role == "contractor":
        registered = select(Contractor.id).where(Contractor.id == contractor_id)
        if contractor_id is None or connection.execute(registered).first() is None:
            raise UserError("contractor_required",
                            "a contractor user needs a known operation contractor (--contractor)",
                            "运维单位用户须指定已登记的运维单位")  # fmt: skip
    elif contractor_id is not None:
        raise UserError("contractor_for_contractors", "only contractor users have a contractor",
                        "只有运维单位用户才能指定运维单位")  # fmt: skip
    known_enterprise = (
        enterprise_id is not None
        and connection.execute(select(Enterprise.id).where(Enterprise.id == enterprise_id)).first()
        is not None
    )
    if role == "enterprise_user" and not known_enterprise:
        raise UserError("enterprise_required", "an enterprise user needs a known enterprise",
                        "企业用户须指定已登记的企业")  # fmt: skip
    if enterprise_id is not None and not known_enterprise:
        raise UserError("unknown_enterprise", f"no enterprise {enterprise_id}",
                        f"没有编号为{enterprise_id}的企业")  # fmt: skip


def _printable(field: str, value: str | None) -> None:
    """Refuse control characters in a name or address (PostgreSQL text holds
    no NUL, and none belongs in a name)."""
    if value is not None and any(ch < " " for ch in value):
        raise UserError("bad_text", f"{field} has a control character", f"{field}含有控制字符")


def add_user(connection: Connection, user: NewUser, actor: Actor) -> int:
    """Store ``user`` after checking role and scope; its id."""
    if not user.username or len(user.username) > 64:
        raise UserError("bad_username", "a username of 1 to 64 characters is required",
                        "用户名须为1至64个字符")  # fmt: skip
    for field, value in (
        ("username", user.username),
        ("display_name", user.display_name),
        ("email", user.email),
        *(("counties", c) for c in user.counties),
    ):
        _printable(field, value)
    _check_scope(connection, user.role, user.counties, user.enterprise_id, user.contractor_id)
    if connection.execute(select(AppUser.id).where(AppUser.username == user.username)).first():
        raise UserError("duplicate_username", f"user {user.username!r} exists",
                        f"用户“{user.username}”已存在")  # fmt: skip
    values = {
        "username": user.username,
        "display_name": user.display_name or user.username,
        "role": user.role,
        "county_codes": ",".join(user.counties),
        "enterprise_id": user.enterprise_id,
        "contractor_id": user.contractor_id,
        "email": user.email,
        "active": True,
    }
    user_id = int(connection.execute(insert(AppUser).values(**values).returning(AppUser.id))
                  .scalar_one())  # fmt: skip
    record(connection, actor, "user.add", "user", user_id, after=values)
    return user_id


CHANGEABLE = frozenset(
    {"display_name", "role", "counties", "enterprise_id", "contractor_id", "email", "active"}
)


def _stored(connection: Connection, user_id: int) -> Any:
    row = connection.execute(select(AppUser).where(AppUser.id == user_id)).first()
    if row is None:
        raise UserError("unknown_user", f"no user {user_id}", f"没有编号为{user_id}的用户")
    return row


def update_user(
    connection: Connection, user_id: int, changes: Mapping[str, Any], actor: Actor
) -> None:
    """Change the fields of a user named in ``changes`` (``CHANGEABLE``; None
    clears an enterprise, contractor or e-mail), checking the role and scope
    they end with. A user made inactive, or given another role or scope, is
    logged out everywhere."""
    unknown = sorted(changes.keys() - CHANGEABLE)
    if unknown:
        raise UserError("unknown_field", f"{unknown[0]} cannot be changed", f"不能修改{unknown[0]}")
    for field in ("display_name", "email", "role"):
        _printable(field, changes.get(field))
    for code in changes.get("counties") or ():
        _printable("counties", code)
    row = _stored(connection, user_id)
    counties = list(changes.get("counties") or []) if "counties" in changes else [
        code for code in row.county_codes.split(",") if code]  # fmt: skip
    after: dict[str, Any] = {
        "display_name": changes.get("display_name") or row.display_name,
        "role": changes.get("role") or row.role,
        "county_codes": ",".join(counties),
        "enterprise_id": changes.get("enterprise_id", row.enterprise_id),
        "contractor_id": changes.get("contractor_id", row.contractor_id),
        "email": changes.get("email", row.email) or None,
        "active": row.active if changes.get("active") is None else bool(changes["active"]),
    }
    _check_scope(connection, after["role"], counties, after["enterprise_id"],
                 after["contractor_id"])  # fmt: skip
    own = row.username == actor.name
    if own and (not after["active"] or after["role"] != row.role):
        raise UserError("own_account", "administrators may not deactivate or demote themselves",
                        "管理员不能停用或降级自己的账号")  # fmt: skip
    before = {key: getattr(row, key) for key in after}
    changed = {key: value for key, value in after.items() if before[key] != value}
    if not changed:
        return
    connection.execute(update(AppUser).where(AppUser.id == user_id).values(**changed))
    if changed.keys() - {"display_name", "email"}:
        connection.execute(delete(WebSession).where(WebSession.user_id == user_id))
    record(connection, actor, "user.update", "user", user_id,
           before={key: before[key] for key in changed}, after=changed)  # fmt: skip


def set_password(
    connection: Connection, user_id: int, password: str, actor: Actor, *, keep_session: str = ""
) -> None:
    """Give a user a new password (scrypt) and unlock the account; every
    session of theirs ends but ``keep_session`` (the token hash of the one
    that asked, when people change their own)."""
    if len(password) < MIN_LENGTH:
        raise UserError("short_password", f"a password has at least {MIN_LENGTH} characters",
                        f"密码至少{MIN_LENGTH}个字符")  # fmt: skip
    _stored(connection, user_id)
    connection.execute(
        update(AppUser).where(AppUser.id == user_id)
        .values(password_hash=hash_password(password))
    )  # fmt: skip
    end_lockouts(connection, user_id)
    connection.execute(
        delete(WebSession).where(WebSession.user_id == user_id,
                                 WebSession.token_hash != keep_session)
    )  # fmt: skip
    record(connection, actor, "user.password", "user", user_id)


def change_own_password(
    engine: Engine, user_id: int, passwords: tuple[str, str], actor: Actor, session: str
) -> None:
    """A person's own change, ``passwords`` (current, new): the current one
    first. Like a failed login, a refusal is kept in the audit log in a
    transaction of its own before the UserError leaves."""
    current, new = passwords
    with engine.begin() as connection:
        row = _stored(connection, user_id)
        if verify_password(current, row.password_hash):
            set_password(connection, user_id, new, actor, keep_session=session)
            return
    with engine.begin() as connection:
        record(connection, actor, "user.password_refused", "user", user_id)
    raise UserError("bad_credentials", "the current password is wrong", "当前密码错误")


def unlock_user(connection: Connection, user_id: int, actor: Actor) -> None:
    """End a lockout after repeated failed logins."""
    _stored(connection, user_id)
    end_lockouts(connection, user_id)
    record(connection, actor, "user.unlock", "user", user_id)


def actor_of(connection: Connection, username: str, peer: str) -> Actor:
    """The active user ``username`` as an actor, or UserError."""
    return person_of(connection, username, peer)[0]


def person_of(connection: Connection, username: str, peer: str) -> tuple[Actor, UserScope]:
    """The active user ``username`` as an actor and as a Viewer of the scope
    rule, or UserError."""
    row = active_user(connection, username)
    if row is None:
        raise UserError("unknown_user", f"no active user {username!r}",
                        f"没有有效用户“{username}”")  # fmt: skip
    return Actor(row.username, row.role, peer), viewer_of(row)
