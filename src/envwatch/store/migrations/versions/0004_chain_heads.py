"""chain heads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 12:31:58.421979
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_head",
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain"),
    )
    # Archives written before this revision: their newest links become the heads.
    op.execute(
        "INSERT INTO chain_head (chain, seq, hash) "
        "SELECT chain, seq, hash FROM archived_frame AS link "
        "WHERE seq = (SELECT max(seq) FROM archived_frame AS newer WHERE newer.chain = link.chain)"
    )


def downgrade() -> None:
    op.drop_table("chain_head")
