"""Client fields that plugins register, kept on the client (``client.plugin_fields``, a JSON object); and finding
codes a plugin's rules stored with its prefix twice (``cupping.cupping.skin_fragility``) spelt once, as screening
now writes them, so that an acknowledgement or override given before carries over to the next run.

Revision ID: c7d2a9e4f1b6
Revises: b00c4a1e5d27
Create Date: 2026-12-02 09:10:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "c7d2a9e4f1b6"
down_revision = "b00c4a1e5d27"
branch_labels = None
depends_on = None

# "<plugin>.<plugin>.<rest>" becomes "<plugin>.<rest>" (string functions both SQLite and PostgreSQL have)
SPELL_ONCE = (
    "UPDATE screening_finding SET code = substr(code, length(plugin) + 2) "
    "WHERE substr(code, 1, 2 * length(plugin) + 2) = plugin || '.' || plugin || '.'"
)


def upgrade():
    # Plain ALTER TABLE (a column with a server default): a batch rebuild on SQLite would lose the client table's
    # expression indexes.
    op.add_column("client", sa.Column("plugin_fields", sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
    op.execute(SPELL_ONCE)


def downgrade():
    # The finding codes stay spelt once: which ones were doubled is not known any more, and both spellings meant the
    # same finding.
    # Plain ALTER TABLE, which SQLite has had since 3.35; a batch rebuild would lose the expression indexes.
    op.execute("ALTER TABLE client DROP COLUMN plugin_fields")
