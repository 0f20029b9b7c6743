"""Writing the audit log. Every read or write of a client's record, login, override and setting change goes through
here; each row is chained to the one before it when it is flushed."""

import json
from typing import Any

from flask import has_request_context, request
from flask_security import current_user
from sqlalchemy import event, insert, inspect, update
from sqlalchemy.orm import Session

from .clock import now
from .extensions import db
from .models import AuditChain, AuditEvent
from .models.audit import GENESIS


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
        # Stored exactly as it will read back, so the row's hash can be checked from what is stored.
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


@event.listens_for(Session, "before_flush")
def _chain_new_rows(session, flush_context, instances):
    """Give each new audit row its place and hashes, holding the chain head's row lock until the commit, so that
    concurrent writers append one after the other and the chain never forks."""
    new = sorted(
        (o for o in session.new if isinstance(o, AuditEvent) and o.hash is None), key=lambda o: inspect(o).insert_order
    )
    if not new:
        return
    chain = AuditChain.__table__
    connection = session.connection()
    # A no-op UPDATE takes the head's row lock (PostgreSQL) or the write lock (SQLite) and reads the head in the
    # same statement.
    head = connection.execute(
        update(chain)
        .where(chain.c.id == 1)
        .values(last_seq=chain.c.last_seq)
        .returning(chain.c.last_seq, chain.c.last_hash)
    ).one_or_none()
    if head is None:
        connection.execute(insert(chain).values(id=1, last_seq=0, last_hash=GENESIS))
        head = (0, GENESIS)
    seq, prev = head
    for row in new:
        row.at = row.at or now()
        seq += 1
        row.seq, row.prev_hash = seq, prev
        row.hash = prev = row.content_hash(prev)
    connection.execute(update(chain).where(chain.c.id == 1).values(last_seq=seq, last_hash=prev))
