"""Engines and migrations: SQLite (WAL, durable commits) by default, PostgreSQL by URL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, *, busy_timeout: float = 30.0) -> Engine:
    """An engine for ``url``, whose errors never quote the statement's values
    (a raw frame holds its device's password, and errors reach the log);
    SQLite files get WAL, full fsync on commit and a busy
    timeout [s] (how long a write waits for a lock before it fails)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": busy_timeout}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before it returns, so an acknowledged frame
        # survives a power cut, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "savepoint")
    def _begin_before_savepoint(connection: Connection, _name: str) -> None:
        # pysqlite begins its transaction only before a write: a SAVEPOINT
        # before any would itself be the outer transaction, and its release a
        # commit ahead of and apart from the rest (a rules pass's findings
        # without its cursor). The transaction is begun first.
        if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql("BEGIN")

    return engine


def dialect_insert(bind: Connection | Engine, table: Any) -> Any:
    """The INSERT of ``bind``'s dialect, which knows ON CONFLICT (SQLite and
    PostgreSQL spell it alike)."""
    module = postgresql if bind.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating it if it is a new SQLite file)."""
    make_engine(url).dispose()  # creates the folder of a SQLite file
    command.upgrade(alembic_config(url), revision)


def scratch_server_url() -> str:
    """The PostgreSQL server tests and benchmarks make scratch databases on
    (``ENVWATCH_TEST_POSTGRES_URL``, by default the local server as ``postgres``)."""
    return os.environ.get(
        "ENVWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


def create_scratch_database(admin_url: str, prefix: str) -> str:
    """Create a new, empty PostgreSQL database next to ``admin_url``'s; its URL.

    For tests and benchmarks. Raises ``sqlalchemy.exc.OperationalError`` when the
    server cannot be reached.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_scratch_database(admin_url: str, url: str) -> None:
    """Drop a database made by ``create_scratch_database``, closing its sessions."""
    name = make_url(url).database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def error_summary(error: BaseException) -> str:
    """``error`` as a log or a stored record may hold it: its class and the
    database's primary message, never the statement's values (PostgreSQL's
    detail quotes the failing row: a raw frame with its device's password)."""
    cause = getattr(error, "orig", None) or error
    diagnosis = getattr(cause, "diag", None)
    primary = getattr(diagnosis, "message_primary", None)
    if primary:
        return f"{type(cause).__name__}: {primary}"
    first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {first_line}"
