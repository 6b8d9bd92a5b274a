"""``envwatch registry import``: load registry rows from CSV or XLSX, all or nothing;
``envwatch registry export``: the registry as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from envwatch.hj212.codes import now_cst
from envwatch.registry.export import export_registry
from envwatch.registry.importing import ImportFileError, ImportKind, import_file
from envwatch.settings import get_settings
from envwatch.store.db import make_engine

registry_app = typer.Typer(help="Registry: enterprises, outlets, points, permits, meters.")


@registry_app.command("import")
def import_command(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    path: Annotated[Path, typer.Argument(help="A .csv (UTF-8 or GBK) or .xlsx file.", exists=True)],
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Errors as JSON lines.")] = False,
) -> None:
    """Import every row, or none: each problem is reported as row, column, reason.

    Exit status 0 when imported, 1 when the file has problems (nothing imported).
    """
    engine = make_engine(db or get_settings().database_url)
    try:
        errors = import_file(engine, kind, path.name, path.read_bytes())
    except ImportFileError as error:
        typer.echo(f"{error.code}: {error.message_en} / {error.message_zh}", err=True)
        raise typer.Exit(1) from None
    for problem in errors:
        if as_json:
            typer.echo(
                json.dumps(
                    {"row": problem.row, "column": problem.column, "reason": problem.reason},
                    ensure_ascii=False,
                )
            )
        else:
            typer.echo(f"row {problem.row}, column {problem.column or '-'}: {problem.reason}")
    if errors:
        typer.echo(f"{len(errors)} problems: nothing imported", err=True)
        raise typer.Exit(1)
    typer.echo("imported")


@registry_app.command("export")
def export_command(
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
    passwords: Annotated[
        bool,
        typer.Option("--passwords", help="Include the devices' passwords (PW); else null."),
    ] = False,
) -> None:
    """Print the registry as JSON: {"points": [{mn, pw, st, version, enterprise, county,
    pollutants: [{code, unit, limit}]}], "meters": [...]} (limits in force now).
    ``pw`` is null unless --passwords: with MN and PW anyone could send data."""
    engine = make_engine(db or get_settings().database_url)
    document = export_registry(engine, now_cst().replace(tzinfo=None), passwords=passwords)
    typer.echo(json.dumps(document, ensure_ascii=False))
