"""The stock service: receiving lots and consuming stock FEFO with atomic conditional updates.

Quantities are never read, changed in Python and written back. A consumption is
``UPDATE stock_lot SET quantity = quantity - :n WHERE id = :lot AND quantity >= :n AND <not expired>``, checked for
its row count, so two requests can never both take the last unit, on SQLite or PostgreSQL. The caller owns the
transaction: a treatment, its ledger rows and its lot updates commit or roll back together.
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, or_, update

from .extensions import db
from .models import StockLot, StockMovement

MAX_CONTENTION_RETRIES = 8


class StockError(ValueError):
    """A stock operation that cannot be done; the message is meant for the user."""


class OutOfStock(StockError):
    def __init__(self, product, location, needed, available):
        self.product, self.location, self.needed, self.available = product, location, needed, available
        super().__init__(
            f"Not enough {product.name} [{product.sku}] in date at {location.name}: "
            f"{_fmt(needed)} {product.unit} needed, {_fmt(available)} available."
        )


def _fmt(quantity):
    return format(Decimal(quantity).normalize(), "f")


def _usable(today):
    return or_(StockLot.expires_on.is_(None), StockLot.expires_on >= today)


def available(product_id, location_id, today=None):
    """Units of a product at a location in lots that have not expired."""
    today = today or date.today()
    total = db.session.execute(
        db.select(func.coalesce(func.sum(StockLot.quantity), 0)).where(
            StockLot.product_id == product_id, StockLot.location_id == location_id, _usable(today)
        )
    ).scalar_one()
    return Decimal(total)


def receive(*, product, location, lot_number, expires_on, packs, user, note=None, today=None):
    """Receive ``packs`` packs of ``product`` as a lot at ``location``; adds packs x pack size units and a ledger row."""
    today = today or date.today()
    lot_number = (lot_number or "").strip()
    packs = Decimal(str(packs))
    if not lot_number:
        raise StockError("A lot number is required.")
    if packs <= 0 or packs != packs.to_integral_value():
        raise StockError("Packs received must be a whole number above zero.")
    if product.tracks_expiry and expires_on is None:
        raise StockError(f"{product.name} is sterile or perishable: its expiry date is required.")
    if expires_on is not None and expires_on < today:
        raise StockError("That lot has already expired; it cannot be received into stock.")
    units = packs * Decimal(product.pack_size)
    lot = db.session.execute(
        db.select(StockLot).where(
            StockLot.product_id == product.id, StockLot.location_id == location.id, StockLot.lot_number == lot_number
        )
    ).scalar_one_or_none()
    if lot is None:
        lot = StockLot(product=product, location=location, lot_number=lot_number, expires_on=expires_on, quantity=0)
        db.session.add(lot)
        db.session.flush()
    elif lot.expires_on != expires_on:
        raise StockError(
            f"Lot {lot_number} of {product.name} is on file with expiry "
            f"{lot.expires_on or 'none'}; check the expiry date on the box."
        )
    _change(lot.id, units)
    db.session.add(StockMovement(lot_id=lot.id, quantity=units, reason="receipt", user=user, note=note))
    db.session.expire(lot, ["quantity"])
    return lot


def _change(lot_id, delta):
    """Add ``delta`` (may be negative) to a lot in SQL; a decrease only applies if it leaves the lot at zero or more."""
    table = StockLot.__table__
    stmt = update(table).where(table.c.id == lot_id).values(quantity=table.c.quantity + delta)
    if delta < 0:
        stmt = stmt.where(table.c.quantity >= -delta)
    return db.session.execute(stmt).rowcount == 1


def _expire_loaded_lots(lot_ids):
    """Lots changed in SQL show their new quantity the next time a loaded instance is read."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, StockLot) and obj.id in lot_ids:
            db.session.expire(obj, ["quantity"])


def consume(*, product, location, quantity, user, treatment=None, reason="consumption", today=None):
    """Take ``quantity`` units of ``product`` at ``location``, first-expiry-first-out, never from an expired lot.

    Returns [(lot id, quantity taken)]. Raises :class:`OutOfStock` when the usable lots do not hold enough; the caller
    rolls back. A lot emptied by a concurrent request between our read and our update is simply read again.
    """
    today = today or date.today()
    remaining = Decimal(str(quantity))
    if not remaining.is_finite() or remaining <= 0:
        raise StockError("A quantity to consume must be above zero.")
    table = StockLot.__table__
    taken = []
    for _ in range(MAX_CONTENTION_RETRIES):
        lots = db.session.execute(
            db.select(StockLot.id, StockLot.quantity)
            .where(
                StockLot.product_id == product.id, StockLot.location_id == location.id,
                StockLot.quantity > 0, _usable(today),
            )
            .order_by(case((StockLot.expires_on.is_(None), 1), else_=0), StockLot.expires_on, StockLot.id)
        ).all()
        if sum((q for _, q in lots), Decimal(0)) < remaining:
            raise OutOfStock(product, location, remaining + sum(q for _, q in taken), sum(q for _, q in lots))
        contended = False
        for lot_id, on_hand in lots:
            take = min(on_hand, remaining)
            stmt = (
                update(table)
                .where(table.c.id == lot_id, table.c.quantity >= take)
                .where(or_(table.c.expires_on.is_(None), table.c.expires_on >= today))
                .values(quantity=table.c.quantity - take)
            )
            if db.session.execute(stmt).rowcount != 1:
                contended = True
                break
            db.session.add(StockMovement(
                lot_id=lot_id, quantity=-take, reason=reason, treatment=treatment, user=user,
            ))
            taken.append((lot_id, take))
            remaining -= take
            if remaining == 0:
                break
        if not contended:
            _expire_loaded_lots({lot_id for lot_id, _ in taken})
            return taken
    raise StockError(f"{product.name}: stock is changing too fast to consume safely; try again.")
