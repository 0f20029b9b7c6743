"""Indexes behind every sort and filter the admin lists offer.

Revision ID: fcbfbb70a9cf
Revises: b542b2e3a88c
Create Date: 2026-11-22 02:38:37.191942
"""

from alembic import op

revision = "fcbfbb70a9cf"
down_revision = "b542b2e3a88c"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_certification_modality", "certification", "modality"),
    ("ix_certification_valid_until", "certification", "valid_until"),
    ("ix_client_created_at", "client", "created_at"),
    ("ix_consent_expires_on", "consent", "expires_on"),
    ("ix_consent_modality", "consent", "modality"),
    ("ix_consent_signed_on", "consent", "signed_on"),
    ("ix_health_entry_onset", "health_entry", "onset"),
    ("ix_product_active", "product", "active"),
    ("ix_stock_lot_received_at", "stock_lot", "received_at"),
    ("ix_user_active", "user", "active"),
]


def upgrade():
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
