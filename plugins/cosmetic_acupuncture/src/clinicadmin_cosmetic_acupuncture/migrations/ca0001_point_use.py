"""Cosmetic acupuncture: the points needled in each recorded session.

The first revision of the plugin's own branch; it needs the core's ``treatment`` table.

Revision ID: ca0001
Revises:
Create Date: 2026-11-22 03:01:38
"""

import sqlalchemy as sa
from alembic import op

revision = "ca0001"
down_revision = None
branch_labels = ("cosmetic_acupuncture",)
depends_on = "b542b2e3a88c"


def upgrade():
    op.create_table(
        "cosmetic_acupuncture_point_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("treatment_id", sa.Integer(), nullable=False),
        sa.Column("point", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=10), nullable=False),
        sa.Column("performed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["treatment_id"], ["treatment.id"], name="fk_cosmetic_acupuncture_point_use_treatment_id_treatment"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cosmetic_acupuncture_point_use"),
    )
    op.create_index(
        "ix_cosmetic_acupuncture_point_use_performed_point", "cosmetic_acupuncture_point_use", ["performed_at", "point"]
    )
    op.create_index(
        "ix_cosmetic_acupuncture_point_use_treatment_id", "cosmetic_acupuncture_point_use", ["treatment_id"]
    )


def downgrade():
    op.drop_index("ix_cosmetic_acupuncture_point_use_treatment_id", table_name="cosmetic_acupuncture_point_use")
    op.drop_index("ix_cosmetic_acupuncture_point_use_performed_point", table_name="cosmetic_acupuncture_point_use")
    op.drop_table("cosmetic_acupuncture_point_use")
