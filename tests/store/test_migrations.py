"""Migrations create exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from envwatch.store.db import alembic_config
from envwatch.store.partitions import declared_metadata, include_name
from envwatch.store.schema import Base


def schema_differences(engine: Engine) -> list[object]:
    """What the database lacks or has beyond the declared schema (on PostgreSQL
    the models with what partitioning changes; partitions are not tables of it)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        declared = declared_metadata(Base.metadata, connection.dialect.name)
        return list(compare_metadata(context, declared))


def test_migrations_match_the_declared_schema(engine: Engine) -> None:
    assert schema_differences(engine) == []


def test_migrations_go_down_and_up_again(engine: Engine, database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    assert schema_differences(engine) == []
