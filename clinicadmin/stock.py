"""The stock service: receiving lots and consuming stock FEFO with atomic conditional updates.

Quantities are never read, changed in Python and written back. A consumption is
``UPDATE stock_lot SET quantity = quantity - :n WHERE id = :lot AND quantity >= :n AND <not expired>``, checked for
its row count, so two requests can never both take the last unit, on SQLite or PostgreSQL. The caller owns the
transaction: a treatment, its ledger rows and its lot updates commit or roll back together.
"""

import functools
from decimal import Decimal

from sqlalchemy import and_, bindparam, case, func, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from .clock import local_today, now
from .extensions import db
from .input_policy import real_text
from .models import Product, StockLot, StockMovement, Stocktake, StocktakeLine, StockUsage, Treatment
from .models.types import Quantity
from .reporting import month_key

MAX_CONTENTION_RETRIES = 8
HOLD_FIELDS = ("held_at", "held_by_id", "hold_reason")


class StockError(ValueError):
    """A stock operation that cannot be done; the message is meant for the user."""


class OutOfStock(StockError):
    def __init__(self, product, location, needed, available):
        self.product, self.location, self.needed, self.available = product, location, needed, available
        super().__init__(
            f"Not enough {product.name} [{product.sku}] in date at {location.name}: "
            f"{fmt(needed)} {product.unit} needed, {fmt(available)} available."
        )


def fmt(quantity):
    """A quantity as people write it: ``3``, ``2.5`` (no trailing zeros, no exponent)."""
    return format(Decimal(quantity).normalize(), "f")


def _usable(today, columns=None):
    """In date on ``today`` and not on hold: the lots stock may be taken from for use or moved from."""
    c = columns if columns is not None else StockLot
    return and_(or_(c.expires_on.is_(None), c.expires_on >= today), c.held_at.is_(None))


def available(product_id, location_id, today=None):
    """Units of a product at a location in lots that have not expired."""
    today = today or local_today(location_id)
    total = db.session.execute(
        db.select(func.coalesce(func.sum(StockLot.quantity), 0)).where(
            StockLot.product_id == product_id, StockLot.location_id == location_id, _usable(today)
        )
    ).scalar_one()
    return Decimal(total)


def receive(*, product, location, lot_number, expires_on, packs, user, note=None, today=None, supplier=None):
    """Receive ``packs`` packs of ``product`` as a lot at ``location``; adds packs x pack size units and a ledger
    row."""
    today = today or local_today(location)
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
    require_whole(product, units)
    lot = db.session.execute(
        db.select(StockLot).where(
            StockLot.product_id == product.id, StockLot.location_id == location.id, StockLot.lot_number == lot_number
        )
    ).scalar_one_or_none()
    if lot is None:
        lot = StockLot(product=product, location=location, lot_number=lot_number, expires_on=expires_on, quantity=0)
        _inherit_hold(lot)
        db.session.add(lot)
        db.session.flush()
    elif lot.expires_on != expires_on:
        raise StockError(
            f"Lot {lot_number} of {product.name} is on file with expiry "
            f"{lot.expires_on or 'none'}; check the expiry date on the box."
        )
    _change(lot.id, units)
    db.session.add(
        StockMovement(lot_id=lot.id, quantity=units, reason="receipt", user=user, note=note, supplier=supplier)
    )
    db.session.expire(lot, ["quantity"])
    return lot


def _inherit_hold(lot):
    """A new lot row of a product and lot number that is on hold somewhere (a recall) starts on hold too."""
    product_id = lot.product_id if lot.product_id is not None else lot.product.id
    held = db.session.execute(
        db.select(StockLot)
        .where(StockLot.product_id == product_id, StockLot.lot_number == lot.lot_number, StockLot.held_at.is_not(None))
        .order_by(StockLot.held_at)
        .limit(1)
    ).scalar_one_or_none()
    if held is not None:
        lot.held_at, lot.held_by_id, lot.hold_reason = held.held_at, held.held_by_id, held.hold_reason


def _change(lot_id, delta):
    """Add ``delta`` (may be negative) to a lot in SQL; a decrease only applies if it leaves the lot at zero or more."""
    table = StockLot.__table__
    stmt = update(table).where(table.c.id == lot_id).values(quantity=table.c.quantity + delta)
    if delta < 0:
        stmt = stmt.where(table.c.quantity >= -delta)
    return db.session.execute(stmt).rowcount == 1


