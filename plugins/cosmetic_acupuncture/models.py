"""The plugin's own table: each point needled in each recorded session, for the most-used points report."""
from clinicadmin.extensions import db


class PointUse(db.Model):
    """One point needled in one recorded session (written in the recording's transaction)."""

    __tablename__ = "cosmetic_acupuncture_point_use"
    __table_args__ = (db.Index("ix_cosmetic_acupuncture_point_use_performed_point", "performed_at", "point"),)

    id = db.Column(db.Integer, primary_key=True)
    treatment_id = db.Column(db.Integer, db.ForeignKey("treatment.id"), nullable=False, index=True)
    point = db.Column(db.String(20), nullable=False)
    region = db.Column(db.String(10), nullable=False)
    performed_at = db.Column(db.DateTime, nullable=False)
