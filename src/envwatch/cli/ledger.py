"""``envwatch carbon``, ``envwatch positive-lists`` and ``envwatch quota``:
carbon beside pollutants (减污降碳协同), the positive lists (正面清单) and the
county total-quantity ledgers (总量指标台账)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select, true

from envwatch.audit.log import Actor
from envwatch.carbon.core import default_data
from envwatch.carbon.summary import enterprises_of, months_to_compare, summary
from envwatch.cli.common import DbOption, migrated_engine, peer, refuse
from envwatch.errors import PeerError
from envwatch.hj212.codes import now_cst
from envwatch.ledger.importing import import_positive, import_quota
from envwatch.ledger.positive import entry_view
from envwatch.ledger.quota_store import balances
from envwatch.registry.importing import RowError
from envwatch.store.schema import PositiveListEntry

carbon_app = typer.Typer(help="Carbon beside pollutants (减污降碳协同).")
positive_app = typer.Typer(help="The positive lists (环评审批 / 监督执法正面清单).")
quota_app = typer.Typer(help="The counties' total-quantity ledgers (总量指标台账).")

FileArgument = Annotated[Path, typer.Argument(help="A .csv or .xlsx file.")]
ByOption = Annotated[str, typer.Option("--by", help="Who records it (the audit log's actor).")]


@carbon_app.command("summary")
def summary_command(
    year: Annotated[int, typer.Option("--year", min=2000, max=2100, help="The year.")],
    enterprise: Annotated[
        int | None, typer.Option("--enterprise", min=1, help="One enterprise only.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    db: DbOption = None,
) -> None:
    """CO2 (electricity × grid factor; CEMS) beside pollutant tonnes per enterprise
    and county, with intensities, the change on the previous year and the synergy."""
    engine = migrated_engine(db)
    with engine.connect() as connection:
        rows = enterprises_of(connection, true(), enterprise)
        if enterprise is not None and not rows:
            typer.echo(f"no enterprise {enterprise}", err=True)
            raise typer.Exit(1)
        document = summary(
            connection,
            year,
            rows,
            default_data(),
            through=months_to_compare(year, now_cst().date()),
            keep_empty=enterprise is not None,
        )
    if as_json:
        typer.echo(json.dumps(document, ensure_ascii=False))
        return
    for county in document["counties"]:
        current = county["year"]
        typer.echo(
            f"{county['code']} {county['name']}: CO2 {current['co2_t'] or 0:.1f} t, "
            f"pollutants {current['main_pollutants_t'] or 0:.3f} t, {county['synergy']}"
        )


def _report(imported: int, errors: list[RowError]) -> None:
    if errors:
        for problem in errors:
            typer.echo(f"row {problem.row} {problem.column}: {problem.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(f"imported {imported} rows")


@positive_app.command("import")
def positive_import_command(file: FileArgument, by: ByOption = "cli", db: DbOption = None) -> None:
    """Admit or remove enterprises (a row each), all or nothing.

    Exit status 0 when imported, 1 with every row error on stderr (nothing written).
    """
    engine = migrated_engine(db)
    try:
        _report(*import_positive(engine, file.name, file.read_bytes(), Actor(by, "cli", peer())))
    except PeerError as error:
        raise refuse(error) from None


@positive_app.command("list")
def positive_list_command(db: DbOption = None) -> None:
    """The enterprises on each list today, as JSON lines."""
    engine = migrated_engine(db)
    with engine.connect() as connection:
        for row in connection.execute(
            select(PositiveListEntry)
            .where(PositiveListEntry.removed_on.is_(None))
            .order_by(PositiveListEntry.kind, PositiveListEntry.enterprise_id)
        ):
            typer.echo(json.dumps(entry_view(row), ensure_ascii=False))


@quota_app.command("import")
def quota_import_command(file: FileArgument, by: ByOption = "cli", db: DbOption = None) -> None:
    """Record freed and allocated capacity (a row each, in order), all or nothing.

    Exit status 0 when imported, 1 with every row error on stderr (nothing written).
    """
    engine = migrated_engine(db)
    try:
        _report(*import_quota(engine, file.name, file.read_bytes(), Actor(by, "cli", peer())))
    except PeerError as error:
        raise refuse(error) from None


@quota_app.command("balance")
def quota_balance_command(
    county: Annotated[str | None, typer.Option("--county", help="One county's code.")] = None,
    db: DbOption = None,
) -> None:
    """Freed, allocated and the balance [t] per county and pollutant, as JSON."""
    engine = migrated_engine(db)
    with engine.connect() as connection:
        rows = balances(connection, None if county is None else [county])
    typer.echo(json.dumps(rows, ensure_ascii=False))