def _expire_loaded_lots(lot_ids, attributes=("quantity",)):
    """Lots changed in SQL show their new values the next time a loaded instance is read."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, StockLot) and obj.id in lot_ids:
            db.session.expire(obj, list(attributes))


def consume(
    *, product, location, quantity, user, treatment=None, reason="consumption", today=None, lot=None, note=None
):
    """Take ``quantity`` units of ``product`` at ``location``, first-expiry-first-out (or from ``lot`` alone, the lot
    the user chose), never from an expired or held lot.

    Returns [(lot id, quantity taken)]. Raises :class:`OutOfStock` when the usable lots do not hold enough, and
    :class:`StockError` when the chosen lot is not usable; the caller rolls back. A lot emptied by a concurrent
    request between our read and our update is simply read again.
    """
    taken, short = _take(
        product=product,
        location=location,
        quantity=quantity,
        user=user,
        treatment=treatment,
        reason=reason,
        today=today,
        lot=lot,
        note=note,
        partial=False,
    )
    return taken


def consume_available(*, product, location, quantity, user, treatment=None, today=None, lot=None):
    """Take what there is, up to ``quantity``, as :func:`consume` does (FEFO, or from the chosen ``lot`` alone), and
    return ``(taken, short)``: [(lot id, quantity taken)] and the units the usable stock could not give. Never takes
    a unit the lots do not hold; a chosen lot that is held, expired, or of another product or location raises
    :class:`StockError`."""
    return _take(
        product=product,
        location=location,
        quantity=quantity,
        user=user,
        treatment=treatment,
        reason="consumption",
        today=today,
        lot=lot,
        note=None,
        partial=True,
    )


def _take(*, product, location, quantity, user, treatment, reason, today, lot, note, partial):
    """Consumption's one loop: read the usable lots, take from each with a conditional UPDATE checked by its row
    count, write a ledger row per lot; read again when a concurrent request got there first."""
    today = today or local_today(location)
    remaining = Decimal(str(quantity))
    if not remaining.is_finite() or remaining <= 0:
        raise StockError("A quantity to consume must be above zero.")
    table = StockLot.__table__
    taken = []
    for _ in range(MAX_CONTENTION_RETRIES):
        query = (
            db.select(StockLot.id, StockLot.quantity)
            .where(
                StockLot.product_id == product.id,
                StockLot.location_id == location.id,
                StockLot.quantity > 0,
                _usable(today),
            )
            .order_by(case((StockLot.expires_on.is_(None), 1), else_=0), StockLot.expires_on, StockLot.id)
        )
        if lot is not None:
            _require_choosable(lot, product, location, today)
            query = query.where(StockLot.id == lot.id)
        lots = db.session.execute(query).all()
        if not partial and sum((q for _, q in lots), Decimal(0)) < remaining:
            if lot is not None:
                raise StockError(
                    f"Lot {lot.lot_number} of {product.name} holds {fmt(sum(q for _, q in lots))} "
                    f"{product.unit}; {fmt(remaining)} cannot be taken from it."
                )
            raise OutOfStock(product, location, remaining + sum(q for _, q in taken), sum(q for _, q in lots))
        contended = False
        for lot_id, on_hand in lots:
            take = min(on_hand, remaining)
            stmt = (
                update(table)
                .where(table.c.id == lot_id, table.c.quantity >= take, _usable(today, table.c))
                .values(quantity=table.c.quantity - take)
            )
            if db.session.execute(stmt).rowcount != 1:
                contended = True
                break
            db.session.add(
                StockMovement(
                    lot_id=lot_id,
                    quantity=-take,
                    reason=reason,
                    treatment=treatment,
                    user=user,
                    note=note,
                )
            )
            taken.append((lot_id, take))
            remaining -= take
            if remaining == 0:
                break
        if not contended:
            _expire_loaded_lots({lot_id for lot_id, _ in taken})
            if taken and reason == "consumption" and treatment is not None and treatment.performed_at is not None:
                _count_usage(treatment, product, location, sum(q for _, q in taken))
            return taken, remaining
    raise StockError(f"{product.name}: stock is changing too fast to consume safely; try again.")


def _require_choosable(lot, product, location, today):
    """Refuse, with a message for the user, a chosen lot that is not of ``product`` at ``location``, or that is on
    hold or expired (read as stored now, so a hold placed a moment ago counts)."""
    if lot.product_id != product.id or lot.location_id != location.id:
        raise StockError(f"Lot {lot.lot_number} is not a lot of {product.name} at {location.name}; choose one that is.")
    db.session.expire(lot, ["quantity", *HOLD_FIELDS])
    if lot.held_at is not None:
        raise StockError(
            f"Lot {lot.lot_number} of {product.name} is on hold ({lot.hold_reason}): it cannot be "
            "used. Choose the lot you opened again, and tell a manager if it was this one."
        )
    if lot.expires_on is not None and lot.expires_on < today:
        raise StockError(f"Lot {lot.lot_number} of {product.name} expired on {lot.expires_on}: it cannot be used.")


def usable_lots(location, today, categories=None, product=None):
    """The lots that may be chosen for use at ``location`` on ``today``: in date, not held, with stock, of an active
    product (of ``categories``, or ``product``, when given), by product name and then first-expiry-first."""
    query = (
        db.select(StockLot)
        .join(StockLot.product)
        .options(contains_eager(StockLot.product))
        .where(StockLot.location_id == location.id, StockLot.quantity > 0, _usable(today), Product.active.is_(True))
        .order_by(
            Product.name,
            Product.id,
            case((StockLot.expires_on.is_(None), 1), else_=0),
            StockLot.expires_on,
            StockLot.id,
        )
    )
    if categories:
        query = query.where(Product.category.in_(categories))
    if product is not None:
        query = query.where(StockLot.product_id == product.id)
    return db.session.execute(query).scalars().all()


@functools.cache
def _usage_upsert(dialect):
    """``INSERT ... ON CONFLICT DO UPDATE`` adding to a month's usage row, built once per database kind."""
    table = StockUsage.__table__
    stmt = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table).values(
        month=bindparam("month"),
        location_id=bindparam("location_id"),
        product_id=bindparam("product_id"),
        modality=bindparam("modality"),
        quantity=bindparam("quantity", type_=Quantity()),
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.month, table.c.location_id, table.c.product_id, table.c.modality],
        set_={"quantity": table.c.quantity + stmt.excluded.quantity},
    )


