"""rectification to closure: problems, their links, history and evidence files;
complaints; contaminated plots; notifications about problems

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rectification_problem",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("batch", sa.String(100), nullable=False),
        sa.Column("item_no", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("county_code", sa.String(12), sa.ForeignKey("county.code"), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id")),
        sa.Column("lead_unit", sa.String(200), nullable=False),
        sa.Column("cooperating_units", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("escalation", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True)),
        sa.Column("notice_until", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.UniqueConstraint("source", "batch", "item_no", name="uq_rectification_item"),
    )
    op.create_index(
        "ix_rectification_county_state", "rectification_problem", ["county_code", "state"]
    )
    op.create_table(
        "rectification_link",
        sa.Column("problem_id", sa.Integer(), sa.ForeignKey("rectification_problem.id"),
                  primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("ref_id", sa.Integer(), primary_key=True),
    )  # fmt: skip
    op.create_table(
        "rectification_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("problem_id", sa.Integer(), sa.ForeignKey("rectification_problem.id"),
                  nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )  # fmt: skip
    op.create_index("ix_rectification_event_problem", "rectification_event", ["problem_id"])
    op.create_table(
        "evidence_file",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "problem_evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("problem_id", sa.Integer(), sa.ForeignKey("rectification_problem.id"),
                  nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("rectification_event.id"),
                  nullable=False),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("evidence_file.sha256"),
                  nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )  # fmt: skip
    op.create_index("ix_problem_evidence_problem", "problem_evidence", ["problem_id"])
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("longitude", sa.Float()),
        sa.Column("latitude", sa.Float()),
        sa.Column("county_code", sa.String(12), sa.ForeignKey("county.code"), nullable=False),
        sa.Column("complainant", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True)),
        sa.Column("problem_id", sa.Integer(), sa.ForeignKey("rectification_problem.id")),
        sa.UniqueConstraint("channel", "reference", name="uq_complaint_reference"),
    )
    op.create_index("ix_complaint_county_received", "complaint", ["county_code", "received_at"])
    op.create_table(
        "contaminated_plot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("county_code", sa.String(12), sa.ForeignKey("county.code"), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("longitude", sa.Float()),
        sa.Column("latitude", sa.Float()),
        sa.Column("area_m2", sa.Float()),
        sa.Column("former_use", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id")),
        sa.Column("responsible", sa.String(200), nullable=False),
    )
    op.create_index("ix_contaminated_plot_county", "contaminated_plot", ["county_code"])
    with op.batch_alter_table("notification") as batch_op:
        batch_op.alter_column("alert_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("problem_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_notification_problem", "rectification_problem", ["problem_id"], ["id"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM notification WHERE alert_id IS NULL")
    with op.batch_alter_table("notification") as batch_op:
        batch_op.drop_constraint("fk_notification_problem", type_="foreignkey")
        batch_op.drop_column("problem_id")
        batch_op.alter_column("alert_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_contaminated_plot_county", "contaminated_plot")
    op.drop_table("contaminated_plot")
    op.drop_index("ix_complaint_county_received", "complaint")
    op.drop_table("complaint")
    op.drop_table("problem_evidence")
    op.drop_table("evidence_file")
    op.drop_index("ix_rectification_event_problem", "rectification_event")
    op.drop_table("rectification_event")
    op.drop_table("rectification_link")
    op.drop_index("ix_rectification_county_state", "rectification_problem")
    op.drop_table("rectification_problem")
