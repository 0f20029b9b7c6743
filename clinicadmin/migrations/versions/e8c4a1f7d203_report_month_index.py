"""Reports over a year of a chain: the performed sessions keyed by their month, with what the reports group and
filter by (modality, client, practitioner, location), so that a report reads one range of an index, already in
month order, instead of every session's row.

The month is ``strftime('%Y-%m', performed_at)`` on SQLite and ``date_trunc('month', performed_at)`` on PostgreSQL
(``clinicadmin.reporting.month_group``, which the queries must match to the letter). An expression index: not in the
models' metadata; ``clinicadmin.schema.EXPRESSION_INDEXES`` lists it.

Revision ID: e8c4a1f7d203
Revises: d5e1b7c9a342
Create Date: 2026-11-30 19:55:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "e8c4a1f7d203"
down_revision = "d5e1b7c9a342"
branch_labels = None
depends_on = None

MONTH = {"sqlite": "strftime('%Y-%m', performed_at)", "postgresql": "(date_trunc('month', performed_at))"}
PERFORMED = "status = 'performed' AND archived_at IS NULL"


def upgrade():
    month = MONTH[op.get_bind().dialect.name]
    op.execute(
        f"CREATE INDEX ix_treatment_performed_month ON treatment "
        f"({month}, modality, client_id, performed_at, practitioner_id, location_id) WHERE {PERFORMED}"
    )


def downgrade():
    op.execute("DROP INDEX ix_treatment_performed_month")
