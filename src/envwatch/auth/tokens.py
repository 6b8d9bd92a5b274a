"""Bearer tokens of machine clients: made, checked and revoked.

A token is ``ew_`` plus 43 URL-safe characters (256 random bits). Only its
SHA-256 is stored, so a copy of the database gives no usable token; a plain
hash suffices (unlike passwords) because the token is random, not chosen.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy import Engine, select, update

from envwatch.store.schema import ApiToken

TOKEN_PREFIX: Final = "ew_"
SCOPES: Final = MappingProxyType(
    {
        "electricity:write": ("upload electricity meter readings", "上传用电监控数据"),
        "read": ("read every GET of /api/v1 (never a page, never a change)",
                 "读取 /api/v1 的全部查询接口（不含页面与任何修改）"),
    }
)  # fmt: skip
READ_SCOPE: Final = "read"


class UnknownScopeError(ValueError):
    def __init__(self, scope: str) -> None:
        super().__init__(f"unknown scope {scope!r}; known: {', '.join(sorted(SCOPES))}")


@dataclass(frozen=True, slots=True)
class Client:
    """The machine client a valid token names."""

    token_id: int
    name: str
    scopes: frozenset[str]
    enterprise_id: int | None


@dataclass(frozen=True, slots=True)
class TokenReader:
    """A read token as a Viewer of the scope rule: bound to an enterprise it
    sees that enterprise as its enterprise user would; unbound it is a
    city-wide read-only viewer. It is never a person, so it changes nothing."""

    token_id: int
    name: str
    enterprise_id: int | None
    contractor_id: None = None

    @property
    def role(self) -> str:
        return "viewer" if self.enterprise_id is None else "enterprise_user"

    @property
    def counties(self) -> set[str]:
        return set()

    @property
    def username(self) -> str:
        return f"token:{self.token_id}:{self.name}"


def reader_of(client: Client) -> TokenReader | None:
    """The read principal of ``client``, or None when its token lacks the read scope."""
    if READ_SCOPE not in client.scopes:
        return None
    return TokenReader(client.token_id, client.name, client.enterprise_id)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    engine: Engine, name: str, scopes: Iterable[str], enterprise_id: int | None = None
) -> tuple[int, str]:
    """A new token for ``name``: its id and the token (shown only now)."""
    wanted = sorted(set(scopes))
    for scope in wanted:
        if scope not in SCOPES:
            raise UnknownScopeError(scope)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as connection:
        token_id = connection.execute(
            ApiToken.__table__.insert().returning(ApiToken.id),  # type: ignore[attr-defined]
            {
                "name": name,
                "token_hash": token_hash(token),
                "scopes": " ".join(wanted),
                "enterprise_id": enterprise_id,
                "created_at": datetime.now(UTC),
            },
        ).scalar_one()
    return int(token_id), token


def authenticate(engine: Engine, token: str) -> Client | None:
    """The client of ``token``, or None for an unknown or revoked one."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with engine.connect() as connection:
        row = connection.execute(
            select(ApiToken.id, ApiToken.name, ApiToken.scopes, ApiToken.enterprise_id).where(
                ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None)
            )
        ).first()
    if row is None:
        return None
    return Client(row.id, row.name, frozenset(row.scopes.split()), row.enterprise_id)


def revoke_token(engine: Engine, token_id: int) -> bool:
    """Revoke token ``token_id``; False when there is no such live token."""
    with engine.begin() as connection:
        result = connection.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return bool(result.rowcount)


def list_tokens(engine: Engine) -> list[dict[str, Any]]:
    """Every token's record (never the token: it is not stored)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                ApiToken.id,
                ApiToken.name,
                ApiToken.scopes,
                ApiToken.enterprise_id,
                ApiToken.created_at,
                ApiToken.revoked_at,
            ).order_by(ApiToken.id)
        ).all()
    return [dict(row._mapping) for row in rows]
