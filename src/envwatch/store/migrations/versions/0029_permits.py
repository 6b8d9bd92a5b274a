"""permits as data: versions, self-monitoring plans, hourly emissions

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "permit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id"), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_to", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.UniqueConstraint("number", "version"),
    )
    op.create_index("ix_permit_enterprise_id", "permit", ["enterprise_id"])
    op.create_table(
        "permit_monitoring",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("permit_id", sa.Integer(), sa.ForeignKey("permit.id"), nullable=False),
        sa.Column("outlet_id", sa.Integer(), sa.ForeignKey("outlet.id"), nullable=False),
        sa.Column("pollutant", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("frequency", sa.String(length=32), nullable=False),
        sa.Column("untreated_concentration", sa.Float(), nullable=True),
        sa.Column("design_flow_m3h", sa.Float(), nullable=True),
    )
    op.create_index("ix_permit_monitoring_permit_id", "permit_monitoring", ["permit_id"])
    op.create_table(
        "hourly_emission",
        sa.Column("mn", sa.String(length=32), primary_key=True),
        sa.Column("pollutant", sa.String(length=16), primary_key=True),
        sa.Column("hour", sa.DateTime(), primary_key=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.Column("validity", sa.String(length=8), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=True),
        sa.Column("concentration", sa.Float(), nullable=True),
        sa.Column("flow_m3", sa.Float(), nullable=True),
        sa.Column("measured_kg", sa.Float(), nullable=True),
        sa.Column("emission_kg", sa.Float(), nullable=True),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("rule", sa.String(length=160), nullable=True),
    )
    op.create_index(
        "ix_hourly_emission_enterprise", "hourly_emission", ["enterprise_id", "pollutant", "hour"]
    )
    with op.batch_alter_table("permit_limit") as batch_op:
        batch_op.add_column(sa.Column("permit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("monthly_tonnes", sa.Float(), nullable=True))
        batch_op.create_foreign_key("fk_permit_limit_permit", "permit", ["permit_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("permit_limit") as batch_op:
        batch_op.drop_constraint("fk_permit_limit_permit", type_="foreignkey")
        batch_op.drop_column("monthly_tonnes")
        batch_op.drop_column("permit_id")
    op.drop_index("ix_hourly_emission_enterprise", table_name="hourly_emission")
    op.drop_table("hourly_emission")
    op.drop_index("ix_permit_monitoring_permit_id", table_name="permit_monitoring")
    op.drop_table("permit_monitoring")
    op.drop_index("ix_permit_enterprise_id", table_name="permit")
    op.drop_table("permit")
