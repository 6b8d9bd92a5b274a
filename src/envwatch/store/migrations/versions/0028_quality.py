"""environmental quality: air stations, water sections, quality days, targets, province figures

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "air_station",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("county_code", sa.String(12), sa.ForeignKey("county.code"), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("mn", sa.String(32), nullable=True, unique=True),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "water_section",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("river", sa.String(64), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("target_class", sa.String(4), nullable=False),
        sa.Column("county_code", sa.String(12), sa.ForeignKey("county.code"), nullable=False),
        sa.Column("lake", sa.Boolean(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("mn", sa.String(32), nullable=True, unique=True),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "quality_day",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("site", sa.String(32), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("edition", sa.String(16), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("valid", sa.JSON(), nullable=False),
        sa.Column("aqi", sa.Integer(), nullable=True),
        sa.Column("primary_pollutants", sa.String(64), nullable=False),
        sa.Column("newest_frame_id", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_quality_day_day", "quality_day", ["day"])
    op.create_table(
        "quality_target",
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("area", sa.String(12), primary_key=True),
        sa.Column("indicator", sa.String(24), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "province_monthly",
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("area", sa.String(32), primary_key=True),
        sa.Column("composite_index", sa.Float(), nullable=True),
        sa.Column("pm2_5", sa.Float(), nullable=True),
        sa.Column("good_day_ratio", sa.Float(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "province_monthly",
        "quality_target",
        "quality_day",
        "water_section",
        "air_station",
    ):
        op.drop_table(table)
