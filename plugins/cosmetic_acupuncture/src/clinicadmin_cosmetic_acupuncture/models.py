"""The plugin's own table: each point needled in each recorded session, for the most-used points report."""

from clinicadmin.extensions import Model, db
from clinicadmin.models.types import UTCDateTime

#: What the points report reads, in the order of its index over the period.
REPORTED = ("performed_at", "point", "client_id", "location_id", "practitioner_id", "treatment_id")


class PointUse(Model):
    """One point needled in one recorded session (written in the recording's transaction), with the session's time,
    client, location and practitioner: the points report reads this table's index alone, never the treatments."""

    __tablename__ = "cosmetic_acupuncture_point_use"
    # Both hold everything the points report reads. PostgreSQL reads the period's range of the first (it has no skip
    # scan); SQLite skips through the second point by point, counting each point's clients without sorting a year.
    __table_args__ = (
        db.Index("ix_cosmetic_acupuncture_point_use_report", *REPORTED),
        db.Index("ix_cosmetic_acupuncture_point_use_point_report", "point", "performed_at", *REPORTED[2:]),
    )

    id = db.Column(db.Integer, primary_key=True)
    treatment_id = db.Column(db.Integer, db.ForeignKey("treatment.id"), nullable=False, index=True)
    point = db.Column(db.String(20), nullable=False)
    region = db.Column(db.String(10), nullable=False)
    performed_at = db.Column(UTCDateTime, nullable=False)
    client_id = db.Column(db.Integer, db.ForeignKey("client.id"), nullable=False)
    location_id = db.Column(db.Integer, db.ForeignKey("location.id"), nullable=False)
    practitioner_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
