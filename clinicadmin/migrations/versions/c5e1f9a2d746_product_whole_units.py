"""Products counted in whole units (``product.whole_units``): no fraction of a needle or an ampoule is received,
moved, written off or counted. Existing single-use products are counted in whole units; others stay as they were.

Revision ID: c5e1f9a2d746
Revises: ce6845f7cba7
Create Date: 2026-12-02 03:00:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "c5e1f9a2d746"
down_revision = "ce6845f7cba7"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, never a batch rebuild: a rebuilt product table on SQLite would lose its search indexes
    # (clinicadmin.schema.EXPRESSION_INDEXES).
    op.add_column("product", sa.Column("whole_units", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(sa.text("UPDATE product SET whole_units = :yes WHERE single_use = :yes").bindparams(yes=True))


def downgrade():
    op.drop_column("product", "whole_units")  # plain, for the same reason