def _count_usage(treatment, product, location, quantity):
    """Add a treatment's consumption to its month's usage row (``StockUsage``), creating the row if needed: one
    atomic upsert, after the lot updates, so it adds no lock that the lots do not already order."""
    db.session.execute(
        _usage_upsert(db.session.get_bind().dialect.name),
        {
            "month": treatment.performed_at.strftime("%Y-%m"),
            "location_id": location.id,
            "product_id": product.id,
            "modality": treatment.modality,
            "quantity": quantity,
        },
    )


def usage_from_ledger():
    """The ledger's consumption by treatments per (month, location, product, modality): what ``StockUsage`` must
    hold, computed from scratch (for ``clinicadmin check`` and for data loaded in bulk)."""
    month = month_key(Treatment.performed_at)
    return (
        db.select(
            month.label("month"),
            StockLot.location_id,
            StockLot.product_id,
            Treatment.modality,
            func.sum(-StockMovement.quantity, type_=Quantity()).label("quantity"),
        )
        .select_from(StockMovement)
        .join(Treatment, Treatment.id == StockMovement.treatment_id)
        .join(StockLot, StockLot.id == StockMovement.lot_id)
        .where(StockMovement.reason == "consumption", Treatment.performed_at.is_not(None))
        .group_by(month, StockLot.location_id, StockLot.product_id, Treatment.modality)
    )


def rebuild_usage():
    """Refill ``StockUsage`` from the ledger (after a bulk load that bypassed ``consume``); the caller commits."""
    db.session.execute(StockUsage.__table__.delete())
    query = usage_from_ledger().subquery()
    db.session.execute(
        StockUsage.__table__.insert().from_select(
            ["month", "location_id", "product_id", "modality", "quantity"], db.select(*query.c)
        )
    )


def _quantity(value, what="quantity"):
    value = Decimal(str(value))
    if not value.is_finite() or value <= 0:
        raise StockError(f"The {what} must be above zero.")
    return value


def require_whole(product, quantity):
    """Refuse a fraction of a unit of a product counted in whole units (``Product.whole_units``)."""
    quantity = Decimal(str(quantity))
    if product.whole_units and quantity.is_finite() and quantity != quantity.to_integral_value():
        raise StockError(f"{product.name} is counted in whole {product.unit}: {fmt(quantity)} is not a whole number.")


def _on_hand(lot):
    db.session.expire(lot, ["quantity"])
    return lot.quantity


