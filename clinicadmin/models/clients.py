"""Clients, their coded health history and their consents per modality."""

from sqlalchemy import event
from sqlalchemy.orm import validates

from ..clock import now
from ..extensions import Model, db
from .types import UTCDateTime


class Client(Model):
    """A client of the clinic. Never deleted: ``archived_at`` takes a client out of the normal lists."""

    __tablename__ = "client"
    __table_args__ = (db.Index("ix_client_name", "last_name", "first_name"),)

    id = db.Column(db.Integer, primary_key=True)
    first_name = db.Column(db.String(80), nullable=False)
    last_name = db.Column(db.String(80), nullable=False)
    date_of_birth = db.Column(db.Date)
    email = db.Column(db.String(254), index=True)
    phone = db.Column(db.String(40))
    clinical_notes = db.Column(db.Text)
    intake_reviewed_on = db.Column(db.Date)
    created_at = db.Column(UTCDateTime, nullable=False, default=now, index=True)
    archived_at = db.Column(UTCDateTime, index=True)
    archived_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    archived_by = db.relationship("User", foreign_keys=[archived_by_id])
    archive_reason = db.Column(db.String(255))
    #: when the client's first performed (and not archived) treatment took place; kept by ``first_session``
    first_treated_at = db.Column(UTCDateTime, index=True)
    #: a duplicate record merged into another is archived and points at the record it was merged into
    merged_into_id = db.Column(db.Integer, db.ForeignKey("client.id"))
    #: the phone number's last nine digits, so that "+44 7700 900123" and "07700 900123" are found as one
    phone_key = db.Column(db.String(20), index=True)
    #: the values of the client fields plugins register ({key: value}); a removed plugin's values are kept
    plugin_fields = db.Column(db.JSON, nullable=False, default=dict, server_default=db.text("'{}'"))
    #: whether the client agreed to be sent reminders and aftercare, on which channel (``email``, or one a plugin
    #: registers), and who recorded it when; not a treatment consent (``Consent``)
    contact_consent = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    contact_channel = db.Column(db.String(30))
    contact_consent_at = db.Column(UTCDateTime)
    contact_consent_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    contact_consent_by = db.relationship("User", foreign_keys=[contact_consent_by_id])

    health_entries = db.relationship(
        "HealthEntry", back_populates="client", cascade="all, delete-orphan", order_by="HealthEntry.onset"
    )
    consents = db.relationship("Consent", back_populates="client", order_by="Consent.signed_on")

    @validates("phone")
    def _keep_phone_key(self, key, phone):
        from ..duplicates import phone_key

        self.phone_key = phone_key(phone)
        return phone

    def field_value(self, key):
        """The client's value of the registered client field ``key``, or None when not recorded."""
        return (self.plugin_fields or {}).get(key)

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    def __str__(self):
        born = f" (b. {self.date_of_birth.isoformat()})" if self.date_of_birth else ""
        return f"{self.last_name}, {self.first_name}{born}"


class HealthEntry(Model):
    """One coded item of a client's health history: a condition, medication, procedure or state, with dates.

    Never deleted and never recoded: an entry that is over gets an ``ended`` date (a waiting period counts from it);
    one that was never true is marked entered in error (who, when, why), which screening ignores and the record keeps.
    """

    __tablename__ = "health_entry"
    __table_args__ = (db.Index("ix_health_entry_client_code", "client_id", "code"),)

    id = db.Column(db.Integer, primary_key=True)
    client_id = db.Column(db.Integer, db.ForeignKey("client.id"), nullable=False)
    client = db.relationship("Client", back_populates="health_entries")
    code = db.Column(db.String(60), nullable=False, index=True)
    onset = db.Column(db.Date, index=True)
    ended = db.Column(db.Date)
    notes = db.Column(db.String(500))
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    recorded_by = db.relationship("User", foreign_keys=[recorded_by_id])
    recorded_at = db.Column(UTCDateTime, nullable=False, default=now)
    entered_in_error_at = db.Column(UTCDateTime)
    entered_in_error_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    entered_in_error_by = db.relationship("User", foreign_keys=[entered_in_error_by_id])
    entered_in_error_reason = db.Column(db.String(255))

    @property
    def in_error(self):
        return self.entered_in_error_at is not None

    def __str__(self):
        return self.code


@event.listens_for(HealthEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise PermissionError("a health-history entry is never deleted: end it or mark it entered in error")


class Consent(Model):
    """A client's signed consent to one modality; valid from signing until it expires or is withdrawn."""

    __tablename__ = "consent"
    __table_args__ = (db.Index("ix_consent_client_modality", "client_id", "modality"),)

    id = db.Column(db.Integer, primary_key=True)
    client_id = db.Column(db.Integer, db.ForeignKey("client.id"), nullable=False)
    client = db.relationship("Client", back_populates="consents")
    modality = db.Column(db.String(60), nullable=False, index=True)
    signed_on = db.Column(db.Date, nullable=False, index=True)
    expires_on = db.Column(db.Date, index=True)
    withdrawn_on = db.Column(db.Date)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    recorded_by = db.relationship("User")

    def valid_on(self, day):
        return (
            self.signed_on <= day
            and (self.expires_on is None or day <= self.expires_on)
            and (self.withdrawn_on is None or day < self.withdrawn_on)
        )

    def __str__(self):
        return f"{self.modality} consent signed {self.signed_on.isoformat()}"


@event.listens_for(Consent, "before_delete")
def _refuse_consent_delete(mapper, connection, target):
    raise PermissionError("a consent is never deleted: give the date it was withdrawn")
