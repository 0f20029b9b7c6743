"""Reports at a chain's scale. Stock used per month: the ledger's consumption by treatments, summed per month of the
treatment, location, product and modality, kept as consumption is written (filled here from the existing ledger).
And each client's performed sessions in order (a partial index), for client retention's "first session".

Revision ID: d5e1b7c9a342
Revises: a7c2e9f4b813
Create Date: 2026-11-22 07:50:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "d5e1b7c9a342"
down_revision = "a7c2e9f4b813"
branch_labels = None
depends_on = None

PERFORMED = "status = 'performed' AND archived_at IS NULL"
MONTH = {"sqlite": "strftime('%Y-%m', t.performed_at)", "postgresql": "to_char(t.performed_at, 'YYYY-MM')"}


def upgrade():
    op.create_table(
        "stock_usage_month",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("modality", sa.String(length=60), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_stock_usage_month_location_id_location")
        ),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_stock_usage_month_product_id_product")),
        sa.PrimaryKeyConstraint("month", "location_id", "product_id", "modality", name=op.f("pk_stock_usage_month")),
    )
    op.create_index(
        "ix_treatment_client_performed",
        "treatment",
        ["client_id", "performed_at"],
        sqlite_where=sa.text(PERFORMED),
        postgresql_where=sa.text(PERFORMED),
    )
    month = MONTH[op.get_bind().dialect.name]
    op.execute(f"""
        INSERT INTO stock_usage_month (month, location_id, product_id, modality, quantity)
        SELECT {month}, l.location_id, l.product_id, t.modality, -sum(m.quantity)
        FROM stock_movement m
        JOIN treatment t ON t.id = m.treatment_id
        JOIN stock_lot l ON l.id = m.lot_id
        WHERE m.reason = 'consumption' AND t.performed_at IS NOT NULL
        GROUP BY {month}, l.location_id, l.product_id, t.modality
    """)


def downgrade():
    op.drop_table("stock_usage_month")
    op.drop_index("ix_treatment_client_performed", table_name="treatment")
