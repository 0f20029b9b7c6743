"""Stock exceptions: what a recorded treatment used that the stock on file could not give, kept open for the stock
clerk instead of refusing the clinical record.

Recording opens one (:func:`open_shortfall`), in the recording's transaction, for each product it could not take
in full; the clerk resolves it (:func:`resolve`) by assigning stock from a lot, after receiving or adjusting it: the
same stock service takes it (a conditional UPDATE, never below zero, never an expired or held lot) and writes the
ledger rows against the treatment. Resolving happens once, by :func:`clinicadmin.transitions.change_once`.
"""

from sqlalchemy.orm import joinedload

from . import clock
from .audit import audit
from .extensions import db
from .models import Location, Product, StockException, StockLot, Treatment
from .models.types import Quantity
from .stock import StockError, consume, fmt, usable_lots
from .transitions import change_once, when


def open_shortfall(*, treatment, product, location, quantity, user, lot=None):
    """Add an open exception for ``quantity`` of ``product`` that ``treatment`` used but stock did not give, in the
    caller's transaction. The caller audits it, after its own writes."""
    exception = StockException(
        treatment=treatment,
        product=product,
        location=location,
        lot=lot,
        quantity=quantity,
        created_at=clock.now(),
        created_by_id=user.id,
    )
    db.session.add(exception)
    db.session.flush()
    return exception


def resolve(exception, *, lot, user):
    """Assign ``lot`` to an open exception: take its quantity from the lot for its treatment and close it; commits.

    Raises :class:`StockError` (after rolling back, nothing written) when the exception was resolved already, or
    the lot is not of its product and location, or cannot give the quantity."""
    if lot is None:
        raise StockError("Choose the lot the stock is taken from.")
    # First: the one UPDATE only one resolution can make; a double click finds it resolved and writes nothing.
    if not change_once(
        exception,
        lambda c: (c.resolved_at.is_(None),),
        resolved_at=clock.now(),
        resolved_by_id=user.id,
        resolved_lot_id=lot.id,
    ):
        db.session.rollback()
        db.session.refresh(exception)
        raise StockError(
            f"This exception was already resolved by {exception.resolved_by or 'someone'} at "
            f"{when(exception.resolved_at)}; nothing was changed."
        )
    try:
        consume(
            product=exception.product,
            location=exception.location,
            quantity=exception.quantity,
            user=user,
            treatment=exception.treatment,
            lot=lot,
            today=clock.local_today(exception.location),
            note=f"stock exception {exception.id}",
        )
    except StockError:
        db.session.rollback()
        raise
    audit(
        "stock.exception.resolve",
        obj=exception,
        detail={
            "treatment": exception.treatment_id,
            "lot": lot.lot_number,
            "lot_id": lot.id,
            "quantity": fmt(exception.quantity),
        },
    )
    db.session.commit()


def open_exceptions(limit=None):
    """The open exceptions, oldest first, with their product, location and lot loaded."""
    query = (
        db.select(StockException)
        .options(
            joinedload(StockException.product),
            joinedload(StockException.location),
            joinedload(StockException.lot),
            joinedload(StockException.treatment).joinedload(Treatment.practitioner),
        )
        .where(StockException.resolved_at.is_(None))
        .order_by(StockException.resolved_at, StockException.created_at, StockException.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return db.session.execute(query).scalars().all()


def owed_by(treatment):
    """The open exceptions of ``treatment``: what it used that the ledger does not show yet."""
    return (
        db.session.execute(
            db.select(StockException)
            .options(joinedload(StockException.product))
            .where(StockException.treatment_id == treatment.id, StockException.resolved_at.is_(None))
            .order_by(StockException.id)
        )
        .scalars()
        .all()
    )


def open_count():
    return db.session.execute(
        db.select(db.func.count(StockException.id)).where(StockException.resolved_at.is_(None))
    ).scalar_one()


def open_totals():
    """Units open per product and location: [(product, location, units, exceptions)], for ``clinicadmin check``."""
    rows = db.session.execute(
        db.select(
            StockException.product_id,
            StockException.location_id,
            db.func.sum(StockException.quantity, type_=Quantity()),
            db.func.count(),
        )
        .where(StockException.resolved_at.is_(None))
        .group_by(StockException.product_id, StockException.location_id)
        .order_by(StockException.product_id, StockException.location_id)
    ).all()
    return [(db.session.get(Product, p), db.session.get(Location, loc), units, count) for p, loc, units, count in rows]


def lots_for(exception, today):
    """The lots the clerk may assign to ``exception``: its product's usable lots at its location (with stock)."""
    return usable_lots(exception.location, today, product=exception.product)


def lot_of(exception, lot_id):
    """The lot ``lot_id`` if it is of the exception's product and location, else None."""
    lot = db.session.get(StockLot, lot_id) if lot_id else None
    if lot is None or lot.product_id != exception.product_id or lot.location_id != exception.location_id:
        return None
    return lot
