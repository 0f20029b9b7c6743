"""Courses: notes (the plan, the goal), and indexes behind the course list's sort and filters.

Revision ID: 234566cf5dea
Revises: 3d1f0c2a7b41
Create Date: 2026-11-22 03:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "234566cf5dea"
down_revision = "3d1f0c2a7b41"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course") as batch:
        batch.add_column(sa.Column("notes", sa.String(length=500), nullable=True))
    op.create_index("ix_course_modality", "course", ["modality"])
    op.create_index("ix_course_started_on", "course", ["started_on"])


def downgrade():
    op.drop_index("ix_course_started_on", table_name="course")
    op.drop_index("ix_course_modality", table_name="course")
    with op.batch_alter_table("course") as batch:
        batch.drop_column("notes")
