"""Treatments, the courses they belong to, and the screening findings stored with them."""

from sqlalchemy.dialects.postgresql import JSONB

from ..clock import now
from ..extensions import Model, db
from ..plugin_api import SEVERITIES
from .types import UTCDateTime

STATUSES = ("booked", "performed", "cancelled")


class Course(Model):
    """A planned series of sessions of one modality for one client."""

    __tablename__ = "course"
    __table_args__ = (db.CheckConstraint("planned_sessions > 0", name="planned_sessions_positive"),)

    id = db.Column(db.Integer, primary_key=True)
    client_id = db.Column(db.Integer, db.ForeignKey("client.id"), nullable=False, index=True)
    client = db.relationship("Client")
    modality = db.Column(db.String(60), nullable=False, index=True)
    planned_sessions = db.Column(db.Integer, nullable=False)
    min_interval_days = db.Column(db.Integer)
    started_on = db.Column(db.Date, index=True)
    notes = db.Column(db.String(500))
    treatments = db.relationship("Treatment", back_populates="course")

    @property
    def sessions_remaining(self):
        return max(self.planned_sessions - (self.sessions_done or 0), 0)

    def __str__(self):
        started = f", from {self.started_on.isoformat()}" if self.started_on else ""
        return f"{self.planned_sessions} sessions{started}"


class Treatment(Model):
    """One session of one modality for one client: booked, then performed (with details and consumption)."""

    __tablename__ = "treatment"
    __table_args__ = (
        db.Index("ix_treatment_client_modality", "client_id", "modality", "performed_at"),
        # The schedule filtered by modality or practitioner, newest first, reads these in order and stops at a page.
        db.Index("ix_treatment_modality_scheduled", "modality", "scheduled_at"),
        db.Index("ix_treatment_practitioner_scheduled", "practitioner_id", "scheduled_at"),
        # The dashboard's weekly chart counts performed treatments from the index alone.
        db.Index("ix_treatment_performed_status", "performed_at", "status", "archived_at"),
        # Each client's performed sessions in order, for "first session" and "seen before" (client retention).
        db.Index(
            "ix_treatment_client_performed",
            "client_id",
            "performed_at",
            sqlite_where=db.text("status = 'performed' AND archived_at IS NULL"),
            postgresql_where=db.text("status = 'performed' AND archived_at IS NULL"),
        ),
        db.CheckConstraint("status IN ('booked', 'performed', 'cancelled')", name="status_known"),
        db.CheckConstraint(
            "cancellation IS NULL OR cancellation IN ('client', 'clinic', 'no_show')", name="cancellation_known"
        ),
    )

    id = db.Column(db.Integer, primary_key=True)
    client_id = db.Column(db.Integer, db.ForeignKey("client.id"), nullable=False)
    client = db.relationship("Client")
    practitioner_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)
    practitioner = db.relationship("User", foreign_keys=[practitioner_id])
    location_id = db.Column(db.Integer, db.ForeignKey("location.id"), nullable=False, index=True)
    location = db.relationship("Location")
    modality = db.Column(db.String(60), nullable=False, index=True)
    course_id = db.Column(db.Integer, db.ForeignKey("course.id"), index=True)
    course = db.relationship("Course", back_populates="treatments")
    scheduled_at = db.Column(UTCDateTime, nullable=False, index=True)
    performed_at = db.Column(UTCDateTime, index=True)
    #: when the session ends (its start plus the booked duration), and the span its practitioner, rooms and devices
    #: are taken, with the modality's preparation before and clean-up after
    ends_at = db.Column(UTCDateTime)
    busy_from = db.Column(UTCDateTime)
    busy_until = db.Column(UTCDateTime)
    status = db.Column(db.String(20), nullable=False, default="booked", index=True)
    screening_status = db.Column(db.String(20), index=True)
    #: the number of the latest screening run (a run may find nothing, so it cannot be read off the findings)
    screening_run = db.Column(db.Integer)
    notes = db.Column(db.Text)
    #: the plugin's own fields; ``jsonb`` on PostgreSQL (parsed once, when written: reports read a year of them)
    details = db.Column(db.JSON().with_variant(JSONB(), "postgresql"), nullable=False, default=dict)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=now)
    #: who entered the record of the session, and when (set once, by the conditional UPDATE that records it)
    recorded_at = db.Column(UTCDateTime)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    recorded_by = db.relationship("User", foreign_keys=[recorded_by_id])
    #: what recording consumed, {product id: quantity as text}; ``clinicadmin check`` compares it with the ledger
    consumed = db.Column(db.JSON)
    cancelled_at = db.Column(UTCDateTime)
    cancelled_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    cancelled_by = db.relationship("User", foreign_keys=[cancelled_by_id])
    cancel_reason = db.Column(db.String(255))
    #: who called it off: ``client``, ``clinic``, or ``no_show`` (the client did not come); None on older rows
    cancellation = db.Column(db.String(10))
    #: a client's cancellation within the clinic's notice period (``core.late_cancel_hours``), as judged then
    cancelled_late = db.Column(db.Boolean)
    #: a treatment entered in error is archived, never deleted: it leaves the lists, counts and reports
    archived_at = db.Column(UTCDateTime, index=True)
    archived_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    archived_by = db.relationship("User", foreign_keys=[archived_by_id])
    archive_reason = db.Column(db.String(255))

    findings = db.relationship(
        "ScreeningFinding", back_populates="treatment", order_by="ScreeningFinding.id", cascade="all, delete-orphan"
    )
    stock_movements = db.relationship("StockMovement", back_populates="treatment", order_by="StockMovement.id")
    resources = db.relationship("TreatmentResource", order_by="TreatmentResource.kind", cascade="all")

    @property
    def state_label(self):
        """The state as the front desk says it: booked, performed, cancelled by the client or clinic, no-show."""
        if self.status != "cancelled":
            return self.status
        return {
            "no_show": "no-show",
            "client": "cancelled by the client" + (" (late)" if self.cancelled_late else ""),
            "clinic": "cancelled by the clinic",
        }.get(self.cancellation, "cancelled")

    @property
    def day(self):
        """The date the treatment happens on (performed, else scheduled), as its location counts days."""
        from ..clock import local_date

        return local_date(self.performed_at or self.scheduled_at, self.location)

    def current_findings(self):
        """The findings of the latest screening run (none if that run found nothing)."""
        return [f for f in self.findings if f.run == self.screening_run]

    def __str__(self):
        from ..clock import shown

        return f"{self.modality} for {self.client} on {shown(self.scheduled_at, self.location)}"


