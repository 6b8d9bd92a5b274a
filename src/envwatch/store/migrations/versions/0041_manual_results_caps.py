"""permit audit: manual monitoring results (手工监测) and seasonal caps of
permitted emissions

Revision ID: 0041
Revises: 0039
Create Date: 2026-12-04 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manual_result",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id"), nullable=False),
        sa.Column("outlet_id", sa.Integer(), sa.ForeignKey("outlet.id"), nullable=False),
        sa.Column("pollutant", sa.String(length=16), nullable=False),
        sa.Column("sampled_from", sa.DateTime(), nullable=False),
        sa.Column("sampled_to", sa.DateTime(), nullable=True),
        sa.Column("concentration", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("flow_m3h", sa.Float(), nullable=True),
        sa.Column("volume_m3", sa.Float(), nullable=True),
        sa.Column("laboratory", sa.String(length=100), nullable=False),
        sa.Column("report_number", sa.String(length=64), nullable=False),
        sa.Column("source_file", sa.String(length=200), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("outlet_id", "pollutant", "sampled_from"),
    )  # fmt: skip
    op.create_index("ix_manual_result_enterprise", "manual_result",
                    ["enterprise_id", "sampled_from"])  # fmt: skip
    op.add_column("permit_limit", sa.Column("seasonal_tonnes", sa.Float(), nullable=True))
    op.add_column("permit_limit", sa.Column("season_from", sa.String(length=5), nullable=True))
    op.add_column("permit_limit", sa.Column("season_to", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("permit_limit") as batch:
        batch.drop_column("season_to")
        batch.drop_column("season_from")
        batch.drop_column("seasonal_tonnes")
    op.drop_index("ix_manual_result_enterprise", table_name="manual_result")
    op.drop_table("manual_result")
