"""The audit log becomes a hash chain (seq, prev_hash, hash, and the audit_chain head), with indexes for login
throttling. Existing rows are chained in id order.

Revision ID: 9b3f6a2d4e81
Revises: 5c8d2e7f9a10
Create Date: 2026-11-22 03:45:00
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "9b3f6a2d4e81"
down_revision = "5c8d2e7f9a10"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
COLUMNS = (
    "at",
    "user_id",
    "roles",
    "action",
    "object_type",
    "object_id",
    "client_id",
    "remote_addr",
    "outcome",
    "detail",
)


def _hash(prev, row):
    # The same content and encoding as AuditEvent.content_hash (kept here so the migration never changes with the app).
    content = [prev, row.at.isoformat(timespec="microseconds"), *(getattr(row, c) for c in COLUMNS[1:])]
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def upgrade():
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chain"),
    )
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    events = sa.table(
        "audit_event",
        sa.column("id"),
        sa.column("seq"),
        sa.column("prev_hash"),
        sa.column("hash"),
        sa.column("at", sa.DateTime()),
        sa.column("detail", sa.JSON()),
        *(sa.column(c) for c in COLUMNS[1:-1]),
    )
    prev, seq = GENESIS, 0
    for row in bind.execute(sa.select(events).order_by(events.c.id)).all():
        seq += 1
        digest = _hash(prev, row)
        bind.execute(events.update().where(events.c.id == row.id).values(seq=seq, prev_hash=prev, hash=digest))
        prev = digest
    bind.execute(
        sa.table("audit_chain", sa.column("id"), sa.column("last_seq"), sa.column("last_hash"))
        .insert()
        .values(id=1, last_seq=seq, last_hash=prev)
    )
    with op.batch_alter_table("audit_event") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_audit_event_seq", ["seq"])
    op.create_index("ix_audit_event_action_object_at", "audit_event", ["action", "object_id", "at"])
    op.create_index("ix_audit_event_action_addr_at", "audit_event", ["action", "remote_addr", "at"])


def downgrade():
    op.drop_index("ix_audit_event_action_addr_at", table_name="audit_event")
    op.drop_index("ix_audit_event_action_object_at", table_name="audit_event")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint("uq_audit_event_seq", type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    op.drop_table("audit_chain")