def _take_from(lot, quantity, *, usable_on=None):
    """Take ``quantity`` from ``lot`` in one conditional UPDATE (not below zero; with ``usable_on``, only if the lot
    has not expired by that day); raises :class:`StockError` if the lot cannot give it."""
    table = StockLot.__table__
    stmt = (
        update(table)
        .where(table.c.id == lot.id, table.c.quantity >= quantity)
        .values(quantity=table.c.quantity - quantity)
    )
    if usable_on is not None:
        stmt = stmt.where(_usable(usable_on, table.c))
    if db.session.execute(stmt).rowcount != 1:
        available = _on_hand(lot)
        if usable_on is not None and lot.held_at is not None:
            raise StockError(
                f"Lot {lot.lot_number} of {lot.product.name} is on hold ({lot.hold_reason}); a held "
                "lot can only be written off, or released by a manager."
            )
        if usable_on is not None and lot.expires_on is not None and lot.expires_on < usable_on:
            raise StockError(
                f"Lot {lot.lot_number} of {lot.product.name} expired on {lot.expires_on}; "
                "an expired lot can only be written off."
            )
        raise StockError(
            f"Lot {lot.lot_number} of {lot.product.name} holds {fmt(available)} "
            f"{lot.product.unit}; {fmt(quantity)} cannot be taken from it."
        )
    db.session.expire(lot, ["quantity"])


def _reason_text(note):
    note = (note or "").strip()
    if len(real_text(note)) < 3:
        raise StockError("Say why (at least 3 characters); the ledger keeps the reason.")
    return note[:255]


def write_off(*, lot, quantity, note, user):
    """Write ``quantity`` of ``lot`` off as waste (broken, contaminated, expired): the only way an expired lot leaves
    stock. The caller owns the transaction."""
    quantity = _quantity(quantity)
    require_whole(lot.product, quantity)
    note = _reason_text(note)
    _take_from(lot, quantity)
    movement = StockMovement(lot_id=lot.id, quantity=-quantity, reason="waste", note=note, user=user)
    db.session.add(movement)
    return movement


def adjust(*, lot, delta, note, user):
    """Correct ``lot`` by ``delta`` units (found or missing), with the reason; never below zero."""
    delta = Decimal(str(delta))
    if not delta.is_finite() or delta == 0:
        raise StockError("An adjustment must change the quantity.")
    require_whole(lot.product, delta)
    note = _reason_text(note)
    if delta < 0:
        _take_from(lot, -delta)
    else:
        _change(lot.id, delta)
        db.session.expire(lot, ["quantity"])
    movement = StockMovement(lot_id=lot.id, quantity=delta, reason="adjustment", note=note, user=user)
    db.session.add(movement)
    return movement


def transfer(*, lot, to_location, quantity, user, note=None, today=None):
    """Move ``quantity`` of ``lot`` to the same lot number at ``to_location`` (made if missing): both sides, and
    their ledger rows, in the caller's transaction. An expired lot is never transferred."""
    today = today or local_today(lot.location_id)
    quantity = _quantity(quantity)
    require_whole(lot.product, quantity)
    if to_location.id == lot.location_id:
        raise StockError("Choose another location to transfer to.")
    if not to_location.active:
        raise StockError(f"{to_location.name} is not an active location.")
    _take_from(lot, quantity, usable_on=today)
    target = db.session.execute(
        db.select(StockLot).where(
            StockLot.product_id == lot.product_id,
            StockLot.location_id == to_location.id,
            StockLot.lot_number == lot.lot_number,
        )
    ).scalar_one_or_none()
    if target is None:
        target = StockLot(
            product_id=lot.product_id,
            location=to_location,
            lot_number=lot.lot_number,
            expires_on=lot.expires_on,
            quantity=0,
        )
        _inherit_hold(target)
        db.session.add(target)
        db.session.flush()
    elif target.expires_on != lot.expires_on:
        raise StockError(
            f"Lot {lot.lot_number} is on file at {to_location.name} with another expiry "
            f"({target.expires_on or 'none'}); check the boxes before transferring."
        )
    _change(target.id, quantity)
    db.session.expire(target, ["quantity"])
    out = StockMovement(lot_id=lot.id, quantity=-quantity, reason="transfer_out", note=note, user=user)
    db.session.add(out)
    db.session.flush()
    db.session.add(
        StockMovement(
            lot_id=target.id, quantity=quantity, reason="transfer_in", note=note, user=user, counterpart_id=out.id
        )
    )
    return target


