"""satellite fire points of straw burning; inspection campaigns (大排查大整治)
with their checklists, targets and results

Revision ID: 0043
Revises: 0039
Create Date: 2026-12-04 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fire_point",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fire_id", sa.String(32), nullable=False, unique=True),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("confidence", sa.String(16), nullable=False),
        sa.Column("frp", sa.Float(), nullable=True),
        sa.Column("satellite", sa.String(32), nullable=False),
        sa.Column("county_code", sa.String(12), sa.ForeignKey("county.code"), nullable=True),
        sa.Column("problem_id", sa.Integer(), sa.ForeignKey("rectification_problem.id"),
                  nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    op.create_index("ix_fire_point_county_observed", "fire_point", ["county_code", "observed_at"])
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("theme", sa.String(32), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("county_codes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "campaign_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("legal_basis", sa.String(500), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.UniqueConstraint("campaign_id", "number", name="uq_campaign_item"),
    )
    op.create_table(
        "campaign_target",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("county_code", sa.String(12), sa.ForeignKey("county.code"), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id"), nullable=True),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inspected_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("campaign_id", "kind", "ref_id", name="uq_campaign_target"),
    )
    op.create_index("ix_campaign_target_county", "campaign_target",
                    ["campaign_id", "county_code"])  # fmt: skip
    op.create_table(
        "campaign_result",
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("campaign_target.id"),
                  primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("campaign_item.id"), primary_key=True),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("evidence_sha256", sa.String(64), sa.ForeignKey("evidence_file.sha256"),
                  nullable=True),
        sa.Column("evidence_name", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("problem_id", sa.Integer(), sa.ForeignKey("rectification_problem.id"),
                  nullable=True),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("campaign_result")
    op.drop_index("ix_campaign_target_county", table_name="campaign_target")
    op.drop_table("campaign_target")
    op.drop_table("campaign_item")
    op.drop_table("campaign")
    op.drop_index("ix_fire_point_county_observed", table_name="fire_point")
    op.drop_table("fire_point")
