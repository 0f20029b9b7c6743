"""Indexes for a chain's volume: the schedule filtered by modality or by practitioner, newest first (filter and order
from one index each), and the dashboard's weekly charts (counted from an index alone).

Revision ID: f3b8d0c6a215
Revises: e2a7c5d91f04
Create Date: 2026-11-22 05:55:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "f3b8d0c6a215"
down_revision = "e2a7c5d91f04"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("treatment", schema=None) as batch_op:
        batch_op.create_index("ix_treatment_modality_scheduled", ["modality", "scheduled_at"], unique=False)
        batch_op.create_index("ix_treatment_practitioner_scheduled", ["practitioner_id", "scheduled_at"], unique=False)
        batch_op.create_index("ix_treatment_performed_status", ["performed_at", "status", "archived_at"], unique=False)
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.create_index("ix_stock_movement_created_reason", ["created_at", "reason"], unique=False)


def downgrade():
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movement_created_reason")
    with op.batch_alter_table("treatment", schema=None) as batch_op:
        batch_op.drop_index("ix_treatment_performed_status")
        batch_op.drop_index("ix_treatment_practitioner_scheduled")
        batch_op.drop_index("ix_treatment_modality_scheduled")
