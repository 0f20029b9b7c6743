"""A message of a kind about one booking or session is sent once whatever the client's channel: a unique index on
(kind, treatment, about_at) without the channel. The first key stays (the new one implies it; dropping it would
rebuild the table on SQLite).

Revision ID: f2a8c4e6d1b7
Revises: e4a7c2b9f1d3
Create Date: 2026-12-02 13:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f2a8c4e6d1b7"
down_revision = "e4a7c2b9f1d3"
branch_labels = None
depends_on = None


def upgrade():
    twice = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT kind, treatment_id, about_at FROM client_message "
                "GROUP BY kind, treatment_id, about_at HAVING COUNT(*) > 1"
            )
        )
        .all()
    )
    if twice:
        raise RuntimeError(
            f"{len(twice)} message(s) were logged on two channels for the same booking or session (the first: "
            f"{twice[0].kind} of treatment {twice[0].treatment_id}); archive the extra client_message rows by hand "
            "(keep the sent one), then upgrade again."
        )
    op.create_index(
        "uq_client_message_once_any_channel", "client_message", ["kind", "treatment_id", "about_at"], unique=True
    )


def downgrade():
    op.drop_index("uq_client_message_once_any_channel", table_name="client_message")
