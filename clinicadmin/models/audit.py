"""The append-only audit log: who did or saw what, to which record, when, from where, with what outcome.

Each row carries the hash of its content and of the row before it, so a changed, removed or reordered row breaks the
chain that ``clinicadmin check`` verifies. ``audit_chain`` holds the newest hash; writers take its row lock first, so
the chain never forks under concurrent requests.
"""

import hashlib
import json
from datetime import UTC

from sqlalchemy import event

from ..clock import now
from ..extensions import Model, db
from .types import UTCDateTime

GENESIS = "0" * 64


class AuditEvent(Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        db.Index("ix_audit_event_client_at", "client_id", "at"),
        # login throttling counts recent failures per account and per address
        db.Index("ix_audit_event_action_object_at", "action", "object_id", "at"),
        db.Index("ix_audit_event_action_addr_at", "action", "remote_addr", "at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(UTCDateTime, nullable=False, default=now, index=True)
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
    #: the row's place in the chain (1, 2, ...), set with its hashes when the row is written
    seq = db.Column(db.BigInteger, nullable=False, unique=True)
    prev_hash = db.Column(db.String(64), nullable=False)
    hash = db.Column(db.String(64), nullable=False)

    def content_hash(self, prev_hash):
        """The hash of this row's content chained to ``prev_hash``."""
        # The instant is hashed as UTC written without its zone, as it was before columns became timezone-aware.
        at = self.at.astimezone(UTC).replace(tzinfo=None) if self.at.tzinfo else self.at
        content = [
            prev_hash,
            at.isoformat(timespec="microseconds"),
            self.user_id,
            self.roles,
            self.action,
            self.object_type,
            self.object_id,
            self.client_id,
            self.remote_addr,
            self.outcome,
            self.detail,
        ]
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


class AuditChain(Model):
    """One row: the hash of the newest audit event (the head of the chain)."""

    __tablename__ = "audit_chain"

    id = db.Column(db.Integer, primary_key=True)
    last_seq = db.Column(db.BigInteger, nullable=False)
    last_hash = db.Column(db.String(64), nullable=False)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_rewrite(mapper, connection, target):
    raise PermissionError("the audit log is append-only")
