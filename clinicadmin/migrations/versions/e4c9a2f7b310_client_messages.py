"""Messages to clients: each client's contact consent and channel, the templates a manager edits, and the log of
every reminder and aftercare message (one row each, claimed by its unique key before it is sent).

Revision ID: e4c9a2f7b310
Revises: 4c2e8a7d1b95
Create Date: 2026-12-02 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e4c9a2f7b310"
down_revision = "4c2e8a7d1b95"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on the client table, as in fed4e71c2fb8: a batch rebuild on SQLite would lose its indexes.
    op.add_column("client", sa.Column("contact_consent", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("client", sa.Column("contact_channel", sa.String(length=30), nullable=True))
    op.add_column("client", sa.Column("contact_consent_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute('ALTER TABLE client ADD COLUMN contact_consent_by_id INTEGER REFERENCES "user" (id)')
    else:
        op.add_column("client", sa.Column("contact_consent_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_client_contact_consent_by_id_user", "client", "user", ["contact_consent_by_id"], ["id"]
        )
    op.create_table(
        "message_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"], name=op.f("fk_message_template_updated_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_template")),
        sa.UniqueConstraint("kind", "channel", name="uq_message_template_kind_channel"),
    )
    op.create_table(
        "client_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("treatment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("about_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('sending', 'sent', 'failed', 'bounced', 'withdrawn')",
            name=op.f("ck_client_message_status_known"),
        ),
        sa.CheckConstraint("kind IN ('booking_reminder', 'aftercare')", name=op.f("ck_client_message_kind_known")),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name=op.f("fk_client_message_client_id_client")),
        sa.ForeignKeyConstraint(
            ["treatment_id"], ["treatment.id"], name=op.f("fk_client_message_treatment_id_treatment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_message")),
        sa.UniqueConstraint("kind", "treatment_id", "channel", "about_at", name="uq_client_message_once"),
    )
    op.create_index("ix_client_message_client", "client_message", ["client_id", "created_at"], unique=False)
    op.create_index("ix_client_message_status", "client_message", ["status", "claimed_at"], unique=False)
    op.create_index(op.f("ix_client_message_treatment_id"), "client_message", ["treatment_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_client_message_treatment_id"), table_name="client_message")
    op.drop_index("ix_client_message_status", table_name="client_message")
    op.drop_index("ix_client_message_client", table_name="client_message")
    op.drop_table("client_message")
    op.drop_table("message_template")
    for column in ("contact_consent_by_id", "contact_consent_at", "contact_channel", "contact_consent"):
        op.drop_column("client", column)
