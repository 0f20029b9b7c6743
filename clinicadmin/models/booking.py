"""The appointment book's own records: rooms and devices (resources of a location), the time each booking holds,
and practitioners' working hours and time off."""

from ..extensions import Model, db
from .types import UTCDateTime


class Resource(Model):
    """A room or device at a location, of a kind a plugin registers (``treatment_room``, a device). Never deleted:
    one taken out of use is made inactive, so past bookings still name it."""

    __tablename__ = "resource"
    __table_args__ = (
        db.UniqueConstraint("location_id", "name", name="uq_resource_location_name"),
        db.Index("ix_resource_location_kind", "location_id", "kind", "active"),
    )

    id = db.Column(db.Integer, primary_key=True)
    location_id = db.Column(db.Integer, db.ForeignKey("location.id"), nullable=False)
    location = db.relationship("Location")
    kind = db.Column(db.String(60), nullable=False)
    name = db.Column(db.String(120), nullable=False)
    active = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())

    def __str__(self):
        return self.name


class TreatmentResource(Model):
    """A room or device a booking takes, kept when the booking is cancelled (the record of what was planned)."""

    __tablename__ = "treatment_resource"

    treatment_id = db.Column(db.Integer, db.ForeignKey("treatment.id"), primary_key=True)
    resource_id = db.Column(db.Integer, db.ForeignKey("resource.id"), primary_key=True, index=True)
    resource = db.relationship("Resource")
    kind = db.Column(db.String(60), nullable=False)


class BookingSlot(Model):
    """The time one holder (a practitioner, a resource or a client: exactly one is set) is taken by a booked or
    performed treatment, from ``busy_from`` to ``busy_until`` (half open, so back-to-back bookings do not overlap).

    Rows exist while the treatment holds the time: cancelling or archiving it deletes them (the treatment keeps its
    times and resources). On PostgreSQL three exclusion constraints (``ex_booking_slot_*``, made by the migration
    with btree_gist) refuse two overlapping rows of one holder; on SQLite the booking checks under the write lock.
    """

    __tablename__ = "booking_slot"
    __table_args__ = (
        db.CheckConstraint("busy_until > busy_from", name="span_positive"),
        db.CheckConstraint(
            "(CASE WHEN practitioner_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN resource_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN client_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_holder",
        ),
        db.Index("ix_booking_slot_practitioner", "practitioner_id", "busy_from"),
        db.Index("ix_booking_slot_resource", "resource_id", "busy_from"),
        db.Index("ix_booking_slot_client", "client_id", "busy_from"),
    )

    id = db.Column(db.Integer, primary_key=True)
    treatment_id = db.Column(db.Integer, db.ForeignKey("treatment.id"), nullable=False, index=True)
    practitioner_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    resource_id = db.Column(db.Integer, db.ForeignKey("resource.id"))
    client_id = db.Column(db.Integer, db.ForeignKey("client.id"))
    busy_from = db.Column(UTCDateTime, nullable=False)
    busy_until = db.Column(UTCDateTime, nullable=False)


class WorkingHours(Model):
    """One stretch of a practitioner's working day at a location: ``weekday`` (0 is Monday), from ``starts`` to
    ``ends``, wall-clock times in the location's zone. A day may have several stretches (a lunch break between)."""

    __tablename__ = "working_hours"
    __table_args__ = (
        db.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_known"),
        db.CheckConstraint("ends > starts", name="ends_after_start"),
        db.Index("ix_working_hours_user_location_day", "user_id", "location_id", "weekday"),
    )

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    user = db.relationship("User")
    location_id = db.Column(db.Integer, db.ForeignKey("location.id"), nullable=False, index=True)
    location = db.relationship("Location")
    weekday = db.Column(db.Integer, nullable=False)
    starts = db.Column(db.Time, nullable=False)
    ends = db.Column(db.Time, nullable=False)


class TimeOff(Model):
    """Whole days a practitioner does not work (leave, training), from ``first_day`` to ``last_day`` inclusive, as
    dates where the booking is."""

    __tablename__ = "time_off"
    __table_args__ = (
        db.CheckConstraint("last_day >= first_day", name="days_in_order"),
        db.Index("ix_time_off_user_days", "user_id", "last_day", "first_day"),
    )

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    user = db.relationship("User")
    first_day = db.Column(db.Date, nullable=False, index=True)
    last_day = db.Column(db.Date, nullable=False)
    reason = db.Column(db.String(255))
