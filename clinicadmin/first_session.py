"""Each client's first performed session (``Client.first_treated_at``), kept as treatments are recorded and archived,
so that client retention can tell new clients from returning ones without reading every client's history.

Kept by two atomic UPDATEs in the transaction of the change, never read and written back in Python; ``clinicadmin
check`` compares it with the sessions (``problems``).
"""

from .extensions import db
from .models import Client, Treatment
from .reporting import PERFORMED

MAX_REPORTED = 20


def _earliest(client_id):
    """The earliest performed, unarchived session of the client (a correlated scalar subquery, read from the partial
    index of each client's performed sessions)."""
    return (
        db.select(db.func.min(Treatment.performed_at))
        .where(Treatment.client_id == client_id, Treatment.status == PERFORMED, Treatment.archived_at.is_(None))
        .scalar_subquery()
    )


def note_performed(treatment):
    """The treatment was just performed: make it the client's first session if it is earlier than the one on file
    (or the first). One conditional UPDATE, so concurrent recordings for a client cannot lose one another."""
    db.session.execute(
        db.update(Client)
        .where(
            Client.id == treatment.client_id,
            db.or_(Client.first_treated_at.is_(None), Client.first_treated_at > treatment.performed_at),
        )
        .values(first_treated_at=treatment.performed_at)
        .execution_options(synchronize_session=False)
    )


def recompute(client_ids):
    """Set the first session of these clients from their sessions again (after some were archived)."""
    if client_ids:
        db.session.execute(
            db.update(Client)
            .where(Client.id.in_(sorted(client_ids)))
            .values(first_treated_at=_earliest(Client.id))
            .execution_options(synchronize_session=False)
        )


def recompute_all():
    """Set every client's first session from the sessions (after sessions were loaded in bulk)."""
    db.session.execute(
        db.update(Client).values(first_treated_at=_earliest(Client.id)).execution_options(synchronize_session=False)
    )


def problems():
    """Clients whose stored first session differs from their earliest performed, unarchived session."""
    earliest = _earliest(Client.id)
    rows = db.session.execute(
        db.select(Client.id, Client.first_treated_at, earliest.label("earliest"))
        .where(
            db.or_(
                db.and_(Client.first_treated_at.is_(None), earliest.is_not(None)),
                db.and_(Client.first_treated_at.is_not(None), earliest.is_(None)),
                Client.first_treated_at != earliest,
            )
        )
        .order_by(Client.id)
        .limit(MAX_REPORTED)
    ).all()
    return [
        f"client {r.id}: first session stored as {r.first_treated_at}, earliest performed is {r.earliest}" for r in rows
    ]
