"""State changes happen once: who recorded or cancelled a treatment and when, what it consumed, which findings no
role can override, the one-time tokens that make a resubmitted form change nothing, lots held for a recall, and
what finds and merges duplicate clients (a client merged into another; each phone number's key).

Revision ID: fed4e71c2fb8
Revises: c5e1f9a2d746
Create Date: 2026-12-02 03:10:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "fed4e71c2fb8"
down_revision = "c5e1f9a2d746"
branch_labels = None
depends_on = None

TREATMENT_COLUMNS = ("recorded_at", "recorded_by_id", "cancelled_at", "cancelled_by_id", "cancel_reason", "consumed")


def upgrade():
    # Plain ALTER TABLE on the treatment table: a batch rebuild on SQLite would lose its expression indexes.
    op.add_column("treatment", sa.Column("recorded_at", sa.DateTime(), nullable=True))
    _add_reference("treatment", "recorded_by_id", "user")
    op.add_column("treatment", sa.Column("cancelled_at", sa.DateTime(), nullable=True))
    _add_reference("treatment", "cancelled_by_id", "user")
    op.add_column("treatment", sa.Column("cancel_reason", sa.String(length=255), nullable=True))
    op.add_column("treatment", sa.Column("consumed", sa.JSON(), nullable=True))
    op.add_column("stock_lot", sa.Column("held_at", sa.DateTime(), nullable=True))
    _add_reference("stock_lot", "held_by_id", "user")
    op.add_column("stock_lot", sa.Column("hold_reason", sa.String(length=255), nullable=True))
    op.create_index(op.f("ix_stock_lot_held_at"), "stock_lot", ["held_at"], unique=False)
    op.add_column("screening_finding", sa.Column("overridable", sa.Boolean(), nullable=False, server_default=sa.true()))
    _add_reference("client", "merged_into_id", "client")
    op.add_column("client", sa.Column("phone_key", sa.String(length=20), nullable=True))
    op.create_index(op.f("ix_client_phone_key"), "client", ["phone_key"], unique=False)
    client = sa.table(
        "client", sa.column("id", sa.Integer), sa.column("phone", sa.String), sa.column("phone_key", sa.String)
    )
    bind = op.get_bind()
    for row in bind.execute(sa.select(client.c.id, client.c.phone).where(client.c.phone.is_not(None))).all():
        key = _phone_key(row.phone)
        if key:
            bind.execute(client.update().where(client.c.id == row.id).values(phone_key=key))
    op.create_table(
        "form_submission",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_form_submission_user_id_user")),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_form_submission")),
    )
    op.create_index(op.f("ix_form_submission_at"), "form_submission", ["at"], unique=False)


def _add_reference(table, column, target):
    """A nullable ``<table>.<column>`` referencing ``<target>.id``; SQLite takes the reference in its ADD COLUMN (a
    batch rebuild of the table would lose its expression indexes)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f'ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES "{target}" (id)')
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(f"fk_{table}_{column}_{target}", table, target, [column], ["id"])


def _phone_key(phone):
    """As ``clinicadmin.duplicates.phone_key`` when this revision was written (a migration never imports the app)."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits[-9:] if len(digits) >= 6 else None


def downgrade():
    op.drop_index(op.f("ix_form_submission_at"), table_name="form_submission")
    op.drop_table("form_submission")
    op.drop_column("screening_finding", "overridable")
    op.drop_index(op.f("ix_client_phone_key"), table_name="client")
    op.drop_column("client", "phone_key")
    op.drop_column("client", "merged_into_id")
    op.drop_index(op.f("ix_stock_lot_held_at"), table_name="stock_lot")
    for column in ("hold_reason", "held_by_id", "held_at"):
        op.drop_column("stock_lot", column)
    for column in reversed(TREATMENT_COLUMNS):
        op.drop_column("treatment", column)
