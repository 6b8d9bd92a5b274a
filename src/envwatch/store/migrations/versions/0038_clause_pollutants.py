"""access-list clauses may be conditioned on the pollutants a project emits
(e.g. 限制新增VOCs排放的项目)

Revision ID: 0038
Revises: 0034
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_clause") as batch:
        batch.add_column(sa.Column("pollutants", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("access_clause") as batch:
        batch.drop_column("pollutants")
