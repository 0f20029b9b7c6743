"""Clinical photos and the photo consent they need: both kept for the record, never deleted."""

from sqlalchemy import event

from ..clock import now
from ..extensions import Model, db
from .types import UTCDateTime

#: What a photo consent allows, each scope including the ones before it, with what people read for it.
PHOTO_SCOPES = {
    "clinical": "Clinical record only",
    "teaching": "Clinical record and teaching",
    "marketing": "Clinical record, teaching and marketing",
}
#: When a photo is taken, in relation to a treatment.
PHOTO_KINDS = {"before": "Before", "after": "After", "follow_up": "Follow-up", "reaction": "Reaction"}


def scope_allows(scope, use):
    """Whether a consent of ``scope`` covers ``use`` (a scope key): each scope includes the ones listed before it."""
    order = list(PHOTO_SCOPES)
    return scope in order and use in order and order.index(use) <= order.index(scope)


class PhotoConsent(Model):
    """A client's consent to clinical photos, with its scope; valid from signing until withdrawn. Its client, scope
    and signing date never change once recorded, and a withdrawal is recorded once and never undone."""

    __tablename__ = "photo_consent"

    id = db.Column(db.Integer, primary_key=True)
    client_id = db.Column(db.Integer, db.ForeignKey("client.id"), nullable=False, index=True)
    client = db.relationship("Client")
    scope = db.Column(db.String(20), nullable=False)
    signed_on = db.Column(db.Date, nullable=False)
    withdrawn_on = db.Column(db.Date)
    #: who recorded the withdrawal, when and why: set once, with ``withdrawn_on`` (never cleared)
    withdrawn_at = db.Column(UTCDateTime)
    withdrawn_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    withdrawn_by = db.relationship("User", foreign_keys=[withdrawn_by_id])
    withdrawal_reason = db.Column(db.String(255))
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    recorded_by = db.relationship("User", foreign_keys=[recorded_by_id])
    recorded_at = db.Column(UTCDateTime, nullable=False, default=now)

    def valid_on(self, day):
        return self.signed_on <= day and (self.withdrawn_on is None or day < self.withdrawn_on)

    @property
    def scope_label(self):
        return PHOTO_SCOPES.get(self.scope, self.scope)

    def __str__(self):
        return f"photo consent ({self.scope_label}) signed {self.signed_on.isoformat()}"


class Photo(Model):
    """One clinical photo of a client: its file and thumbnail are in the photo storage under opaque keys, never under
    the name it was uploaded with. ``consent_scope`` is the scope its consent had when it was taken, which limits
    its use for good. Archived with a reason, never deleted."""

    __tablename__ = "photo"
    __table_args__ = (db.Index("ix_photo_client_area", "client_id", "area", "taken_at"),)

    id = db.Column(db.Integer, primary_key=True)
    client_id = db.Column(db.Integer, db.ForeignKey("client.id"), nullable=False)
    client = db.relationship("Client")
    treatment_id = db.Column(db.Integer, db.ForeignKey("treatment.id"), index=True)
    treatment = db.relationship("Treatment")
    kind = db.Column(db.String(20), nullable=False)
    area = db.Column(db.String(60), nullable=False)
    note = db.Column(db.String(500))
    taken_at = db.Column(UTCDateTime, nullable=False, default=now)
    consent_id = db.Column(db.Integer, db.ForeignKey("photo_consent.id"), nullable=False)
    consent = db.relationship("PhotoConsent")
    consent_scope = db.Column(db.String(20), nullable=False)
    width = db.Column(db.Integer, nullable=False)
    height = db.Column(db.Integer, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    storage_key = db.Column(db.String(80), nullable=False, unique=True)
    thumb_key = db.Column(db.String(80), nullable=False, unique=True)
    taken_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    taken_by = db.relationship("User", foreign_keys=[taken_by_id])
    archived_at = db.Column(UTCDateTime, index=True)
    archived_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    archived_by = db.relationship("User", foreign_keys=[archived_by_id])
    archive_reason = db.Column(db.String(255))

    @property
    def kind_label(self):
        return PHOTO_KINDS.get(self.kind, self.kind)

    def may_be_used_for(self, use):
        """Whether the photo may be used for ``use`` (``clinical``, ``teaching``, ``marketing``): within the scope
        its consent had when it was taken, and, beyond the clinical record, only while that consent stands."""
        if not scope_allows(self.consent_scope, use):
            return False
        if use == "clinical" or self.consent is None or self.consent.withdrawn_on is None:
            return True
        from ..clock import local_today

        return local_today() < self.consent.withdrawn_on

    def __str__(self):
        return f"{self.kind_label} photo of {self.area}"


@event.listens_for(PhotoConsent, "before_delete")
def _refuse_consent_delete(mapper, connection, target):
    raise PermissionError("a photo consent is never deleted: give the date it was withdrawn")


@event.listens_for(Photo, "before_delete")
def _refuse_photo_delete(mapper, connection, target):
    raise PermissionError("a photo is never deleted: archive it with a reason")
