"""``envwatch contractors``: operation contractors (运维单位) and the devices
they run, which scope their users."""

from __future__ import annotations

import getpass
import json
from typing import Annotated

import typer

from envwatch.audit.log import Actor
from envwatch.auth.contractors import add_contractor, assign_devices, list_contractors
from envwatch.cli.common import DbOption, migrated_engine, peer, refuse
from envwatch.errors import PeerError

contractors_app = typer.Typer(help="Operation contractors (运维单位) and the devices they run.")


def _actor() -> Actor:
    return Actor(getpass.getuser(), "city_admin", peer())


@contractors_app.command("add")
def add_command(
    name: Annotated[str, typer.Option("--name", help="The contractor's registered name.")],
    credit_code: Annotated[
        str, typer.Option("--credit-code", help="Unified social credit code (18 characters).")
    ],
    db: DbOption = None,
) -> None:
    """Register an operation contractor; prints {"id"}."""
    try:
        with migrated_engine(db).begin() as connection:
            contractor_id = add_contractor(connection, name, credit_code, _actor())
    except PeerError as error:
        raise refuse(error) from None
    typer.echo(json.dumps({"id": contractor_id}))


@contractors_app.command("assign")
def assign_command(
    contractor: Annotated[
        int | None,
        typer.Argument(help="The contractor's id; omit with --none to take devices away."),
    ] = None,
    mn: Annotated[list[str] | None, typer.Option("--mn", help="A device it runs.")] = None,
    enterprise: Annotated[
        int | None, typer.Option("--enterprise", help="Every device of this enterprise.")
    ] = None,
    none: Annotated[bool, typer.Option("--none", help="Run by no contractor.")] = False,
    db: DbOption = None,
) -> None:
    """Hand devices to a contractor (or to none); prints {"contractor", "changed"}."""
    if (contractor is None) != none:
        raise typer.BadParameter("give a contractor id, or --none")
    try:
        with migrated_engine(db).begin() as connection:
            changed = assign_devices(connection, contractor, _actor(), mns=tuple(mn or ()),
                                     enterprise_id=enterprise)  # fmt: skip
    except PeerError as error:
        raise refuse(error) from None
    typer.echo(json.dumps({"contractor": contractor, "changed": changed}))


@contractors_app.command("list")
def list_command(db: DbOption = None) -> None:
    """The contractors as JSON lines, with how many devices of how many enterprises."""
    with migrated_engine(db).connect() as connection:
        for row in list_contractors(connection):
            shown = {"id": row.id, "name": row.name, "credit_code": row.credit_code,
                     "devices": row.devices, "enterprises": row.enterprises}  # fmt: skip
            typer.echo(json.dumps(shown, ensure_ascii=False))
