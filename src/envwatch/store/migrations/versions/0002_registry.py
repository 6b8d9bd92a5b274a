"""registry: outlets, point factors, permit limits, meters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 11:21:45.019696
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outlet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("height_m", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "meter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rated_kw", sa.Float(), nullable=True),
        sa.Column("mn", sa.String(length=32), nullable=True),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["outlet.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "permit_limit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.Column("pollutant", sa.String(length=16), nullable=False),
        sa.Column("limit_value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("reference_o2", sa.Float(), nullable=True),
        sa.Column("basis", sa.String(length=64), nullable=False),
        sa.Column("annual_tonnes", sa.Float(), nullable=True),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_to", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["outlet.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "point_factor",
        sa.Column("mn", sa.String(length=32), nullable=False),
        sa.Column("pollutant", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["mn"],
            ["monitoring_point.mn"],
        ),
        sa.PrimaryKeyConstraint("mn", "pollutant"),
    )
    with op.batch_alter_table("county", schema=None) as batch_op:
        batch_op.add_column(sa.Column("host_code", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))

    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("key_categories", sa.String(length=128), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))

    with op.batch_alter_table("monitoring_point", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outlet_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_monitoring_point_outlet_id_outlet", "outlet", ["outlet_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("monitoring_point", schema=None) as batch_op:
        batch_op.drop_constraint("fk_monitoring_point_outlet_id_outlet", type_="foreignkey")
        batch_op.drop_column("outlet_id")

    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_column("latitude")
        batch_op.drop_column("longitude")
        batch_op.drop_column("key_categories")

    with op.batch_alter_table("county", schema=None) as batch_op:
        batch_op.drop_column("latitude")
        batch_op.drop_column("longitude")
        batch_op.drop_column("host_code")

    op.drop_table("point_factor")
    op.drop_table("permit_limit")
    op.drop_table("meter")
    op.drop_table("outlet")
