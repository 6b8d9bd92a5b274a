"""What the commands share: the ``--db`` option, times as users type and read
them (China Standard Time), and refusals printed the same way."""

from __future__ import annotations

import getpass
import socket
from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy import Engine

from envwatch.errors import PeerError
from envwatch.settings import get_settings
from envwatch.store.db import make_engine, upgrade
from envwatch.times import as_data_time

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: ENVWATCH_DATABASE_URL).")
]


def database_url(db: str | None) -> str:
    return db or get_settings().database_url


def migrated_engine(db: str | None) -> Engine:
    """An engine on ``db`` (or the configured database), migrated to the newest schema."""
    url = database_url(db)
    upgrade(url)
    return make_engine(url)


def cst_time(text: str) -> datetime:
    """A China Standard Time moment: ISO 8601 (with or without zone) or YYYYMMDDhhmmss."""
    try:
        if text.isdigit() and len(text) == 14:
            return datetime.strptime(text, "%Y%m%d%H%M%S")
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a time (ISO 8601 or YYYYMMDDhhmmss)") from None
    return as_data_time(moment)


def refuse(error: PeerError) -> typer.Exit:
    """Print ``error`` (Chinese, then English) to stderr; the exit to raise."""
    typer.echo(f"{error.code}: {error.message_zh} / {error.message_en}", err=True)
    return typer.Exit(1)


def peer() -> str:
    """Where a command-line action comes from, for the audit log."""
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"
