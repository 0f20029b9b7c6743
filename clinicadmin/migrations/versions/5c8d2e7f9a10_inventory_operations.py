"""Inventory operations: suppliers, receipt reversals, transfers, stocktakes (the ledger links them).

Revision ID: 5c8d2e7f9a10
Revises: 7a9e4b1c2d30
Create Date: 2026-11-22 03:22:25.091734

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "5c8d2e7f9a10"
down_revision = "7a9e4b1c2d30"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "supplier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("contact", sa.String(length=160), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier")),
        sa.UniqueConstraint("name", name=op.f("uq_supplier_name")),
    )
    with op.batch_alter_table("supplier", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supplier_active"), ["active"], unique=False)

    op.create_table(
        "stocktake",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_stocktake_location_id_location")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_stocktake_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stocktake")),
    )
    with op.batch_alter_table("stocktake", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stocktake_counted_at"), ["counted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_stocktake_location_id"), ["location_id"], unique=False)

    op.create_table(
        "stocktake_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stocktake_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("expected", sa.BigInteger(), nullable=False),
        sa.Column("counted", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["stock_lot.id"], name=op.f("fk_stocktake_line_lot_id_stock_lot")),
        sa.ForeignKeyConstraint(
            ["stocktake_id"], ["stocktake.id"], name=op.f("fk_stocktake_line_stocktake_id_stocktake")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stocktake_line")),
    )
    with op.batch_alter_table("stocktake_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stocktake_line_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stocktake_line_stocktake_id"), ["stocktake_id"], unique=False)

    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supplier_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reverses_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("counterpart_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("stocktake_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_stock_movement_stocktake_id"), ["stocktake_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_movement_supplier_id"), ["supplier_id"], unique=False)
        batch_op.create_unique_constraint("uq_stock_movement_reverses_id", ["reverses_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_stock_movement_stocktake_id_stocktake"), "stocktake", ["stocktake_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_stock_movement_supplier_id_supplier"), "supplier", ["supplier_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_stock_movement_counterpart_id_stock_movement"), "stock_movement", ["counterpart_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_stock_movement_reverses_id_stock_movement"), "stock_movement", ["reverses_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_stock_movement_reverses_id_stock_movement"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_stock_movement_counterpart_id_stock_movement"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_stock_movement_supplier_id_supplier"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_stock_movement_stocktake_id_stocktake"), type_="foreignkey")
        batch_op.drop_constraint("uq_stock_movement_reverses_id", type_="unique")
        batch_op.drop_index(batch_op.f("ix_stock_movement_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_stock_movement_stocktake_id"))
        batch_op.drop_column("stocktake_id")
        batch_op.drop_column("counterpart_id")
        batch_op.drop_column("reverses_id")
        batch_op.drop_column("supplier_id")

    with op.batch_alter_table("stocktake_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stocktake_line_stocktake_id"))
        batch_op.drop_index(batch_op.f("ix_stocktake_line_lot_id"))

    op.drop_table("stocktake_line")
    with op.batch_alter_table("stocktake", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stocktake_location_id"))
        batch_op.drop_index(batch_op.f("ix_stocktake_counted_at"))

    op.drop_table("stocktake")
    with op.batch_alter_table("supplier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_active"))

    op.drop_table("supplier")
