"""``envwatch electricity import``: store a batch of meter readings, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from envwatch.electricity.batch import store_batch
from envwatch.registry.importing import ImportFileError
from envwatch.settings import get_settings
from envwatch.store.db import make_engine

electricity_app = typer.Typer(help="Electricity data of production and treatment circuits.")


@electricity_app.command("import")
def import_command(
    path: Annotated[
        Path,
        typer.Argument(help="JSON lines (.jsonl) or CSV: meter,time,power_kw,...", exists=True),
    ],
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
) -> None:
    """Store every reading of the batch, or none (exit status 1, problems listed)."""
    engine = make_engine(db or get_settings().database_url)
    try:
        result = store_batch(engine, path.name, path.read_bytes())
    except ImportFileError as error:
        typer.echo(f"{error.code}: {error.message_en} / {error.message_zh}", err=True)
        raise typer.Exit(1) from None
    for problem in result.errors:
        typer.echo(f"row {problem.row}, column {problem.column or '-'}: {problem.reason}")
    if result.errors:
        typer.echo(f"{len(result.errors)} problems: nothing stored", err=True)
        raise typer.Exit(1)
    typer.echo(f"{result.readings} readings stored")
