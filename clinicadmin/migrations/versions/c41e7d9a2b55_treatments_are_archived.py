"""Treatments are archived (entered in error), never deleted: who, when and why.

Revision ID: c41e7d9a2b55
Revises: 9b3f6a2d4e81
Create Date: 2026-11-22 04:11:55.440676

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c41e7d9a2b55"
down_revision = "9b3f6a2d4e81"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("treatment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("archived_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("archive_reason", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_treatment_archived_at"), ["archived_at"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_treatment_archived_by_id_user"), "user", ["archived_by_id"], ["id"])


def downgrade():
    with op.batch_alter_table("treatment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_treatment_archived_by_id_user"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_treatment_archived_at"))
        batch_op.drop_column("archive_reason")
        batch_op.drop_column("archived_by_id")
        batch_op.drop_column("archived_at")
