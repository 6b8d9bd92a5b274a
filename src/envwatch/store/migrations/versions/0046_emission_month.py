"""monthly totals of the hourly emissions (emission_month), kept beside them
so that a year's totals are a few hundred rows, not millions

Revision ID: 0046
Revises: 0039
Create Date: 2026-12-04 23:00:00
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0046"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emission_month",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mn", sa.String(length=32), nullable=False),
        sa.Column("pollutant", sa.String(length=16), nullable=False),
        sa.Column("month", sa.DateTime(), nullable=False),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.Column("emission_kg", sa.Float(), nullable=True),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("newest", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_emission_month_device", "emission_month", ["mn", "pollutant", "month"])
    # Covering a year's totals: read from the index alone.
    op.create_index(
        "ix_emission_month_enterprise",
        "emission_month",
        ["enterprise_id", "month", "pollutant", "method", "emission_kg", "newest"],
    )
    _backfill()


HOUR_COLUMNS = ("mn", "pollutant", "hour", "method", "emission_kg", "enterprise_id", "outlet_id")


def _backfill() -> None:
    """The months of the hours already accounted, summed as permits/rollup.py
    sums them (math.fsum per device, pollutant, month, method and owner)."""

    def column(name: str) -> sa.ColumnClause[Any]:
        # Typed: the datetimes read and written as the ORM's DateTime (SQLite's text form).
        return (
            sa.column(name, sa.DateTime())
            if name in ("hour", "month", "newest")
            else (sa.column(name))
        )

    hourly = sa.table("hourly_emission", *(column(name) for name in HOUR_COLUMNS))
    months = sa.table("emission_month", *(column(name) for name in (
        "mn", "pollutant", "month", "method", "enterprise_id", "outlet_id", "emission_kg",
        "hours", "newest")))  # fmt: skip
    bind = op.get_bind()
    groups: dict[tuple[Any, ...], list[Any]] = {}
    rows = bind.execute(sa.select(hourly).order_by(hourly.c.mn, hourly.c.pollutant,
                                                   hourly.c.hour))  # fmt: skip
    for mn, pollutant, hour, method, kg, enterprise_id, outlet_id in rows:
        month = hour.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        key = (mn, pollutant, month, method, enterprise_id, outlet_id)
        group = groups.setdefault(key, [[], 0, hour])
        if kg is not None:
            group[0].append(kg)
        group[1] += 1
        group[2] = max(group[2], hour)
    values = [
        {"mn": mn, "pollutant": pollutant, "month": month, "method": method,
         "enterprise_id": enterprise_id, "outlet_id": outlet_id,
         "emission_kg": math.fsum(kgs) if kgs else None, "hours": count, "newest": newest}
        for (mn, pollutant, month, method, enterprise_id, outlet_id), (kgs, count, newest)
        in groups.items()
    ]  # fmt: skip
    for first in range(0, len(values), 5000):
        bind.execute(sa.insert(months), values[first : first + 5000])


def downgrade() -> None:
    op.drop_table("emission_month")
