"""The append-only audit log: who did or saw what, to which record, when, from where, with what outcome."""
from datetime import datetime

from sqlalchemy import event

from ..extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (db.Index("ix_audit_event_client_at", "client_id", "at"),)

    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(db.DateTime, nullable=False, default=datetime.utcnow, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), index=True)
    user = db.relationship("User")
    roles = db.Column(db.String(120))
    action = db.Column(db.String(40), nullable=False, index=True)
    object_type = db.Column(db.String(60))
    object_id = db.Column(db.String(60))
    client_id = db.Column(db.Integer, db.ForeignKey("client.id"))
    remote_addr = db.Column(db.String(64))
    outcome = db.Column(db.String(20), nullable=False, default="ok")
    detail = db.Column(db.JSON)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_rewrite(mapper, connection, target):
    raise PermissionError("the audit log is append-only")
