"""A photo consent's withdrawal keeps who recorded it, when and why (``withdrawn_by_id``, ``withdrawn_at``,
``withdrawal_reason``); the withdrawals already on file have none of them.

Revision ID: a9c3e5f7b104
Revises: f2a8c4e6d1b7
Create Date: 2026-12-02 13:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a9c3e5f7b104"
down_revision = "f2a8c4e6d1b7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("photo_consent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("withdrawal_reason", sa.String(length=255), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_photo_consent_withdrawn_by_id_user"), "user", ["withdrawn_by_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("photo_consent", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_photo_consent_withdrawn_by_id_user"), type_="foreignkey")
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_at")