class ScreeningFinding(Model):
    """A finding of one screening run, stored as it was, with its acknowledgement or override."""

    __tablename__ = "screening_finding"
    __table_args__ = (
        db.CheckConstraint(f"severity IN ({', '.join(repr(s) for s in SEVERITIES)})", name="severity_known"),
    )

    id = db.Column(db.Integer, primary_key=True)
    treatment_id = db.Column(db.Integer, db.ForeignKey("treatment.id"), nullable=False, index=True)
    treatment = db.relationship("Treatment", back_populates="findings")
    run = db.Column(db.Integer, nullable=False, default=1)
    stage = db.Column(db.String(20), nullable=False)  # booking, review, recording
    screened_at = db.Column(UTCDateTime, nullable=False, default=now)
    plugin = db.Column(db.String(80), nullable=False)
    code = db.Column(db.String(80), nullable=False, index=True)
    severity = db.Column(db.String(10), nullable=False, index=True)
    message = db.Column(db.String(1000), nullable=False)
    #: False for a hard stop (scope of practice, a check that could not run): no role can override it
    overridable = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    acknowledged_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    acknowledged_by = db.relationship("User", foreign_keys=[acknowledged_by_id])
    acknowledged_at = db.Column(UTCDateTime)
    acknowledgement_note = db.Column(db.String(1000))
    overridden_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    overridden_by = db.relationship("User", foreign_keys=[overridden_by_id])
    overridden_at = db.Column(UTCDateTime)
    override_reason = db.Column(db.String(1000))
    #: the answers (``Treatment.details``) the acknowledgement or override was given on, as a fingerprint
    #: ({key: digest of its value}, ``screening.answers_fingerprint``): it carries over to a later run only while each
    #: of them is unchanged
    decided_on = db.Column(db.JSON())
    #: not stored: set by ``screening.screen`` to why an earlier decision did not carry over to this finding (its
    #: answers changed), for the refusal to say; None otherwise
    voided = None

    @property
    def can_be_overridden(self):
        """Whether a manager may still override this finding (a hard stop never can)."""
        return self.overridable and self.overridden_at is None and self.severity in ("block", "warn")

    @property
    def resolved(self):
        """Whether this finding no longer stops the treatment being recorded."""
        if self.severity == "block":
            return self.overridden_at is not None and self.overridable
        if self.severity == "warn":
            return self.acknowledged_at is not None or self.overridden_at is not None
        return True


#: Sessions of the course performed so far, loaded with the course (one query for a whole list of courses).
Course.sessions_done = db.column_property(
    db.select(db.func.count(Treatment.id))
    .where(Treatment.course_id == Course.id, Treatment.status == "performed", Treatment.archived_at.is_(None))
    .correlate_except(Treatment)
    .scalar_subquery(),
    deferred=False,
)
