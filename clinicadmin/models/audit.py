"""The append-only audit log: who did or saw what, to which record, when, from where, with what outcome.

Each row takes its place (``seq``) from a database sequence, with no lock shared between writers, and carries a keyed
digest (HMAC-SHA256 with the deployment's audit key, ``key_id`` naming the key) of its content and place. A sealer
(:mod:`clinicadmin.audit_seal`) then chains the rows, in ``seq`` order and in batches, into ``audit_seal`` rows, each
with a MAC over the seal before it and over every row it covers. ``clinicadmin check`` verifies both: without the key
no row or seal can be rewritten unnoticed, and a removed or inserted row breaks its seal.

Rows written before the keyed log (``mac`` empty) carry the old plain SHA-256 chain (``prev_hash``, ``hash``); the
first seals check that chain and give them their keyed digest.
"""

import hashlib
import json
from datetime import UTC

from sqlalchemy import event

from ..clock import now
from ..extensions import Model, db
from .types import UTCDateTime

GENESIS = "0" * 64

#: Where each audit row's ``seq`` comes from on PostgreSQL (SQLite, one writer at a time, takes the next number).
AUDIT_SEQUENCE = db.Sequence("audit_event_seq_seq", metadata=Model.metadata)


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
    #: the row's place in the log, from a sequence: increasing, with gaps where a transaction was rolled back
    seq = db.Column(db.BigInteger, nullable=False, unique=True)
    #: which audit key ``mac`` was made with, and the row's keyed digest (empty on rows of the old plain chain until
    #: their first seal)
    key_id = db.Column(db.String(20))
    mac = db.Column(db.String(64))
    #: the old plain SHA-256 chain, on rows written before the keyed log only
    prev_hash = db.Column(db.String(64))
    hash = db.Column(db.String(64))

    def content(self):
        """What the row's keyed digest covers: its place, everything it records and its old-chain hashes (none on a row
        written with its digest), as canonical bytes."""
        content = [self.seq, *self._fields(), self.prev_hash, self.hash]
        return json.dumps(content, sort_keys=True, default=str).encode()

    def content_hash(self, prev_hash):
        """The old plain chain's hash of this row's content chained to ``prev_hash`` (rows written before the keyed
        log only)."""
        return hashlib.sha256(
            json.dumps([prev_hash, *self._fields()], sort_keys=True, default=str).encode()
        ).hexdigest()

    def _fields(self):
        # The instant is written as UTC without its zone, as it was before columns became timezone-aware.
        at = self.at.astimezone(UTC).replace(tzinfo=None) if self.at.tzinfo else self.at
        return [
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


class AuditSeal(Model):
    """One batch of the audit log, sealed: rows ``first_seq`` to ``last_seq`` in order (but the ``skipped`` places,
    numbers no committed row took), chained to the seal before it by ``prev_mac``. ``number`` is the seal's place:
    unique, so two sealers at once never both append (the seal chain never forks)."""

    __tablename__ = "audit_seal"

    id = db.Column(db.Integer, primary_key=True)
    number = db.Column(db.BigInteger, nullable=False, unique=True)
    first_seq = db.Column(db.BigInteger, nullable=False, unique=True)
    last_seq = db.Column(db.BigInteger, nullable=False)
    #: places in the range with no row when sealed (rolled back), waited for through the settle window first
    skipped = db.Column(db.JSON, nullable=False)
    #: how many of the rows were written before the keyed log (checked by the old chain rule, then given their MAC)
    legacy_rows = db.Column(db.Integer, nullable=False, default=0)
    sealed_at = db.Column(UTCDateTime, nullable=False, default=now)
    key_id = db.Column(db.String(20), nullable=False)
    prev_mac = db.Column(db.String(64), nullable=False, unique=True)
    mac = db.Column(db.String(64), nullable=False)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
@event.listens_for(AuditSeal, "before_update")
@event.listens_for(AuditSeal, "before_delete")
def _refuse_rewrite(mapper, connection, target):
    raise PermissionError("the audit log is append-only")
