"""Index-backed search: ``lower(column)`` of client names and e-mail, product names and SKUs, in byte order, so that a
prefix search reads a range of an index instead of every row.

PostgreSQL gets ``COLLATE "C"`` (byte order, whatever the database's collation); SQLite's default order is bytes.
These are not in the models' metadata (SQLite cannot reflect an expression index);
``clinicadmin.schema.EXPRESSION_INDEXES`` lists them, and Alembic's comparison leaves them out.

Revision ID: a7c2e9f4b813
Revises: f3b8d0c6a215
Create Date: 2026-11-22 06:05:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "a7c2e9f4b813"
down_revision = "f3b8d0c6a215"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_client_lower_last_name": ("client", "last_name"),
    "ix_client_lower_first_name": ("client", "first_name"),
    "ix_client_lower_email": ("client", "email"),
    "ix_product_lower_name": ("product", "name"),
    "ix_product_lower_sku": ("product", "sku"),
}


def upgrade():
    collate = ' COLLATE "C"' if op.get_bind().dialect.name == "postgresql" else ""
    for name, (table, column) in INDEXES.items():
        op.execute(f'CREATE INDEX {name} ON "{table}" ((lower({column}){collate}))')


def downgrade():
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
