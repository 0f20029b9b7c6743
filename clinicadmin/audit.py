"""Writing the audit log. Every read or write of a client's record, login, override and setting change goes through
here. Each row gets its place from a database sequence and its keyed digest when it is flushed; writers share no lock
(the sealer, :mod:`clinicadmin.audit_seal`, chains the rows afterwards)."""

import json
from typing import Any

from flask import has_request_context, request
from flask_security import current_user
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from .audit_key import row_mac, signing_key_id
from .clock import now
from .extensions import db
from .models import AuditEvent
from .models.audit import AUDIT_SEQUENCE
from .write_lock import hold_write_lock


def audit(
    action: str,
    *,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    client_id: int | None = None,
    outcome: str = "ok",
    detail: Any = None,
    user: Any = None,
) -> Any:
    """Add an audit row to the current transaction (the caller commits it with the change it describes).

    ``user`` defaults to the logged-in user of the request, if any.
    """
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    row = AuditEvent(
        at=now(),
        user_id=user.id if user else None,
        roles=",".join(sorted(user.role_names)) if user else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id)[:60],
        client_id=client_id,
        remote_addr=request.remote_addr if has_request_context() else None,
        outcome=outcome,
        # Stored exactly as it will read back, so the row's digest can be checked from what is stored.
        detail=None if detail is None else json.loads(json.dumps(detail, default=str)),
    )
    db.session.add(row)
    return row


def audit_read(action, **kwargs):
    """Record a read in its own small transaction, so that viewing a record is logged even if nothing is written.

    The commit leaves what the request has loaded as it is (no expiry): the page goes on rendering the rows it read
    instead of reloading each one (a query per row).
    """
    audit(action, **kwargs)
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _places(session, count):
    """``count`` new places in the log, in order: from the sequence on PostgreSQL (no lock: concurrent writers each
    get their own numbers); on SQLite, which has one writer at a time, the numbers after the last row's, under the
    write lock."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        numbers = connection.execute(select(AUDIT_SEQUENCE.next_value()).select_from(func.generate_series(1, count)))
        return sorted(numbers.scalars())
    hold_write_lock(session)
    last = connection.execute(select(func.coalesce(func.max(AuditEvent.seq), 0))).scalar_one()
    return list(range(last + 1, last + 1 + count))


@event.listens_for(Session, "before_flush")
def _place_and_sign_new_rows(session, flush_context, instances):
    """Give each new audit row its place and its keyed digest."""
    new = sorted(
        (o for o in session.new if isinstance(o, AuditEvent) and o.mac is None), key=lambda o: inspect(o).insert_order
    )
    if not new:
        return
    key_id = signing_key_id()
    for row, seq in zip(new, _places(session, len(new)), strict=True):
        row.at = row.at or now()
        row.seq, row.key_id = seq, key_id
        row.mac = row_mac(row, key_id)
