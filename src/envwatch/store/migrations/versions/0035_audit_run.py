"""the permit audit file's runs (审计式监管): each audit file with the
parameters it was made with, the newest archived frame it saw and the
document itself, so it is re-rendered byte for byte from stored data

Revision ID: 0035
Revises: 0040
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id"), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("newest_frame_id", sa.BigInteger()),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("pdf_sha256", sa.String(64), nullable=False),
        sa.Column("xlsx_sha256", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_audit_run_enterprise", "audit_run", ["enterprise_id", "period"])


def downgrade() -> None:
    op.drop_index("ix_audit_run_enterprise", table_name="audit_run")
    op.drop_table("audit_run")
