"""Clinical photos (issue 18): the photo consent with its scope, and each photo's row (its file in the photo storage
under an opaque key, never deleted, archived with a reason).

Revision ID: e4a7c2b9f1d3
Revises: e4c9a2f7b310
Create Date: 2026-12-02 11:35:18

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e4a7c2b9f1d3"
down_revision = "e4c9a2f7b310"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "photo_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name=op.f("fk_photo_consent_client_id_client")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user.id"], name=op.f("fk_photo_consent_recorded_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo_consent")),
    )
    with op.batch_alter_table("photo_consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_photo_consent_client_id"), ["client_id"], unique=False)

    op.create_table(
        "photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("treatment_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("area", sa.String(length=60), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("consent_scope", sa.String(length=20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=80), nullable=False),
        sa.Column("thumb_key", sa.String(length=80), nullable=False),
        sa.Column("taken_by_id", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_by_id", sa.Integer(), nullable=True),
        sa.Column("archive_reason", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["archived_by_id"], ["user.id"], name=op.f("fk_photo_archived_by_id_user")),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name=op.f("fk_photo_client_id_client")),
        sa.ForeignKeyConstraint(["consent_id"], ["photo_consent.id"], name=op.f("fk_photo_consent_id_photo_consent")),
        sa.ForeignKeyConstraint(["taken_by_id"], ["user.id"], name=op.f("fk_photo_taken_by_id_user")),
        sa.ForeignKeyConstraint(["treatment_id"], ["treatment.id"], name=op.f("fk_photo_treatment_id_treatment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_photo_storage_key")),
        sa.UniqueConstraint("thumb_key", name=op.f("uq_photo_thumb_key")),
    )
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_photo_archived_at"), ["archived_at"], unique=False)
        batch_op.create_index("ix_photo_client_area", ["client_id", "area", "taken_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_photo_treatment_id"), ["treatment_id"], unique=False)


def downgrade():
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photo_treatment_id"))
        batch_op.drop_index("ix_photo_client_area")
        batch_op.drop_index(batch_op.f("ix_photo_archived_at"))

    op.drop_table("photo")
    with op.batch_alter_table("photo_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photo_consent_client_id"))

    op.drop_table("photo_consent")
