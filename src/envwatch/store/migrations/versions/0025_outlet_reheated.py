"""whether an outlet's flue gas is reheated after wet desulfurisation (MGGH)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 06:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outlet") as batch_op:
        batch_op.add_column(
            sa.Column("reheated", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("outlet") as batch_op:
        batch_op.drop_column("reheated")
