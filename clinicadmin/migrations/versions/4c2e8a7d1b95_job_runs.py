"""Background jobs: ``job_run`` (every attempt of a job, its outcome, for an admin) and ``job_claim`` (an effect of
a job claimed once, e.g. a digest per day and recipient).

Revision ID: 4c2e8a7d1b95
Revises: e4b7c2a9f316
Create Date: 2026-12-02 11:45:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "4c2e8a7d1b95"
down_revision = "e4b7c2a9f316"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=80), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("outcome IN ('running', 'ok', 'retrying', 'failed')", name=op.f("ck_job_run_outcome")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    op.create_index("ix_job_run_job_started", "job_run", ["job", "started_at"], unique=False)
    op.create_table(
        "job_claim",
        sa.Column("job", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", "key", name=op.f("pk_job_claim")),
    )


def downgrade():
    op.drop_table("job_claim")
    op.drop_index("ix_job_run_job_started", table_name="job_run")
    op.drop_table("job_run")
