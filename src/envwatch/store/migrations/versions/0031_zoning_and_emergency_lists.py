"""control units (三线一单) with their access lists; emergency lists (应急减排清单) by line;
warning notices to enterprises through the outbox

Revision ID: 0031
Revises: 0029
Create Date: 2026-12-04 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "control_unit",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_type", sa.String(length=8), nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("west", sa.Float(), nullable=False),
        sa.Column("south", sa.Float(), nullable=False),
        sa.Column("east", sa.Float(), nullable=False),
        sa.Column("north", sa.Float(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["county_code"], ["county.code"]),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "access_clause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("effect", sa.String(length=16), nullable=False),
        sa.Column("industries", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["unit_code"], ["control_unit.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_clause_unit", "access_clause", ["unit_code"])
    op.create_table(
        "emergency_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("season", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("process", sa.String(length=100), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enterprise_id", "season", "name"),
    )
    op.create_table(
        "emergency_line_meter",
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["emergency_line.id"]),
        sa.ForeignKeyConstraint(["meter_id"], ["meter.id"]),
        sa.PrimaryKeyConstraint("line_id", "meter_id"),
    )
    with op.batch_alter_table("notification_target") as batch_op:
        batch_op.add_column(sa.Column("enterprise_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_notification_target_enterprise", "enterprise", ["enterprise_id"], ["id"]
        )
    with op.batch_alter_table("notification") as batch_op:
        batch_op.alter_column("alert_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("emergency_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_notification_emergency", "emergency_period", ["emergency_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch_op:
        batch_op.drop_constraint("fk_notification_emergency", type_="foreignkey")
        batch_op.drop_column("emergency_id")
        batch_op.alter_column("alert_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("notification_target") as batch_op:
        batch_op.drop_constraint("fk_notification_target_enterprise", type_="foreignkey")
        batch_op.drop_column("enterprise_id")
    op.drop_table("emergency_line_meter")
    op.drop_table("emergency_line")
    op.drop_index("ix_access_clause_unit", table_name="access_clause")
    op.drop_table("access_clause")
    op.drop_table("control_unit")
