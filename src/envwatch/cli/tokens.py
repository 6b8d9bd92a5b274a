"""``envwatch token``: bearer tokens of machine clients (meter collectors, vendors,
read-only dashboards with ``--scope read``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from envwatch.auth.tokens import SCOPES, UnknownScopeError, create_token, list_tokens, revoke_token
from envwatch.cli.common import DbOption, database_url, migrated_engine
from envwatch.store.db import make_engine

token_app = typer.Typer(help="Access tokens of machine clients (API).")


@token_app.command("create")
def create_command(
    name: Annotated[str, typer.Option("--name", help="Who the token is for.")],
    scope: Annotated[
        list[str], typer.Option("--scope", help=f"What it may do: {', '.join(SCOPES)}.")
    ],
    enterprise: Annotated[
        int | None, typer.Option("--enterprise", help="Limit it to this enterprise's data.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Make a token and print it: it is shown only this once."""
    engine = migrated_engine(db)
    try:
        token_id, token = create_token(engine, name, scope, enterprise)
    except UnknownScopeError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps({"id": token_id, "token": token}))


@token_app.command("list")
def list_command(db: DbOption = None) -> None:
    """The tokens as JSON lines (never the tokens themselves: only their hash is kept)."""
    for record in list_tokens(make_engine(database_url(db))):
        typer.echo(json.dumps(record, ensure_ascii=False, default=str))


@token_app.command("revoke")
def revoke_command(
    token_id: Annotated[int, typer.Argument(help="The token's id.")], db: DbOption = None
) -> None:
    """Revoke a token at once."""
    if not revoke_token(make_engine(database_url(db)), token_id):
        typer.echo(f"no live token {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"token {token_id} revoked")
