"""``envwatch permits``: permits as data and the emissions accounted against
them (排污审计). ``import`` reads a CSV/XLSX of permits (each permit number a
new version), ``manual-import`` one of manual monitoring results (手工监测,
all or nothing, a JSON summary); ``materialise`` brings the hourly emissions
table up to date; ``emissions`` and ``hours`` print the contract's JSON
(after catching up)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from envwatch.audit.log import Actor
from envwatch.cli.common import DbOption, cst_time, migrated_engine, peer, refuse
from envwatch.errors import PeerError
from envwatch.permits.importing import import_file
from envwatch.permits.manual_store import import_manual
from envwatch.permits.materialise import Materialiser, rebuild_workers
from envwatch.permits.report import emissions_json, hours_json, year_totals
from envwatch.permits.store import current_permits, permit_view, versions_of

permits_app = typer.Typer(help="Permits and the emissions accounted against them (排污审计).")

NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Account direct discharge up to this time (default: now, CST)."),
]


def _now(text: str | None) -> datetime | None:
    return None if text is None else cst_time(text)


@permits_app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(help="A .csv or .xlsx file, one row per outlet and pollutant of a permit."),
    ],
    by: Annotated[str, typer.Option("--by", help="Who records the permits.")] = "cli",
    db: DbOption = None,
) -> None:
    """Import permits, all or nothing: each permit number becomes its next version.

    Exit status 0 when imported, 1 with every row error on stderr (nothing written).
    """
    engine = migrated_engine(db)
    try:
        errors = import_file(engine, file.name, file.read_bytes(), Actor(by, "cli", peer()))
    except PeerError as error:
        raise refuse(error) from None
    if errors:
        for problem in errors:
            typer.echo(f"row {problem.row} {problem.column}: {problem.reason}", err=True)
        raise typer.Exit(1)
    typer.echo("imported")


@permits_app.command("manual-import")
def manual_import_command(
    file: Annotated[
        Path,
        typer.Argument(help="A .csv or .xlsx file of manual monitoring results (手工监测)."),
    ],
    by: Annotated[str, typer.Option("--by", help="Who records the results.")] = "cli",
    db: DbOption = None,
    now: NowOption = None,
) -> None:
    """Import manual monitoring results, all or nothing, and account them.

    Exit status 0 with a JSON summary on stdout; 1 with every row error
    (row, column, reason) on stderr and nothing written.
    """
    materialiser = Materialiser.create(migrated_engine(db))
    materialiser.catch_up(_now(now))
    try:
        outcome = import_manual(
            materialiser.engine, file.name, file.read_bytes(), Actor(by, "cli", peer()),
            parameters=materialiser.parameters, now=_now(now),
        )  # fmt: skip
    except PeerError as error:
        raise refuse(error) from None
    if outcome.errors:
        for problem in outcome.errors:
            typer.echo(f"row {problem.row} {problem.column}: {problem.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(outcome.summary(file.name), ensure_ascii=False))


@permits_app.command("show")
def show_command(
    enterprise: Annotated[int | None, typer.Option("--enterprise", help="Enterprise id.")] = None,
    number: Annotated[
        str | None, typer.Option("--number", help="Every version of this permit number.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Print permits as JSON lines: the current versions, or one number's history."""
    engine = migrated_engine(db)
    with engine.connect() as connection:
        rows = (
            versions_of(connection, number) if number else current_permits(connection, enterprise)
        )
        for row in rows:
            typer.echo(json.dumps(permit_view(connection, row), ensure_ascii=False))


@permits_app.command("materialise")
def materialise_command(
    db: DbOption = None,
    now: NowOption = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Recompute every device from scratch.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, max=64,
            help="Processes of a rebuild, each device in its own transaction "
            "(default: one per core; 1: the whole rebuild in one transaction).",
        ),
    ] = None,
) -> None:  # fmt: skip
    """Bring the hourly emissions table up to date with the stored data."""
    materialiser = Materialiser.create(migrated_engine(db))
    if rebuild:
        materialiser.rebuild(now=_now(now), workers=workers or rebuild_workers())
    else:
        materialiser.catch_up(_now(now))


@permits_app.command("emissions")
def emissions_command(
    enterprise: Annotated[int, typer.Option("--enterprise", help="Enterprise id.")],
    year: Annotated[int, typer.Option("--year", min=2000, max=2100, help="Calendar year.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    now: NowOption = None,
) -> None:
    """An enterprise's year per pollutant: permitted, actual by method, share,
    projection to year end and status (rules.md §5.2)."""
    materialiser = Materialiser.create(migrated_engine(db))
    materialiser.catch_up(_now(now))
    with materialiser.engine.connect() as connection:
        totals = year_totals(connection, enterprise, year, materialiser.parameters)
    document = emissions_json(enterprise, year, totals)
    if as_json:
        typer.echo(json.dumps(document, ensure_ascii=False))
        return
    for item in document["pollutants"]:
        share = "—" if item["share"] is None else f"{item['share']:.1%}"
        typer.echo(f"{item['code']}\t{item['actual_t']:.3f} t\t{share}\t{item['status']}")


@permits_app.command("hours")
def hours_command(
    mn: Annotated[str, typer.Option("--mn", help="The device's MN (or outlet:<id>).")],
    since: Annotated[str, typer.Option("--since", help="Start (China Standard Time).")],
    until: Annotated[str, typer.Option("--until", help="End, exclusive.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout.")] = False,
    now: NowOption = None,
) -> None:
    """A device's accounted hours: concentration, flow, emission, method and rule."""
    materialiser = Materialiser.create(migrated_engine(db))
    materialiser.catch_up(_now(now))
    with materialiser.engine.connect() as connection:
        for line in hours_json(connection, mn, cst_time(since), cst_time(until)):
            if as_json:
                typer.echo(json.dumps(line, ensure_ascii=False))
            else:
                typer.echo("\t".join(str(line[key]) for key in
                                     ("hour", "pollutant", "emission_kg", "method")))  # fmt: skip
