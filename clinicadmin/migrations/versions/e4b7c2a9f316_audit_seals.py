"""The audit log without a shared lock: each row takes its place from a sequence (PostgreSQL) and carries a keyed
digest (``key_id``, ``mac``); ``audit_seal`` chains the rows in batches; the ``audit_chain`` head row goes.

Rows already written keep their plain SHA-256 chain (``prev_hash``, ``hash``, now optional): the key is a deployment
secret the migration does not hold, so the first seals check that chain and give those rows their keyed digest
(``clinicadmin.audit_seal``).

Revision ID: e4b7c2a9f316
Revises: d8e3f1a6b2c9
Create Date: 2026-12-02 11:45:00
"""

import hashlib
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision = "e4b7c2a9f316"
down_revision = "d8e3f1a6b2c9"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
SEQUENCE = "audit_event_seq_seq"
FIELDS = ("user_id", "roles", "action", "object_type", "object_id", "client_id", "remote_addr", "outcome", "detail")
events = sa.table(
    "audit_event",
    sa.column("id", sa.Integer),
    sa.column("seq", sa.BigInteger),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("detail", sa.JSON),
    *(sa.column(c) for c in FIELDS[:-1]),
)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence(SEQUENCE)))
        op.execute(f"SELECT setval('{SEQUENCE}', COALESCE(MAX(seq), 0) + 1, false) FROM audit_event")
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("key_id", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
    op.create_table(
        "audit_seal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("legacy_rows", sa.Integer(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=20), nullable=False),
        sa.Column("prev_mac", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_seal"),
        sa.UniqueConstraint("number", name="uq_audit_seal_number"),
        sa.UniqueConstraint("first_seq", name="uq_audit_seal_first_seq"),
        sa.UniqueConstraint("prev_mac", name="uq_audit_seal_prev_mac"),
    )
    op.drop_table("audit_chain")


def _hash(prev, row):
    # The old chain's content and encoding (AuditEvent.content_hash), kept here so the migration never changes.
    at = row.at.astimezone(UTC).replace(tzinfo=None) if row.at.tzinfo else row.at
    content = [prev, at.isoformat(timespec="microseconds"), *(getattr(row, c) for c in FIELDS)]
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def downgrade():
    """Back to the plain chain: rows written with a keyed digest (and every row after the first of them) are
    numbered without gaps and chained by the old rule; the rows before keep their hashes."""
    bind = op.get_bind()
    prev, seq, rechain = GENESIS, 0, False
    for row in bind.execute(sa.select(events).order_by(events.c.seq)).all():
        seq += 1
        rechain = rechain or row.hash is None or row.seq != seq or row.prev_hash != prev
        if rechain:
            digest = _hash(prev, row)
            bind.execute(events.update().where(events.c.id == row.id).values(seq=seq, prev_hash=prev, hash=digest))
            prev = digest
        else:
            prev = row.hash
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chain"),
    )
    bind.execute(
        sa.table("audit_chain", sa.column("id"), sa.column("last_seq"), sa.column("last_hash"))
        .insert()
        .values(id=1, last_seq=seq, last_hash=prev)
    )
    op.drop_table("audit_seal")
    with op.batch_alter_table("audit_event") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch.drop_column("mac")
        batch.drop_column("key_id")
    if bind.dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence(SEQUENCE)))
