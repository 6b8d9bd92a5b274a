"""PostgreSQL: the archive, the measurements and the hourly emissions
partitioned by month (SQLite unchanged)

Each table becomes ``PARTITION BY RANGE`` on its time column, with a
partition for every month its rows fall in (from 2000 up to next month) and
a DEFAULT partition; every row moves over. The months ahead are made by the
processes at their start (``partitions.at_start``), not here: a new, empty
database (every test's) gets only the DEFAULT partitions. The archive's key
becomes (id, received_at) and (chain, seq) an index; the measurements lose
their foreign key to the archive (ARCHITECTURE.md, "Partitions"). On a large
database this rewrites the three tables: run it with the writers stopped.

Revision ID: 0044
Revises: 0039
Create Date: 2026-12-04 22:30:00
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import op
from sqlalchemy import text

from envwatch.store.partitions import (
    EARLIEST_MONTH,
    TABLES,
    add_months,
    create_default,
    create_partition,
    month_of,
)

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

_INDEXES = {
    "archived_frame": [
        "ALTER TABLE archived_frame ADD CONSTRAINT archived_frame_pkey "
        "PRIMARY KEY (id, received_at)",
        "CREATE INDEX ix_archived_frame_chain_seq ON archived_frame (chain, seq)",
        "CREATE INDEX ix_archived_frame_chain_received ON archived_frame (chain, received_at)",
        "CREATE INDEX brin_archived_frame_received ON archived_frame USING brin (received_at)",
    ],
    "measurement": [
        "ALTER TABLE measurement ADD CONSTRAINT measurement_pkey "
        "PRIMARY KEY (mn, cn, data_time, pollutant)",
        "CREATE INDEX brin_measurement_data_time ON measurement USING brin (data_time)",
    ],
    "hourly_emission": [
        "ALTER TABLE hourly_emission ADD CONSTRAINT hourly_emission_pkey "
        "PRIMARY KEY (mn, pollutant, hour)",
        "CREATE INDEX ix_hourly_emission_enterprise ON hourly_emission "
        "(enterprise_id, pollutant, hour)",
    ],
}
_PLAIN_INDEXES = {
    "archived_frame": [
        "ALTER TABLE archived_frame ADD CONSTRAINT archived_frame_pkey PRIMARY KEY (id)",
        "ALTER TABLE archived_frame ADD CONSTRAINT archived_frame_chain_seq_key "
        "UNIQUE (chain, seq)",
    ],
    "measurement": [
        "ALTER TABLE measurement ADD CONSTRAINT measurement_pkey "
        "PRIMARY KEY (mn, cn, data_time, pollutant)",
    ],
    "hourly_emission": _INDEXES["hourly_emission"],
}
_FOREIGN_KEY = (
    "ALTER TABLE measurement ADD CONSTRAINT measurement_frame_id_fkey "
    "FOREIGN KEY (frame_id) REFERENCES archived_frame (id)"
)


def _months(table: str, column: str, zoned: bool) -> list[date]:
    expression = f"{column} AT TIME ZONE 'UTC'" if zoned else column
    rows = op.get_bind().execute(
        text(f"SELECT DISTINCT date_trunc('month', {expression})::date FROM {table}_unpartitioned")
    )
    return [month for (month,) in rows]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    current = month_of(datetime.now(UTC).date())
    horizon = add_months(current, 1)
    op.execute("ALTER SEQUENCE archived_frame_id_seq OWNED BY NONE")
    op.execute("ALTER TABLE measurement DROP CONSTRAINT measurement_frame_id_fkey")
    for table in TABLES:
        name, column = table.name, table.column
        op.execute(f"ALTER TABLE {name} RENAME TO {name}_unpartitioned")
        op.execute(
            f"CREATE TABLE {name} (LIKE {name}_unpartitioned INCLUDING DEFAULTS) "
            f"PARTITION BY RANGE ({column})"
        )
        create_default(bind, name)
        months = {m for m in _months(name, column, table.zoned) if EARLIEST_MONTH <= m <= horizon}
        for month in sorted(months):
            create_partition(bind, name, month)
        op.execute(f"INSERT INTO {name} SELECT * FROM {name}_unpartitioned")
        op.execute(f"DROP TABLE {name}_unpartitioned")
        for statement in _INDEXES[name]:
            op.execute(statement)
    op.execute("ALTER SEQUENCE archived_frame_id_seq OWNED BY archived_frame.id")


def downgrade() -> None:
    """Plain tables again, with the rows of the attached partitions (detached
    ones stay apart, as tables of their own)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER SEQUENCE archived_frame_id_seq OWNED BY NONE")
    for table in TABLES:
        name = table.name
        op.execute(f"ALTER TABLE {name} RENAME TO {name}_partitioned")
        op.execute(f"CREATE TABLE {name} (LIKE {name}_partitioned INCLUDING DEFAULTS)")
        op.execute(f"INSERT INTO {name} SELECT * FROM {name}_partitioned")
        op.execute(f"DROP TABLE {name}_partitioned")
        for statement in _PLAIN_INDEXES[name]:
            op.execute(statement)
    op.execute(_FOREIGN_KEY)
    op.execute("ALTER SEQUENCE archived_frame_id_seq OWNED BY archived_frame.id")
