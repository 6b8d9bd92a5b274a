"""``envwatch zoning``: control units (三线一单) and their access lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from envwatch.cli.common import DbOption, migrated_engine
from envwatch.registry.importing import ImportFileError
from envwatch.zoning.store import (
    check_json,
    import_clauses,
    import_units,
    load_zoning,
    mismatch_json,
    mismatches,
)

zoning_app = typer.Typer(help="Environmental control units and access lists (三线一单).")


@zoning_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="A GeoJSON FeatureCollection.", exists=True)],
    db: DbOption = None,
) -> None:
    """Import control units: Polygon or MultiPolygon features, longitude-latitude
    (WGS 84 / CGCS2000), properties code, name, type (优先保护 / 重点管控 /
    一般管控) and county (code or name). A unit already stored is replaced.

    Exit status 0 when imported, 1 naming each bad feature (nothing imported).
    """
    engine = migrated_engine(db)
    try:
        with engine.begin() as connection:
            count, problems = import_units(connection, path.read_bytes())
            if problems:
                connection.rollback()
    finally:
        engine.dispose()
    if problems:
        for problem in problems:
            typer.echo(problem.describe(), err=True)
        typer.echo(f"{len(problems)} problems: nothing imported", err=True)
        raise typer.Exit(1)
    typer.echo(f"imported {count} control units")


@zoning_app.command("clauses")
def clauses_command(
    path: Annotated[Path, typer.Argument(help="A .csv (UTF-8 or GBK) or .xlsx file.", exists=True)],
    db: DbOption = None,
) -> None:
    """Import access-list clauses keyed by unit code (columns 单元编码, 维度,
    效力, 行业代码, 条款); a file replaces the clauses of every unit it names.

    Exit status 0 when imported, 1 with each problem as row, column, reason.
    """
    engine = migrated_engine(db)
    try:
        with engine.begin() as connection:
            count, errors = import_clauses(connection, path.name, path.read_bytes())
    except ImportFileError as error:
        typer.echo(f"{error.code}: {error.message_en} / {error.message_zh}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    for problem in errors:
        typer.echo(f"row {problem.row}, column {problem.column or '-'}: {problem.reason}", err=True)
    if errors:
        typer.echo(f"{len(errors)} problems: nothing imported", err=True)
        raise typer.Exit(1)
    typer.echo(f"imported {count} clauses")


@zoning_app.command("check")
def check_command(
    lon: Annotated[float, typer.Option("--lon", help="Longitude (WGS 84 / CGCS2000).")],
    lat: Annotated[float, typer.Option("--lat", help="Latitude.")],
    industry: Annotated[str, typer.Option("--industry", help="GB/T 4754 industry code.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Pre-check a planned project: the units at the point (a point on a border
    is in both), the verdict (allowed / restricted / forbidden) and the clauses
    that apply: {"units": [{"code", "name", "type"}], "verdict", "clauses":
    [{"dimension", "text", "effect"}]}."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise typer.BadParameter("longitude and latitude in degrees")
    engine = migrated_engine(db)
    try:
        with engine.connect() as connection:
            units, verdict = load_zoning(connection).check(lon, lat, industry)
    finally:
        engine.dispose()
    document = check_json(units, verdict)
    if as_json:
        typer.echo(json.dumps(document, ensure_ascii=False))
        return
    names = "、".join(f"{u['name']}（{u['code']}，{u['type']}）" for u in document["units"])
    typer.echo(f"管控单元 / units: {names or '无 / none'}")
    typer.echo(f"结论 / verdict: {verdict.verdict}")
    for clause in document["clauses"]:
        typer.echo(f"  [{clause['dimension']}] {clause['effect']}: {clause['text']}")


@zoning_app.command("mismatches")
def mismatches_command(db: DbOption = None) -> None:
    """Registered enterprises their own unit's list forbids or restricts, by
    county: JSON lines {"enterprise_id", "enterprise", "county", "industry",
    "unit", "verdict", "clauses"}."""
    engine = migrated_engine(db)
    try:
        with engine.connect() as connection:
            found = mismatches(connection)
    finally:
        engine.dispose()
    for mismatch in found:
        typer.echo(json.dumps(mismatch_json(mismatch), ensure_ascii=False))
