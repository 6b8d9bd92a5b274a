"""``envwatch data export``: a device's stored uploads as JSON lines;
``envwatch data hours``: its hours as HJ 75 counts them."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from envwatch.cli.common import DbOption, cst_time, database_url
from envwatch.hj212.codes import now_cst
from envwatch.processing.hours import stored_hours
from envwatch.processing.inputs import load_contexts
from envwatch.rules.engine import default_rule_set
from envwatch.settings import get_settings
from envwatch.store.db import make_engine
from envwatch.store.uploads import iter_uploads
from envwatch.times import cst_text

data_app = typer.Typer(help="Stored monitoring data.")


@data_app.command("export")
def export_command(
    mn: Annotated[str, typer.Option("--mn", help="The device's MN.")],
    cn: Annotated[
        str | None, typer.Option("--cn", help="Only this command (2011, 2051, ...).")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
) -> None:
    """Print one JSON line per upload, oldest first:
    {"mn", "cn", "data_time", "values": {"a21026": {"Rtd": 12.3, "Flag": "N"}}}."""
    engine = make_engine(db or get_settings().database_url)
    for upload in iter_uploads(engine, mn, cn):
        typer.echo(json.dumps(upload, ensure_ascii=False))


@data_app.command("hours")
def hours_command(
    mn: Annotated[str, typer.Option("--mn", help="The device's MN.")],
    pollutant: Annotated[str, typer.Option("--pollutant", help="The factor code (a21026, ...).")],
    since: Annotated[str, typer.Option("--since", help="From (China Standard Time).")],
    until: Annotated[str, typer.Option("--until", help="Until, exclusive.")],
    db: DbOption = None,
) -> None:
    """One JSON line per hour: {"hour", "source", "validity", "mean", "o2",
    "corrected", "volume_m3", "emission_kg", "substituted_kg", "substitution",
    "cause"}: every clock hour from the device's first data until the last hour
    over, the uploaded hour, or the one computed from minute (or real-time)
    data, or none (cause "missing"); for an invalid hour of SO2, NOx or
    particulate, the HJ 75 substitute beside the original, with the capture
    rate of its calendar quarter and a look-back over the stored history."""
    start, end = cst_time(since), cst_time(until)
    if end <= start:
        raise typer.BadParameter("--until must be after --since")
    settings = get_settings()
    rules = default_rule_set(settings.rules_file)
    engine = make_engine(database_url(db))
    context = load_contexts(engine, now_cst()).get(mn)
    if context is None:
        typer.echo(f"unknown_mn: 登记库中没有设备 {mn} / no device {mn}", err=True)
        raise typer.Exit(1)
    limit = context.limit(pollutant)
    interval = rules.for_point("exceedance").minute_interval  # type: ignore[attr-defined]
    with engine.connect() as connection:
        hours = stored_hours(connection, mn, pollutant, rules, since=start, until=end,
                             now=now_cst(),
                             reference_o2=limit.reference_o2 if limit else None,
                             minute_interval=interval)  # fmt: skip
    for hour in hours:
        typer.echo(json.dumps({
            "hour": cst_text(hour.start), "source": hour.source, "validity": hour.validity.value,
            "mean": hour.mean, "o2": hour.o2, "corrected": _round(hour.corrected),
            "volume_m3": _round(hour.volume_m3), "emission_kg": _round(hour.emission_kg),
            "substituted_kg": _round(hour.substituted_kg), "substitution": hour.substitution,
            "cause": None if hour.cause is None else hour.cause.value,
        }, ensure_ascii=False))  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
