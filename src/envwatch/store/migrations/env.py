"""Alembic environment: runs migrations against the URL set by ``envwatch.store.db``."""

from __future__ import annotations

from alembic import context

from envwatch.store.db import make_engine
from envwatch.store.partitions import declared_metadata, include_name
from envwatch.store.schema import Base

config = context.config
engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=declared_metadata(Base.metadata, connection.dialect.name),
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
