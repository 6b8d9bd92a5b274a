"""positive lists as a register (the enterprise's flag follows from it), the
county total-quantity ledger, enterprises' annual output and declared
monthly electricity and emissions (carbon beside pollutants)

Revision ID: 0034
Revises: 0032
Create Date: 2026-12-04 16:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0032"
branch_labels = None
depends_on = None

MIGRATED_REASON = (
    "迁移自企业的正面清单标记（0034 之前只有标记，无入选依据） / migrated from the former flag"
)


def upgrade() -> None:
    # One truth: every enterprise flagged so far gets an open entry of the
    # enforcement list; the flag then follows from the register. (The flags are
    # read before the column is dropped.)
    connection = op.get_bind()
    flagged = connection.execute(
        sa.text("SELECT id FROM enterprise WHERE positive_list")
    ).scalars().all()  # fmt: skip
    # A plain ALTER TABLE (SQLite >= 3.35 drops an unindexed column in place):
    # a batch rebuild would drop the enterprise table other tables refer to.
    op.drop_column("enterprise", "positive_list")
    op.create_table(
        "positive_list_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("criteria_version", sa.String(32), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("removed_on", sa.Date()),
        sa.Column("removal_reason", sa.Text(), nullable=False),
        sa.Column("removed_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_positive_list_entry_enterprise", "positive_list_entry",
                    ["enterprise_id", "kind"])  # fmt: skip
    op.create_index("ux_positive_list_entry_open", "positive_list_entry",
                    ["enterprise_id", "kind"], unique=True,
                    sqlite_where=sa.text("removed_on IS NULL"),
                    postgresql_where=sa.text("removed_on IS NULL"))  # fmt: skip
    today = datetime.now(UTC).date()
    entries = sa.table(
        "positive_list_entry",
        sa.column("enterprise_id", sa.Integer()), sa.column("kind", sa.String()),
        sa.column("criteria_version", sa.String()), sa.column("criteria", sa.JSON()),
        sa.column("reason", sa.Text()), sa.column("added_on", sa.Date()),
        sa.column("decided_by", sa.String()), sa.column("removal_reason", sa.Text()),
        sa.column("removed_by", sa.String()),
    )  # fmt: skip
    if flagged:
        connection.execute(sa.insert(entries), [
            {"enterprise_id": enterprise_id, "kind": "enforcement", "criteria_version": "migrated",
             "criteria": [], "reason": MIGRATED_REASON,
             "added_on": today, "decided_by": "migration 0034", "removal_reason": "",
             "removed_by": ""}
            for enterprise_id in flagged
        ])  # fmt: skip

    op.create_table(
        "quota_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("county_code", sa.String(12), sa.ForeignKey("county.code"), nullable=False),
        sa.Column("pollutant", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("cause", sa.String(16), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("document_no", sa.String(100), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id")),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_on", sa.Date()),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_quota_entry_county", "quota_entry", ["county_code", "pollutant"])
    op.create_table(
        "quota_draw",
        sa.Column("allocation_id", sa.Integer(), sa.ForeignKey("quota_entry.id"),
                  primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("quota_entry.id"), primary_key=True),
        sa.Column("grams", sa.BigInteger(), nullable=False),
    )  # fmt: skip
    op.create_table(
        "enterprise_output",
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id"),
                  primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
    )  # fmt: skip
    op.create_table(
        "emission_declaration",
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id"), primary_key=True),
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("pollutant", sa.String(16), primary_key=True),
        sa.Column("tonnes", sa.Float(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
    )
    op.create_table(
        "energy_declaration",
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id"),
                  primary_key=True),
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("total_mwh", sa.Float(), nullable=False),
        sa.Column("production_mwh", sa.Float()),
        sa.Column("source", sa.String(64), nullable=False),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("energy_declaration")
    op.drop_table("emission_declaration")
    op.drop_table("enterprise_output")
    op.drop_table("quota_draw")
    op.drop_index("ix_quota_entry_county", table_name="quota_entry")
    op.drop_table("quota_entry")
    connection = op.get_bind()
    listed = connection.execute(sa.text(
        "SELECT enterprise_id FROM positive_list_entry WHERE kind = 'enforcement' "
        "AND removed_on IS NULL"
    )).scalars().all()  # fmt: skip
    op.drop_index("ux_positive_list_entry_open", table_name="positive_list_entry")
    op.drop_index("ix_positive_list_entry_enterprise", table_name="positive_list_entry")
    op.drop_table("positive_list_entry")
    op.add_column(
        "enterprise",
        sa.Column("positive_list", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    enterprises = sa.table("enterprise", sa.column("id", sa.Integer()),
                           sa.column("positive_list", sa.Boolean()))  # fmt: skip
    if listed:
        connection.execute(sa.update(enterprises).where(enterprises.c.id.in_(listed))
                           .values(positive_list=True))  # fmt: skip
