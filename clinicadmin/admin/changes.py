"""What an edit changed on a record, as before and after values for the audit log.

``changes_of(model)`` reads SQLAlchemy's attribute history: the record's columns, the record it points to (under the
foreign key's name, as ids) and its many-to-many lists (a user's roles, as sorted names). A flush clears that
history, so what a flush writes of a watched record is kept in the session until the transaction ends: a query in
the middle of an edit (which flushes) does not lose the before values.
"""

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import MANYTOONE

from ..models import Certification, Client, Consent, HealthEntry, User

_WATCHED: set[type] = set()
_KEPT = "clinicadmin.changes_before_flush"


def watch(*models):
    """Keep the changes of ``models``' records across flushes, for :func:`changes_of`."""
    _WATCHED.update(models)


def _text(value):
    return None if value is None else str(value)


def _stored_key(value):
    """A many-to-many member as stored (a role's code, not its name for people), so the log outlives renamings."""
    return str(getattr(value, "name", None) or value)


def _history(model):
    """{attribute: [old, new]} of what changed on ``model`` since its last flush."""
    state = inspect(model)
    changed = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = _text(hist.deleted[0] if hist.deleted else None)
            new = _text(hist.added[0] if hist.added else None)
            if old != new:
                changed[attr.key] = [old, new]
    for rel in state.mapper.relationships:
        if rel.viewonly:
            continue
        hist = state.attrs[rel.key].history
        if not hist.has_changes():
            continue
        if rel.direction is MANYTOONE and len(rel.local_columns) == 1:
            # The foreign key column still holds the stored id until the flush; the relationship holds the new one.
            column = next(iter(rel.local_columns))
            key = state.mapper.get_property_by_column(column).key
            old = _text(state.attrs[key].value)
            new = hist.added[0] if hist.added else None
            new = None if new is None else _text(inspect(new).identity[0] if inspect(new).identity else new)
            if old != new:
                changed[key] = [changed.get(key, [old])[0], new]
        elif rel.secondary is not None:
            before = sorted(_stored_key(v) for v in (*hist.unchanged, *hist.deleted))
            after = sorted(_stored_key(v) for v in (*hist.unchanged, *hist.added))
            if before != after:
                changed[rel.key] = [before, after]
    return changed


def _merge(earlier, later):
    merged = dict(earlier)
    for key, (old, new) in later.items():
        merged[key] = [merged[key][0] if key in merged else old, new]
    return {key: value for key, value in merged.items() if value[0] != value[1]}


def changes_of(model):
    """{attribute: [old, new]} of what this transaction changed on ``model``, as text (lists for many-to-many)."""
    session = inspect(model).session
    kept = session.info.get(_KEPT, {}).get(id(model), ({}, None))[0] if session is not None else {}
    return _merge(kept, _history(model))


#: The records whose edits are audited with before and after values.
watch(Client, HealthEntry, Consent, Certification, User)


@event.listens_for(Session, "before_flush")
def _keep_before_flush(session, flush_context, instances):
    watched = [obj for obj in (*session.dirty, *session.new) if type(obj) in _WATCHED]
    if not watched:
        return
    kept = session.info.setdefault(_KEPT, {})
    for obj in watched:
        earlier = kept.get(id(obj), ({}, obj))[0]
        kept[id(obj)] = (_merge(earlier, _history(obj)), obj)  # the object is held so that its id stays its own


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_KEPT, None)
