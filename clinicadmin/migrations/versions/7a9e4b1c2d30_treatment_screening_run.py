"""A treatment remembers its latest screening run, so a run that finds nothing leaves no stale findings current.

Revision ID: 7a9e4b1c2d30
Revises: 234566cf5dea
Create Date: 2026-11-22 03:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7a9e4b1c2d30"
down_revision = "234566cf5dea"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("treatment") as batch:
        batch.add_column(sa.Column("screening_run", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE treatment SET screening_run = (SELECT max(run) FROM screening_finding "
        "WHERE screening_finding.treatment_id = treatment.id)"
    )


def downgrade():
    with op.batch_alter_table("treatment") as batch:
        batch.drop_column("screening_run")
