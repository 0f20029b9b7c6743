"""A health-history entry is never deleted: one that was never true is marked entered in error, with who, when and
why (``health_entry.entered_in_error_at``, ``_by_id``, ``_reason``). Existing entries are unchanged.

Revision ID: ce6845f7cba7
Revises: a3e6c8f0b914
Create Date: 2026-12-02 02:50:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "ce6845f7cba7"
down_revision = "a3e6c8f0b914"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("health_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_in_error_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("entered_in_error_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("entered_in_error_reason", sa.String(length=255), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_health_entry_entered_in_error_by_id_user"), "user", ["entered_in_error_by_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("health_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_health_entry_entered_in_error_by_id_user"), type_="foreignkey")
        batch_op.drop_column("entered_in_error_reason")
        batch_op.drop_column("entered_in_error_by_id")
        batch_op.drop_column("entered_in_error_at")
