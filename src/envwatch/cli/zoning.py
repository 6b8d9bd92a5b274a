"""``envwatch zoning``: control units (三线一单) and their access lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from envwatch.cli.common import DbOption, migrated_engine
from envwatch.registry.importing import ImportFileError
from envwatch.zoning.access import parse_emissions
from envwatch.zoning.store import (
    check_json,
    import_clauses,
    import_units,
    load_zoning,
    mismatch_json,
    mismatches,
    nearby_json,
)
from envwatch.zoning.units import parse_project_polygon

zoning_app = typer.Typer(help="Environmental control units and access lists (三线一单).")


@zoning_app.command("import")
def import_command(
    path: Annotated[
        Path, typer.Argument(help="A GeoJSON FeatureCollection or a KML file.", exists=True)
    ],
    db: DbOption = None,
) -> None:
    """Import control units from GeoJSON (or KML: Placemarks with ExtendedData):
    Polygon or MultiPolygon features, longitude-latitude
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
    效力, 行业代码, 条款, optionally 污染物: the HJ 212 codes or names a
    project must emit for the clause to apply); a file replaces the clauses
    of every unit it names.

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
    industry: Annotated[str, typer.Option("--industry", help="GB/T 4754 industry code.")],
    lon: Annotated[
        float | None, typer.Option("--lon", help="Longitude (WGS 84 / CGCS2000).")
    ] = None,
    lat: Annotated[float | None, typer.Option("--lat", help="Latitude.")] = None,
    polygon: Annotated[
        str | None,
        typer.Option(
            "--polygon",
            help="Instead of --lon/--lat, the project's site: 'lon,lat;lon,lat;...' (one "
            "ring), a GeoJSON Polygon/MultiPolygon geometry, or @FILE holding either.",
        ),
    ] = None,
    emissions: Annotated[
        str | None,
        typer.Option(
            "--emissions",
            help="Planned emissions, 'a21026:12.5,VOCs:3' (t/a) or 'SO2,NOx': clauses "
            "conditioned on pollutants apply only to what it emits.",
        ),
    ] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Pre-check a planned project at a point or over its site's polygon: the
    units it lies in or meets (a point on a border is in both), the verdict
    (allowed / restricted / forbidden; the strictest wins) and the clauses
    that apply: {"units": [{"code", "name", "type"}], "verdict", "clauses":
    [{"dimension", "text", "effect"}]}; with --polygon also "nearby" (the
    sensitive units near the site)."""
    try:
        emitted = set(parse_emissions(emissions)) if emissions is not None else None
    except ValueError as error:
        raise typer.BadParameter(f"--emissions: {error}") from None
    area = None
    if polygon is not None:
        if lon is not None or lat is not None:
            raise typer.BadParameter("either --lon/--lat or --polygon")
        text = Path(polygon[1:]).read_text(encoding="utf-8") if polygon.startswith("@") else polygon
        try:
            _, area = parse_project_polygon(text)
        except ValueError as error:
            raise typer.BadParameter(f"--polygon: {error}") from None
    elif lon is None or lat is None:
        raise typer.BadParameter("--lon and --lat, or --polygon")
    elif not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise typer.BadParameter("longitude and latitude in degrees")
    engine = migrated_engine(db)
    try:
        with engine.connect() as connection:
            zoning = load_zoning(connection)
    finally:
        engine.dispose()
    if area is not None:
        units, verdict = zoning.check_area(area, industry, emitted)
        document = check_json(units, verdict) | {"nearby": nearby_json(zoning.nearby_area(area))}
    else:
        assert lon is not None and lat is not None
        units, verdict = zoning.check(lon, lat, industry, emitted)
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
