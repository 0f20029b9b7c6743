"""Cosmetic acupuncture: each point use carries its session's client, location and practitioner, and one index holds
all the points report reads (two: PostgreSQL reads the period's range of one, SQLite skips point by point through the
other), so a chain's year of points (about 600,000) is read from an index alone instead of joining each to its
treatment. Filled here from the treatments.

Revision ID: ca0002
Revises: ca0001
Create Date: 2026-11-30 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "ca0002"
down_revision = "ca0001"
branch_labels = None
depends_on = None

TABLE = "cosmetic_acupuncture_point_use"
REPORTED = ("performed_at", "point", "client_id", "location_id", "practitioner_id", "treatment_id")
COPIED = (("client_id", "client"), ("location_id", "location"), ("practitioner_id", "user"))


def upgrade():
    with op.batch_alter_table(TABLE) as batch:
        for column, _ in COPIED:
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
    op.execute(f"""
        UPDATE {TABLE} SET client_id = t.client_id, location_id = t.location_id, practitioner_id = t.practitioner_id
        FROM treatment t WHERE t.id = {TABLE}.treatment_id
    """)
    with op.batch_alter_table(TABLE) as batch:
        for column, table in COPIED:
            batch.alter_column(column, existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(f"fk_{TABLE}_{column}_{table}", table, [column], ["id"])
        batch.drop_index("ix_cosmetic_acupuncture_point_use_performed_point")
        batch.create_index("ix_cosmetic_acupuncture_point_use_report", list(REPORTED))
        batch.create_index("ix_cosmetic_acupuncture_point_use_point_report", ["point", "performed_at", *REPORTED[2:]])


def downgrade():
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_index("ix_cosmetic_acupuncture_point_use_point_report")
        batch.drop_index("ix_cosmetic_acupuncture_point_use_report")
        batch.create_index("ix_cosmetic_acupuncture_point_use_performed_point", ["performed_at", "point"])
        for column, table in COPIED:
            batch.drop_constraint(f"fk_{TABLE}_{column}_{table}", type_="foreignkey")
            batch.drop_column(column)
