"""An acknowledgement or override keeps a fingerprint of the answers it was given on
(``screening_finding.decided_on``), so it carries over to a later screening only while those answers are unchanged.

The decisions already on file are taken as given on their treatment's current answers: the answers change only with
a new screening run, so they are the answers the current run was screened with.

Revision ID: d8e3f1a6b2c9
Revises: c7d2a9e4f1b6
Create Date: 2026-12-02 10:00:00

"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d8e3f1a6b2c9"
down_revision = "c7d2a9e4f1b6"
branch_labels = None
depends_on = None

finding = sa.table(
    "screening_finding",
    sa.column("id", sa.Integer),
    sa.column("treatment_id", sa.Integer),
    sa.column("acknowledged_at", sa.DateTime),
    sa.column("overridden_at", sa.DateTime),
    sa.column("decided_on", sa.JSON),
)
treatment = sa.table("treatment", sa.column("id", sa.Integer), sa.column("details", sa.JSON))


def _fingerprint(details):
    """As ``clinicadmin.screening.answers_fingerprint`` computed it when this revision was written."""
    return {
        str(key): hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]
        for key, value in (details or {}).items()
    }


def upgrade():
    # Plain ALTER TABLE ADD COLUMN (nullable, no default) works on SQLite and PostgreSQL alike; a batch rebuild on
    # SQLite is not needed for it.
    op.add_column("screening_finding", sa.Column("decided_on", sa.JSON(), nullable=True))
    bind = op.get_bind()
    decided = bind.execute(
        sa.select(finding.c.id, treatment.c.details)
        .join(treatment, treatment.c.id == finding.c.treatment_id)
        .where(sa.or_(finding.c.acknowledged_at.is_not(None), finding.c.overridden_at.is_not(None)))
    ).all()
    for finding_id, details in decided:
        if isinstance(details, str):  # a driver that hands JSON back as text
            details = json.loads(details)
        bind.execute(finding.update().where(finding.c.id == finding_id).values(decided_on=_fingerprint(details)))


def downgrade():
    # Plain ALTER TABLE, which SQLite has had since 3.35 (as the revision before this one).
    op.execute("ALTER TABLE screening_finding DROP COLUMN decided_on")
