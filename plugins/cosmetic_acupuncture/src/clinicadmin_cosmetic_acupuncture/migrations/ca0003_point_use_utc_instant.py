"""Cosmetic acupuncture: a point use's time is a timezone-aware UTC instant, like the core's (``timestamptz`` on
PostgreSQL; the values were already UTC). Nothing changes on SQLite.

Revision ID: ca0003
Revises: ca0002
Create Date: 2026-12-02 07:00:00
"""

from alembic import op

revision = "ca0003"
down_revision = "ca0002"
branch_labels = None
depends_on = ("b1f4d7e2c9a0",)

TABLE = "cosmetic_acupuncture_point_use"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN performed_at TYPE timestamptz USING performed_at AT TIME ZONE 'UTC'"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN performed_at TYPE timestamp USING performed_at AT TIME ZONE 'UTC'"
        )
