"""county judgement: weekly snapshots, 挂牌督办 listings and their history,
accountability interviews, eco-compensation and the kept weekly reports

Revision ID: 0039
Revises: 0035
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "judgement_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("parameters_version", sa.String(length=80), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_by", sa.String(length=64), nullable=False),
        sa.UniqueConstraint("week", "parameters_version", name="uq_judgement_week_version"),
    )
    op.create_index("ix_judgement_snapshot_first_day", "judgement_snapshot", ["first_day"])
    op.create_table(
        "county_listing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("county_code", sa.String(length=12), sa.ForeignKey("county.code"),
                  nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), sa.ForeignKey("judgement_snapshot.id"),
                  nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("required_actions", sa.JSON(), nullable=False),
        sa.Column("lifting_criteria", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
    )  # fmt: skip
    op.create_index("ix_county_listing_county", "county_listing", ["county_code", "state"])
    op.create_table(
        "listing_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("listing_id", sa.Integer(), sa.ForeignKey("county_listing.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_listing_event_listing", "listing_event", ["listing_id"])
    op.create_table(
        "accountability_interview",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("county_code", sa.String(length=12), sa.ForeignKey("county.code"),
                  nullable=False),
        sa.Column("listing_id", sa.Integer(), sa.ForeignKey("county_listing.id"), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), sa.ForeignKey("judgement_snapshot.id"),
                  nullable=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("interviewees", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("commitments", sa.JSON(), nullable=False),
        sa.Column("follow_up", sa.Text(), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    op.create_table(
        "eco_compensation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("county_code", sa.String(length=12), sa.ForeignKey("county.code"),
                  nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("parameters_version", sa.String(length=80), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("amount_wan", sa.Float(), nullable=True),
        sa.Column("computation", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("county_code", "quarter", "parameters_version",
                            name="uq_eco_compensation"),
    )  # fmt: skip
    op.create_table(
        "weekly_report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("snapshot_id", sa.Integer(), sa.ForeignKey("judgement_snapshot.id"),
                  nullable=False, unique=True),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("xlsx", sa.LargeBinary(), nullable=False),
    )  # fmt: skip
    op.add_column("notification", sa.Column("listing_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("notification", "listing_id")
    for table in ("weekly_report", "eco_compensation", "accountability_interview",
                  "listing_event", "county_listing", "judgement_snapshot"):  # fmt: skip
        op.drop_table(table)
