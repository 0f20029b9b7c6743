"""Messages to clients: the templates a manager edits and the log of every message, one row each."""

from ..clock import now
from ..extensions import Model, db
from .types import UTCDateTime

#: what a message is about: a booking's reminder, or the aftercare of a recorded treatment
MESSAGE_KINDS = ("booking_reminder", "aftercare")
#: ``sending`` is claimed (a worker is sending it); ``withdrawn`` was not sent because what it was about changed
MESSAGE_STATUSES = ("sending", "sent", "failed", "bounced", "withdrawn")


class MessageTemplate(Model):
    """A manager's wording of one kind of message on one channel; a kind and channel without a row uses the core's
    default wording (``clinicadmin.messages.DEFAULT_TEMPLATES``)."""

    __tablename__ = "message_template"
    __table_args__ = (db.UniqueConstraint("kind", "channel", name="uq_message_template_kind_channel"),)

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(30), nullable=False)
    channel = db.Column(db.String(30), nullable=False)
    subject = db.Column(db.String(200), nullable=False, default="")
    body = db.Column(db.Text, nullable=False)
    updated_at = db.Column(UTCDateTime, nullable=False, default=now)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    updated_by = db.relationship("User")


class ClientMessage(Model):
    """One message to a client about one treatment (a booking or a recorded session), on one channel.

    The unique key (kind, treatment, ``about_at``) is claimed by inserting the row before anything is sent, so two
    workers never send the same message, nor a client's change of channel a second one; ``about_at`` is the
    booking's start (a moved booking is a new reminder) or the session's performed time. Status changes are
    conditional UPDATEs on the status and ``attempts`` seen. (``uq_client_message_once``, the first key, which also
    held the channel, stays: the new key implies it, and dropping it would rebuild the table on SQLite.)
    """

    __tablename__ = "client_message"
    __table_args__ = (
        db.UniqueConstraint("kind", "treatment_id", "channel", "about_at", name="uq_client_message_once"),
        db.Index("uq_client_message_once_any_channel", "kind", "treatment_id", "about_at", unique=True),
        db.Index("ix_client_message_client", "client_id", "created_at"),
        db.Index("ix_client_message_status", "status", "claimed_at"),
        db.CheckConstraint("status IN ('sending', 'sent', 'failed', 'bounced', 'withdrawn')", name="status_known"),
        db.CheckConstraint("kind IN ('booking_reminder', 'aftercare')", name="kind_known"),
    )

    id = db.Column(db.Integer, primary_key=True)
    client_id = db.Column(db.Integer, db.ForeignKey("client.id"), nullable=False)
    client = db.relationship("Client")
    treatment_id = db.Column(db.Integer, db.ForeignKey("treatment.id"), nullable=False, index=True)
    treatment = db.relationship("Treatment")
    kind = db.Column(db.String(30), nullable=False)
    channel = db.Column(db.String(30), nullable=False)
    about_at = db.Column(UTCDateTime, nullable=False)
    recipient = db.Column(db.String(254))
    subject = db.Column(db.String(200))
    body = db.Column(db.Text)
    status = db.Column(db.String(20), nullable=False, default="sending")
    #: how many times it was claimed for sending; a status change names the attempt it closes
    attempts = db.Column(db.Integer, nullable=False, default=1)
    error = db.Column(db.String(500))
    created_at = db.Column(UTCDateTime, nullable=False, default=now)
    claimed_at = db.Column(UTCDateTime, nullable=False, default=now)
    sent_at = db.Column(UTCDateTime)
