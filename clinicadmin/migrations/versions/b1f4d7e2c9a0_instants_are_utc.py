"""Time zones: each location may have its own (an IANA name; the clinic's default otherwise), and every stored
instant is timezone-aware UTC. On PostgreSQL the columns become ``timestamptz`` (the stored values were already UTC,
written naive); on SQLite they keep their text, UTC, and the ``UTCDateTime`` type reads them back aware.

The report month index keys ``date_trunc('month', performed_at AT TIME ZONE 'UTC')`` on PostgreSQL: ``date_trunc``
of a ``timestamptz`` depends on the session's zone, so it cannot be indexed.

Revision ID: b1f4d7e2c9a0
Revises: fed4e71c2fb8
Create Date: 2026-12-02 06:30:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "b1f4d7e2c9a0"
down_revision = "fed4e71c2fb8"
branch_labels = None
depends_on = None

INSTANTS = {
    "client": ("created_at", "archived_at", "first_treated_at"),
    "health_entry": ("recorded_at", "entered_in_error_at"),
    "setting": ("updated_at",),
    "stock_lot": ("received_at", "held_at"),
    "stock_movement": ("created_at",),
    "stocktake": ("counted_at",),
    "audit_event": ("at",),
    "form_submission": ("at",),
    "treatment": ("scheduled_at", "performed_at", "created_at", "recorded_at", "cancelled_at", "archived_at"),
    "screening_finding": ("screened_at", "acknowledged_at", "overridden_at"),
}
PERFORMED = "status = 'performed' AND archived_at IS NULL"
MONTH_INDEX = (
    "CREATE INDEX ix_treatment_performed_month ON treatment ({month}, modality, client_id, performed_at, "
    "practitioner_id, location_id) WHERE " + PERFORMED
)


def upgrade():
    op.add_column("location", sa.Column("time_zone", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_treatment_performed_month")
    for table, columns in INSTANTS.items():
        for column in columns:
            op.execute(
                f"ALTER TABLE \"{table}\" ALTER COLUMN {column} TYPE timestamptz USING {column} AT TIME ZONE 'UTC'"
            )
    op.execute(MONTH_INDEX.format(month="(date_trunc('month', performed_at AT TIME ZONE 'UTC'))"))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_treatment_performed_month")
        for table, columns in INSTANTS.items():
            for column in columns:
                op.execute(
                    f"ALTER TABLE \"{table}\" ALTER COLUMN {column} TYPE timestamp USING {column} AT TIME ZONE 'UTC'"
                )
        op.execute(MONTH_INDEX.format(month="(date_trunc('month', performed_at))"))
    op.drop_column("location", "time_zone")
