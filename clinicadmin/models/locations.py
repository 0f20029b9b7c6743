"""A clinic site: stock lives at a location and treatments happen at one, in its time zone."""

from ..extensions import Model, db


class Location(Model):
    __tablename__ = "location"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False, unique=True)
    address = db.Column(db.String(255))
    active = db.Column(db.Boolean, nullable=False, default=True)
    #: an IANA zone name (``Europe/London``); None means the clinic's default (the ``core.time_zone`` setting)
    time_zone = db.Column(db.String(64))

    def __str__(self):
        return self.name
