"""Two-factor sign-in: remember the last accepted code's time step, so that a code is never accepted twice.

Revision ID: e2a7c5d91f04
Revises: c41e7d9a2b55
Create Date: 2026-11-22 09:20:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e2a7c5d91f04"
down_revision = "c41e7d9a2b55"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tf_totp_last_counter", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("tf_totp_last_counter")
