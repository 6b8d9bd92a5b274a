"""operation contractors and the devices they run

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contractor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credit_code"),
    )
    with op.batch_alter_table("monitoring_point", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contractor_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_monitoring_point_contractor", "contractor", ["contractor_id"], ["id"]
        )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contractor_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_app_user_contractor", "contractor", ["contractor_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint("fk_app_user_contractor", type_="foreignkey")
        batch_op.drop_column("contractor_id")
    with op.batch_alter_table("monitoring_point", schema=None) as batch_op:
        batch_op.drop_constraint("fk_monitoring_point_contractor", type_="foreignkey")
        batch_op.drop_column("contractor_id")
    op.drop_table("contractor")
