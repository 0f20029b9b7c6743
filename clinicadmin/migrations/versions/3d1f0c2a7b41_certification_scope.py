"""Certifications are for a scope: a modality or a qualification (such as injections).

Revision ID: 3d1f0c2a7b41
Revises: fcbfbb70a9cf
Create Date: 2026-11-22 03:00:00
"""

from alembic import op

revision = "3d1f0c2a7b41"
down_revision = "fcbfbb70a9cf"
branch_labels = None
depends_on = None


def _rename(old, new):
    op.drop_index(f"ix_certification_user_{old}", table_name="certification")
    op.drop_index(f"ix_certification_{old}", table_name="certification")
    with op.batch_alter_table("certification") as batch:
        batch.alter_column(old, new_column_name=new)
    op.create_index(f"ix_certification_user_{new}", "certification", ["user_id", new])
    op.create_index(f"ix_certification_{new}", "certification", [new])


def upgrade():
    _rename("modality", "scope")


def downgrade():
    _rename("scope", "modality")
