"""``envwatch data export``: a device's stored uploads as JSON lines."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from envwatch.settings import get_settings
from envwatch.store.db import make_engine
from envwatch.store.uploads import iter_uploads

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
