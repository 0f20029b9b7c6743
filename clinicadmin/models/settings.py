"""A clinic's value for a setting that a plugin registered with a default."""

from ..clock import now
from ..extensions import Model, db
from .types import UTCDateTime


class Setting(Model):
    __tablename__ = "setting"

    key = db.Column(db.String(120), primary_key=True)
    value = db.Column(db.JSON, nullable=False)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    updated_by = db.relationship("User")
    updated_at = db.Column(UTCDateTime, nullable=False, default=now)
