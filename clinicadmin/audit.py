"""Writing the audit log. Every read or write of a client's record, override and setting change goes through here."""
from flask import has_request_context, request
from flask_security import current_user

from .extensions import db
from .models import AuditEvent


def audit(action, *, obj=None, object_type=None, object_id=None, client_id=None, outcome="ok", detail=None):
    """Add an audit row to the current transaction (the caller commits it with the change it describes)."""
    user = current_user if has_request_context() and current_user.is_authenticated else None
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    event = AuditEvent(
        user_id=user.id if user else None,
        roles=",".join(sorted(user.role_names)) if user else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        client_id=client_id,
        remote_addr=request.remote_addr if has_request_context() else None,
        outcome=outcome,
        detail=detail,
    )
    db.session.add(event)
    return event


def audit_read(action, **kwargs):
    """Record a read in its own small transaction, so that viewing a record is logged even if nothing is written."""
    audit(action, **kwargs)
    db.session.commit()