def reverse_receipt(*, receipt, note, user):
    """Undo a receipt entered by mistake with a reversing ledger row (the receipt itself is never changed); refused
    when the lot no longer holds what was received, or the receipt was reversed already.

    The reversing row is written first: the unique index on ``reverses_id`` lets only one reversal of a receipt
    exist, so of two concurrent reversals the second fails there and changes nothing."""
    if receipt.reason != "receipt":
        raise StockError("Only a receipt can be reversed; correct other movements with an adjustment.")
    note = _reason_text(note)
    receipt_id, lot = receipt.id, receipt.lot
    movement = StockMovement(
        lot_id=lot.id,
        quantity=-receipt.quantity,
        reason="receipt_reversal",
        note=note,
        user=user,
        reverses_id=receipt_id,
        supplier_id=receipt.supplier_id,
    )
    db.session.add(movement)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        first = db.session.execute(db.select(StockMovement).where(StockMovement.reverses_id == receipt_id)).scalar()
        by = f" by {first.user or 'someone'} at {first.created_at:%H:%M on %Y-%m-%d}" if first is not None else ""
        raise StockError(f"That receipt has been reversed already{by}.") from None
    try:
        _take_from(lot, -movement.quantity)
    except StockError:
        raise StockError(
            f"Lot {lot.lot_number} holds {fmt(_on_hand(lot))} of the {fmt(-movement.quantity)} "
            "received, so the receipt cannot be reversed; adjust or write off instead."
        ) from None
    return movement


def hold(*, lot_number, reason, user, product_id=None):
    """Put every lot numbered ``lot_number`` (of ``product_id``, or of any product), at every location, on hold for a
    recall: one conditional UPDATE of the lots not yet held. Returns the number of lots put on hold; 0 when they
    all were already. The caller owns the transaction."""
    reason = _reason_text(reason)
    return _change_hold(
        lot_number, product_id, held=False, values={"held_at": now(), "held_by_id": user.id, "hold_reason": reason}
    )


def release(*, lot_number, reason, user, product_id=None):
    """Release the held lots numbered ``lot_number`` back into use, with the reason (a manager's decision that the
    recall does not apply; the caller audits it). Returns the number released; 0 when none was held."""
    _reason_text(reason)
    return _change_hold(
        lot_number, product_id, held=True, values={"held_at": None, "held_by_id": None, "hold_reason": None}
    )


def _change_hold(lot_number, product_id, *, held, values):
    """One conditional UPDATE of the lots of that number (and product) whose hold is ``held``; returns the count."""
    table = StockLot.__table__
    stmt = (
        update(table)
        .where(table.c.lot_number == lot_number, table.c.held_at.is_not(None) if held else table.c.held_at.is_(None))
        .values(**values)
    )
    if product_id is not None:
        stmt = stmt.where(table.c.product_id == product_id)
    count = db.session.execute(stmt).rowcount
    _expire_loaded_lots({o.id for o in db.session.identity_map.values() if isinstance(o, StockLot)}, HOLD_FIELDS)
    return count


def apply_stocktake(*, location, counts, user, note=None):
    """Record a stocktake at ``location``: ``counts`` maps each counted lot to (quantity the clerk saw on the sheet,
    quantity counted). Each difference becomes a ``stocktake`` ledger row, set by a compare-and-set UPDATE, so a lot
    that changed while it was being counted refuses the whole stocktake (count it again)."""
    if not counts:
        raise StockError("Count at least one lot.")
    stocktake = Stocktake(location=location, user=user, note=(note or "").strip()[:255] or None)
    db.session.add(stocktake)
    db.session.flush()
    table = StockLot.__table__
    for lot, (expected, counted) in counts.items():
        expected, counted = Decimal(str(expected)), Decimal(str(counted))
        if lot.location_id != location.id:
            raise StockError(f"Lot {lot.lot_number} is not at {location.name}.")
        if not counted.is_finite() or counted < 0:
            raise StockError(f"Lot {lot.lot_number}: a count is zero or more.")
        require_whole(lot.product, counted)
        db.session.add(StocktakeLine(stocktake=stocktake, lot_id=lot.id, expected=expected, counted=counted))
        if counted == expected:
            changed = (
                db.session.execute(
                    db.select(StockLot.id).where(StockLot.id == lot.id, StockLot.quantity == expected)
                ).first()
                is not None
            )
        else:
            changed = (
                db.session.execute(
                    update(table).where(table.c.id == lot.id, table.c.quantity == expected).values(quantity=counted)
                ).rowcount
                == 1
            )
            db.session.add(
                StockMovement(
                    lot_id=lot.id,
                    quantity=counted - expected,
                    reason="stocktake",
                    note=stocktake.note,
                    user=user,
                    stocktake_id=stocktake.id,
                )
            )
        if not changed:
            raise StockError(
                f"Lot {lot.lot_number} of {lot.product.name} changed while it was counted (the sheet "
                f"said {fmt(expected)}, the ledger now says {fmt(_on_hand(lot))}); count it again."
            )
        db.session.expire(lot, ["quantity"])
    return stocktake
