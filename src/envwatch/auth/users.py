"""People using envwatch and their roles (issue 6 adds passwords and
sessions): a county officer covers one or more counties, an enterprise user
one enterprise, a contractor user the devices its operation contractor runs
(``auth/contractors.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from envwatch.alerts.scope import UserScope, viewer_of
from envwatch.alerts.workflow import ROLES_ZH
from envwatch.audit.log import Actor, record
from envwatch.errors import PeerError
from envwatch.store.schema import AppUser, Contractor, County, Enterprise

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


def add_user(connection: Connection, user: NewUser, actor: Actor) -> int:
    """Store ``user`` after checking role and scope; its id."""
    if not user.username or len(user.username) > 64:
        raise UserError("bad_username", "a username of 1 to 64 characters is required",
                        "用户名须为1至64个字符")  # fmt: skip
    if user.role not in ROLES:
        raise UserError("unknown_role", f"unknown role {user.role!r} (known: {', '.join(ROLES)})",
                        f"未知角色“{user.role}”")  # fmt: skip
    if user.role == "county_officer":
        if not user.counties:
            raise UserError("counties_required", "a county officer needs at least one county",
                            "区县监管人员须指定至少一个区县")  # fmt: skip
        known = set(connection.execute(select(County.code)).scalars())
        unknown = [code for code in user.counties if code not in known]
        if unknown:
            raise UserError("unknown_county", f"unknown county {unknown[0]!r}",
                            f"未知区县“{unknown[0]}”")  # fmt: skip
    if user.role == "contractor":
        registered = select(Contractor.id).where(Contractor.id == user.contractor_id)
        if user.contractor_id is None or connection.execute(registered).first() is None:
            raise UserError("contractor_required",
                            "a contractor user needs a known operation contractor (--contractor)",
                            "运维单位用户须指定已登记的运维单位")  # fmt: skip
    elif user.contractor_id is not None:
        raise UserError("contractor_for_contractors", "only contractor users have a contractor",
                        "只有运维单位用户才能指定运维单位")  # fmt: skip
    needs_enterprise = user.role == "enterprise_user"
    known_enterprise = (
        user.enterprise_id is not None
        and connection.execute(
            select(Enterprise.id).where(Enterprise.id == user.enterprise_id)
        ).first()
        is not None
    )
    if needs_enterprise and not known_enterprise:
        raise UserError("enterprise_required", "an enterprise user needs a known enterprise",
                        "企业用户须指定已登记的企业")  # fmt: skip
    if user.enterprise_id is not None and not known_enterprise:
        raise UserError("unknown_enterprise", f"no enterprise {user.enterprise_id}",
                        f"没有编号为{user.enterprise_id}的企业")  # fmt: skip
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


def actor_of(connection: Connection, username: str, peer: str) -> Actor:
    """The active user ``username`` as an actor, or UserError."""
    return person_of(connection, username, peer)[0]


def person_of(connection: Connection, username: str, peer: str) -> tuple[Actor, UserScope]:
    """The active user ``username`` as an actor and as a Viewer of the scope
    rule, or UserError."""
    row = connection.execute(
        select(AppUser).where(AppUser.username == username, AppUser.active.is_(True))
    ).first()
    if row is None:
        raise UserError("unknown_user", f"no active user {username!r}",
                        f"没有有效用户“{username}”")  # fmt: skip
    return Actor(row.username, row.role, peer), viewer_of(row)
