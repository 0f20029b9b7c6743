"""Each client's first performed session (``client.first_treated_at``), kept as treatments are recorded and archived,
so that client retention tells new from returning clients without reading every client's history. Filled here from
the performed, unarchived sessions.

Revision ID: a3e6c8f0b914
Revises: f1d9b3c5e702
Create Date: 2026-11-30 20:05:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "a3e6c8f0b914"
down_revision = "f1d9b3c5e702"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, never a batch rebuild: a rebuilt client table on SQLite would lose its search indexes
    # (clinicadmin.schema.EXPRESSION_INDEXES).
    op.add_column("client", sa.Column("first_treated_at", sa.DateTime(), nullable=True))
    op.create_index("ix_client_first_treated_at", "client", ["first_treated_at"], unique=False)
    op.execute("""
        UPDATE client SET first_treated_at = (
            SELECT min(t.performed_at) FROM treatment t
            WHERE t.client_id = client.id AND t.status = 'performed' AND t.archived_at IS NULL)
    """)


def downgrade():
    op.drop_index("ix_client_first_treated_at", table_name="client")
    op.drop_column("client", "first_treated_at")
