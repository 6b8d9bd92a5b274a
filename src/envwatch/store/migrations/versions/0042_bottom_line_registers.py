"""bottom-line registers: hazardous-waste units and transfer manifests, medical
institutions, chemical parks and chemical/acid-using enterprises, heavy-metal
enterprises

Revision ID: 0042
Revises: 0039
Create Date: 2026-12-04 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0039"
branch_labels = None
depends_on = None


def _where() -> list[sa.Column[object]]:
    return [
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("longitude", sa.Float()),
        sa.Column("latitude", sa.Float()),
    ]


def upgrade() -> None:
    op.create_table(
        "hazardous_waste_unit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("county_code", sa.String(12), sa.ForeignKey("county.code"), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id")),
        *_where(),
        sa.Column("licence_no", sa.String(64), nullable=False),
        sa.Column("licence_valid_until", sa.Date()),
        sa.Column("licensed_categories", sa.JSON(), nullable=False),
        sa.Column("licensed_capacity_t", sa.Float()),
        sa.Column("declared", sa.JSON(), nullable=False),
        sa.UniqueConstraint("credit_code", "role", name="uq_hazardous_waste_unit_role"),
    )
    op.create_index("ix_hazardous_waste_unit_county", "hazardous_waste_unit", ["county_code"])
    op.create_table(
        "waste_transfer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("manifest_no", sa.String(32), nullable=False, unique=True),
        sa.Column("producer_id", sa.Integer(), sa.ForeignKey("hazardous_waste_unit.id"),
                  nullable=False),
        sa.Column("receiver_credit_code", sa.String(18), nullable=False),
        sa.Column("receiver_name", sa.String(200), nullable=False),
        sa.Column("hw_code", sa.String(8), nullable=False),
        sa.Column("quantity_t", sa.Float(), nullable=False),
        sa.Column("transferred_on", sa.Date(), nullable=False),
        sa.Column("transport", sa.String(200), nullable=False),
    )  # fmt: skip
    op.create_index("ix_waste_transfer_producer", "waste_transfer",
                    ["producer_id", "transferred_on"])  # fmt: skip
    op.create_table(
        "medical_institution",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("county_code", sa.String(12), sa.ForeignKey("county.code"), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id")),
        *_where(),
        sa.Column("grade", sa.String(16), nullable=False),
        sa.Column("beds", sa.Integer(), nullable=False),
        sa.Column("has_wastewater_facility", sa.Boolean(), nullable=False),
        sa.Column("disinfection", sa.String(16), nullable=False),
        sa.Column("online_monitoring", sa.Boolean(), nullable=False),
        sa.Column("waste_unit_id", sa.Integer(), sa.ForeignKey("hazardous_waste_unit.id")),
        sa.Column("waste_contract_no", sa.String(64), nullable=False),
        sa.Column("waste_contract_until", sa.Date()),
    )
    op.create_index("ix_medical_institution_county", "medical_institution", ["county_code"])
    op.create_table(
        "chemical_park",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("county_code", sa.String(12), sa.ForeignKey("county.code"), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("longitude", sa.Float()),
        sa.Column("latitude", sa.Float()),
        sa.Column("boundary", sa.JSON()),
        sa.Column("area_km2", sa.Float()),
    )
    op.create_index("ix_chemical_park_county", "chemical_park", ["county_code"])
    op.create_table(
        "chemical_enterprise",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id"), nullable=False,
                  unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("chemical_park.id")),
        sa.Column("acids", sa.JSON(), nullable=False),
    )  # fmt: skip
    op.create_table(
        "heavy_metal_enterprise",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id"), nullable=False,
                  unique=True),
        sa.Column("metals", sa.JSON(), nullable=False),
        sa.Column("industry", sa.String(100), nullable=False),
        sa.Column("key_supervision", sa.Boolean(), nullable=False),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("heavy_metal_enterprise")
    op.drop_table("chemical_enterprise")
    op.drop_index("ix_chemical_park_county", "chemical_park")
    op.drop_table("chemical_park")
    op.drop_index("ix_medical_institution_county", "medical_institution")
    op.drop_table("medical_institution")
    op.drop_index("ix_waste_transfer_producer", "waste_transfer")
    op.drop_table("waste_transfer")
    op.drop_index("ix_hazardous_waste_unit_county", "hazardous_waste_unit")
    op.drop_table("hazardous_waste_unit")
