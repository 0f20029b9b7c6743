"""State changes that happen once: a conditional UPDATE on the state a step expects, checked by its row count.

A double click, a replayed POST or two people pressing the same button run the same step twice; the second one's
UPDATE finds the row no longer in the state it expects, changes nothing, and the step rolls back and says who got
there first. On PostgreSQL the UPDATE waits for a concurrent writer of the row and then re-checks its condition; on
SQLite the first write of a transaction waits for the database's write lock; so both databases decide the race the
same way. Forms that create something have no prior state to expect: they carry a one-time token (:func:`claim`).
"""

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from .clock import now, shown
from .extensions import db
from .models import FormSubmission


class AlreadyDone(Exception):
    """The step found its record already changed, or its form already submitted; nothing was written."""


def change_once(obj, expected, **values):
    """``UPDATE`` the row of ``obj`` to ``values`` only where its primary key matches and every clause that
    ``expected(columns)`` returns holds; True if it did. The loaded ``obj`` then shows ``values`` as stored."""
    table = type(obj).__table__
    statement = update(table).where(table.c.id == obj.id, *expected(table.c)).values(**values)
    if db.session.execute(statement).rowcount != 1:
        return False
    for key, value in values.items():
        set_committed_value(obj, key, value)
    return True


def when(moment, location=None):
    """A time for a message about who did something first: ``14:32 on 2026-12-02``, at ``location`` (by default in
    the clinic's zone)."""
    return shown(moment, location, "%H:%M on %Y-%m-%d") if moment else "an unknown time"


def claim(token, action, user):
    """Store ``token`` as used by ``action``, in the caller's transaction, before anything else of the step is
    written. Raises :class:`AlreadyDone` (after rolling back) when the token was used already or is missing."""
    if not token or len(token) > 64:
        db.session.rollback()
        raise AlreadyDone("This form is out of date: open it again and re-enter what you meant to submit.")
    try:
        db.session.add(FormSubmission(token=token, action=action, user_id=user.id, at=now()))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _already_done(db.session.get(FormSubmission, token)) from None


def refuse_if_claimed(token):
    """Raise :class:`AlreadyDone` when ``token`` was claimed already: a read only, for a step that would do slow
    work before its transaction; :func:`claim` in that transaction is what decides."""
    first = db.session.get(FormSubmission, token) if token and len(token) <= 64 else None
    if first is not None:
        raise _already_done(first)


def _already_done(first):
    who = first.user if first is not None and first.user is not None else "someone"
    at = when(first.at) if first is not None else "an earlier time"
    return AlreadyDone(f"This form was already submitted by {who} at {at}; it was not applied a second time.")
