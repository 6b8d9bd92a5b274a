"""``envwatch maintenance add`` and ``envwatch maintenance list``: maintenance
windows operation contractors declare for a device in advance (运维时段);
``envwatch maintenance calibration`` and ``calibrations``: analysers' daily
automatic calibrations (自动校准), declared once or confirmed when learned."""

from __future__ import annotations

import json
from datetime import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from envwatch.cli.common import DbOption, cst_time, migrated_engine, peer, refuse
from envwatch.errors import PeerError
from envwatch.registry.maintenance import (
    MAX_CALIBRATION_MINUTES,
    MAX_MAINTENANCE_WINDOW,
    Maintenance,
    declare_calibration,
    declare_maintenance,
    declarer,
    list_calibrations,
    list_maintenance,
)
from envwatch.times import cst_text

maintenance_app = typer.Typer(help="Maintenance windows of devices (运维时段).")


def maintenance_json(window: Maintenance) -> dict[str, Any]:
    return {
        "id": window.id,
        "mn": window.mn,
        "starts_at": cst_text(window.starts_at),
        "ends_at": cst_text(window.ends_at),
        "reason": window.reason,
        "reported_by": window.reported_by,
        "reported_at": window.reported_at.isoformat(),
        "kind": window.kind,
    }


@maintenance_app.command("add")
def add_command(
    mn: Annotated[str, typer.Option("--mn", help="The device's MN.")],
    since: Annotated[str, typer.Option("--from", help="Start (China Standard Time).")],
    until: Annotated[
        str,
        typer.Option(
            "--until", help=f"End, exclusive; at most {MAX_MAINTENANCE_WINDOW.days} days on."
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="What is done (运维内容).")],
    by: Annotated[str, typer.Option("--by", help="Who declares it (a user of envwatch).")],
    db: DbOption = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="maintenance (explains M/C marks), out_of_control (失控: from the last "
            "passing calibration to the failed check; its hours substituted as such) or "
            "startup_shutdown (启停: not judged against the limits).",
        ),
    ] = "maintenance",
) -> None:
    """Declare a window of one device (times: ISO 8601 or YYYYMMDDhhmmss, China
    Standard Time): maintenance, out of control or start-up/shut-down.

    Exit status 0 when stored, 1 when it was refused (nothing stored).
    """
    starts_at, ends_at = cst_time(since), cst_time(until)
    engine = migrated_engine(db)
    try:
        with engine.begin() as connection:
            actor = declarer(connection, by, peer(), mn=mn)
            window_id = declare_maintenance(
                connection,
                mn=mn,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=reason,
                reported_by=actor.name,
                actor=actor,
                kind=kind,
            )
    except PeerError as error:
        raise refuse(error) from None
    finally:
        engine.dispose()
    typer.echo(f"已登记运维时段 {window_id} / maintenance window {window_id} declared")


@maintenance_app.command("list")
def list_command(
    db: DbOption = None,
    mn: Annotated[str | None, typer.Option("--mn", help="Only this device.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
) -> None:
    """The maintenance windows, earliest first: a table, or JSON lines {"id", "mn",
    "starts_at", "ends_at", "reason", "reported_by", "reported_at"}."""
    engine = migrated_engine(db)
    try:
        with engine.connect() as connection:
            windows = list_maintenance(connection, mn=mn)
    finally:
        engine.dispose()
    if as_json:
        for window in windows:
            typer.echo(json.dumps(maintenance_json(window), ensure_ascii=False))
        return
    table = Table()
    for header in ("编号", "设备编码(MN)", "开始", "结束", "原因", "登记人", "登记时间"):
        table.add_column(header, overflow="fold")  # an MN must show whole
    for window in windows:
        table.add_row(
            str(window.id),
            window.mn,
            f"{window.starts_at:%Y-%m-%d %H:%M}",
            f"{window.ends_at:%Y-%m-%d %H:%M}",
            window.reason,
            window.reported_by,
            f"{window.reported_at:%Y-%m-%d %H:%M}",
        )
    Console().print(table)


@maintenance_app.command("calibration")
def calibration_command(
    mn: Annotated[str, typer.Option("--mn", help="The device's MN.")],
    at: Annotated[str, typer.Option("--at", help="When it starts each day, HH:MM (CST).")],
    minutes: Annotated[
        float, typer.Option("--minutes", help=f"How long, at most {MAX_CALIBRATION_MINUTES:g}.")
    ],
    by: Annotated[str, typer.Option("--by", help="Who declares it (a user of envwatch).")],
    pollutant: Annotated[
        str | None, typer.Option("--pollutant", help="The analyser's factor code; else all.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Declare (or confirm, as the rule calibration_schedule asks) an analyser's
    daily automatic calibration: its C marks then explain themselves.

    Exit status 0 when stored, 1 when it was refused (nothing stored).
    """
    try:
        starts = time.fromisoformat(at)
    except ValueError:
        raise typer.BadParameter(f"--at {at!r} is no time of day HH:MM") from None
    engine = migrated_engine(db)
    try:
        with engine.begin() as connection:
            actor = declarer(connection, by, peer(), mn=mn)
            calibration_id = declare_calibration(
                connection, mn=mn, starts=starts, minutes=minutes, pollutant=pollutant,
                declared_by=actor.name, actor=actor,
            )  # fmt: skip
    except PeerError as error:
        raise refuse(error) from None
    finally:
        engine.dispose()
    typer.echo(f"已登记每日校准 {calibration_id} / daily calibration {calibration_id} declared")


@maintenance_app.command("calibrations")
def calibrations_command(
    db: DbOption = None,
    mn: Annotated[str | None, typer.Option("--mn", help="Only this device.")] = None,
) -> None:
    """The declared daily calibrations, as JSON lines {"id", "mn", "pollutant",
    "at", "minutes", "declared_by", "declared_at"}."""
    engine = migrated_engine(db)
    try:
        with engine.connect() as connection:
            calibrations = list_calibrations(connection, mn=mn)
    finally:
        engine.dispose()
    for item in calibrations:
        typer.echo(json.dumps({
            "id": item.id, "mn": item.mn, "pollutant": item.pollutant,
            "at": f"{item.starts:%H:%M}", "minutes": item.minutes,
            "declared_by": item.declared_by, "declared_at": item.declared_at.isoformat(),
        }, ensure_ascii=False))  # fmt: skip
