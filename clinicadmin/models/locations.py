"""A clinic site: stock lives at a location and treatments happen at one."""
from ..extensions import db


class Location(db.Model):
    __tablename__ = "location"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False, unique=True)
    address = db.Column(db.String(255))
    active = db.Column(db.Boolean, nullable=False, default=True)

    def __str__(self):
        return self.name
