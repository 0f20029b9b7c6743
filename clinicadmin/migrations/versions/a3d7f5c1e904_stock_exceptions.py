"""Stock never blocks the clinical record: what a recorded treatment used that stock on file could not give is kept
as a stock exception (product, location, quantity, treatment, who and when; open until the stock clerk assigns it
stock from a lot).

Revision ID: a3d7f5c1e904
Revises: d3b6f9a1c2e4
Create Date: 2026-12-02 06:40:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "a3d7f5c1e904"
down_revision = "d3b6f9a1c2e4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stock_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("treatment_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_lot_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_exception_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["treatment_id"], ["treatment.id"], name=op.f("fk_stock_exception_treatment_id_treatment")
        ),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_stock_exception_product_id_product")),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_stock_exception_location_id_location")),
        sa.ForeignKeyConstraint(["lot_id"], ["stock_lot.id"], name=op.f("fk_stock_exception_lot_id_stock_lot")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_stock_exception_created_by_id_user")),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["user.id"], name=op.f("fk_stock_exception_resolved_by_id_user")),
        sa.ForeignKeyConstraint(
            ["resolved_lot_id"], ["stock_lot.id"], name=op.f("fk_stock_exception_resolved_lot_id_stock_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_exception")),
    )
    op.create_index(op.f("ix_stock_exception_treatment_id"), "stock_exception", ["treatment_id"], unique=False)
    op.create_index(op.f("ix_stock_exception_product_id"), "stock_exception", ["product_id"], unique=False)
    op.create_index(op.f("ix_stock_exception_location_id"), "stock_exception", ["location_id"], unique=False)
    op.create_index("ix_stock_exception_open", "stock_exception", ["resolved_at", "created_at"], unique=False)


def downgrade():
    op.drop_index("ix_stock_exception_open", table_name="stock_exception")
    op.drop_index(op.f("ix_stock_exception_location_id"), table_name="stock_exception")
    op.drop_index(op.f("ix_stock_exception_product_id"), table_name="stock_exception")
    op.drop_index(op.f("ix_stock_exception_treatment_id"), table_name="stock_exception")
    op.drop_table("stock_exception")
