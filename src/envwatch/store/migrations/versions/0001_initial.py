"""initial schema: registry, raw archive, measurements

Revision ID: 0001
Revises:
Create Date: 2026-11-29 11:15:54.920973
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archived_frame",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("peer", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("mn", sa.String(length=32), nullable=True),
        sa.Column("cn", sa.String(length=4), nullable=True),
        sa.Column("qn", sa.String(length=20), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain", "seq"),
    )
    op.create_table(
        "county",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "enterprise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("industry_code", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_code"],
            ["county.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credit_code"),
    )
    op.create_table(
        "measurement",
        sa.Column("mn", sa.String(length=32), nullable=False),
        sa.Column("cn", sa.String(length=4), nullable=False),
        sa.Column("data_time", sa.DateTime(), nullable=False),
        sa.Column("pollutant", sa.String(length=16), nullable=False),
        sa.Column("rtd", sa.Float(), nullable=True),
        sa.Column("avg", sa.Float(), nullable=True),
        sa.Column("min", sa.Float(), nullable=True),
        sa.Column("max", sa.Float(), nullable=True),
        sa.Column("cou", sa.Float(), nullable=True),
        sa.Column("zs_rtd", sa.Float(), nullable=True),
        sa.Column("zs_avg", sa.Float(), nullable=True),
        sa.Column("flag", sa.String(length=8), nullable=True),
        sa.Column("eflag", sa.String(length=8), nullable=True),
        sa.Column("frame_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["frame_id"],
            ["archived_frame.id"],
        ),
        sa.PrimaryKeyConstraint("mn", "cn", "data_time", "pollutant"),
    )
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.create_index("ix_measurement_time", ["data_time"], unique=False)

    op.create_table(
        "monitoring_point",
        sa.Column("mn", sa.String(length=32), nullable=False),
        sa.Column("pw", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("st", sa.String(length=2), nullable=False),
        sa.Column("protocol_version", sa.String(length=4), nullable=False),
        sa.Column("lenient", sa.Boolean(), nullable=False),
        sa.Column("verify_crc", sa.Boolean(), nullable=False),
        sa.Column("verify_length", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
        ),
        sa.PrimaryKeyConstraint("mn"),
    )


def downgrade() -> None:
    op.drop_table("monitoring_point")
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.drop_index("ix_measurement_time")

    op.drop_table("measurement")
    op.drop_table("enterprise")
    op.drop_table("county")
    op.drop_table("archived_frame")
