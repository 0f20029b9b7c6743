"""Who called a booking off (the client, the clinic) or that the client did not come (a no-show), and whether a
client's cancellation came within the clinic's notice period. Older cancellations say neither.

Revision ID: d3b6f9a1c2e4
Revises: b1f4d7e2c9a0
Create Date: 2026-12-02 06:40:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "d3b6f9a1c2e4"
down_revision = "b1f4d7e2c9a0"
branch_labels = None
depends_on = None

KNOWN = "cancellation IS NULL OR cancellation IN ('client', 'clinic', 'no_show')"


def upgrade():
    # Plain ALTER TABLE: a batch rebuild of the treatment table on SQLite would lose its expression index; SQLite
    # takes a CHECK in ADD COLUMN.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE treatment ADD COLUMN cancellation VARCHAR(10) "
            f"CONSTRAINT ck_treatment_cancellation_known CHECK ({KNOWN})"
        )
    else:
        op.add_column("treatment", sa.Column("cancellation", sa.String(length=10), nullable=True))
        op.create_check_constraint("ck_treatment_cancellation_known", "treatment", KNOWN)
    op.add_column("treatment", sa.Column("cancelled_late", sa.Boolean(), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column whose CHECK is its own column constraint.
        op.execute("ALTER TABLE treatment DROP COLUMN cancelled_late")
        op.execute("ALTER TABLE treatment DROP COLUMN cancellation")
        return
    op.drop_constraint("ck_treatment_cancellation_known", "treatment", type_="check")
    op.drop_column("treatment", "cancelled_late")
    op.drop_column("treatment", "cancellation")
