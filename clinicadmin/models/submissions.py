"""One-time form tokens: a form that creates something (a receipt, a write-off, a booking) carries a token, and the
step that handles it stores the token in its own transaction, so a second submission of the same form is refused."""

from ..clock import now
from ..extensions import Model, db
from .types import UTCDateTime


class FormSubmission(Model):
    __tablename__ = "form_submission"

    token = db.Column(db.String(64), primary_key=True)
    action = db.Column(db.String(60), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    user = db.relationship("User")
    at = db.Column(UTCDateTime, nullable=False, default=now, index=True)
