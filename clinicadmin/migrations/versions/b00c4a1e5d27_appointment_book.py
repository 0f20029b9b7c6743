"""The appointment book: a booking's end and the span it holds, rooms and devices of each location, the time each
booking holds per practitioner, resource and client (no two overlapping on PostgreSQL: exclusion constraints with
btree_gist), practitioners' working hours and time off.

Bookings made before this revision hold no slots (their end is unknown): they are not part of the conflict check.

Revision ID: b00c4a1e5d27
Revises: a3d7f5c1e904
Create Date: 2026-12-02 06:30:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "b00c4a1e5d27"
down_revision = "a3d7f5c1e904"
branch_labels = None
depends_on = None

HOLDERS = ("practitioner_id", "resource_id", "client_id")


def upgrade():
    # Plain ALTER TABLE on the treatment table: a batch rebuild on SQLite would lose its expression indexes.
    for column in ("ends_at", "busy_from", "busy_until"):
        op.add_column("treatment", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_resource_location_id_location")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource")),
        sa.UniqueConstraint("location_id", "name", name="uq_resource_location_name"),
    )
    op.create_index("ix_resource_location_kind", "resource", ["location_id", "kind", "active"], unique=False)
    op.create_table(
        "treatment_resource",
        sa.Column("treatment_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resource.id"], name=op.f("fk_treatment_resource_resource_id_resource")
        ),
        sa.ForeignKeyConstraint(
            ["treatment_id"], ["treatment.id"], name=op.f("fk_treatment_resource_treatment_id_treatment")
        ),
        sa.PrimaryKeyConstraint("treatment_id", "resource_id", name=op.f("pk_treatment_resource")),
    )
    op.create_index(op.f("ix_treatment_resource_resource_id"), "treatment_resource", ["resource_id"], unique=False)
    op.create_table(
        "booking_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("treatment_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("busy_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("busy_until", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("busy_until > busy_from", name=op.f("ck_booking_slot_span_positive")),
        sa.CheckConstraint(
            "(CASE WHEN practitioner_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN resource_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN client_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_booking_slot_one_holder"),
        ),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name=op.f("fk_booking_slot_client_id_client")),
        sa.ForeignKeyConstraint(["practitioner_id"], ["user.id"], name=op.f("fk_booking_slot_practitioner_id_user")),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"], name=op.f("fk_booking_slot_resource_id_resource")),
        sa.ForeignKeyConstraint(
            ["treatment_id"], ["treatment.id"], name=op.f("fk_booking_slot_treatment_id_treatment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_slot")),
    )
    op.create_index(op.f("ix_booking_slot_treatment_id"), "booking_slot", ["treatment_id"], unique=False)
    op.create_index("ix_booking_slot_practitioner", "booking_slot", ["practitioner_id", "busy_from"], unique=False)
    op.create_index("ix_booking_slot_resource", "booking_slot", ["resource_id", "busy_from"], unique=False)
    op.create_index("ix_booking_slot_client", "booking_slot", ["client_id", "busy_from"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for holder in HOLDERS:
            op.execute(
                f"ALTER TABLE booking_slot ADD CONSTRAINT ex_booking_slot_{holder.removesuffix('_id')} "
                f"EXCLUDE USING gist ({holder} WITH =, tstzrange(busy_from, busy_until, '[)') WITH &&) "
                f"WHERE ({holder} IS NOT NULL)"
            )
    op.create_table(
        "working_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_working_hours_weekday_known")),
        sa.CheckConstraint("ends > starts", name=op.f("ck_working_hours_ends_after_start")),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_working_hours_location_id_location")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_working_hours_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_working_hours")),
    )
    op.create_index(op.f("ix_working_hours_location_id"), "working_hours", ["location_id"], unique=False)
    op.create_index(
        "ix_working_hours_user_location_day", "working_hours", ["user_id", "location_id", "weekday"], unique=False
    )
    op.create_table(
        "time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.CheckConstraint("last_day >= first_day", name=op.f("ck_time_off_days_in_order")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_time_off_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_off")),
    )
    op.create_index("ix_time_off_user_days", "time_off", ["user_id", "last_day", "first_day"], unique=False)
    op.create_index(op.f("ix_time_off_first_day"), "time_off", ["first_day"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_time_off_first_day"), table_name="time_off")
    op.drop_index("ix_time_off_user_days", table_name="time_off")
    op.drop_table("time_off")
    op.drop_index("ix_working_hours_user_location_day", table_name="working_hours")
    op.drop_index(op.f("ix_working_hours_location_id"), table_name="working_hours")
    op.drop_table("working_hours")
    op.drop_table("booking_slot")
    op.drop_table("treatment_resource")
    op.drop_index("ix_resource_location_kind", table_name="resource")
    op.drop_table("resource")
    for column in ("busy_until", "busy_from", "ends_at"):
        op.drop_column("treatment", column)
