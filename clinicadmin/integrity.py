"""``clinicadmin check``: the stored data agrees with itself. Each check returns the problems it found, as text."""
from .extensions import db
from .models import AuditChain, AuditEvent, Product, StockLot, StockMovement, StockUsage
from .models.audit import GENESIS
from .models.types import Quantity

MAX_REPORTED = 20


def stock_problems():
    """Lots whose quantity is negative or differs from the sum of their ledger rows, one line each."""
    ledger = (db.select(StockMovement.lot_id, db.func.sum(StockMovement.quantity, type_=Quantity()).label("total"))
              .group_by(StockMovement.lot_id).subquery())
    total = db.func.coalesce(ledger.c.total, 0, type_=Quantity())
    rows = db.session.execute(
        db.select(StockLot.id, StockLot.lot_number, Product.sku, StockLot.quantity, total.label("total"))
        .join(Product, Product.id == StockLot.product_id)
        .outerjoin(ledger, ledger.c.lot_id == StockLot.id)
        .where(db.or_(StockLot.quantity < 0, StockLot.quantity != total))
        .order_by(StockLot.id)
    ).all()
    return [f"lot {r.lot_number} of {r.sku} (id {r.id}): on hand {r.quantity:f}, ledger sum {r.total:f}"
            for r in rows]


def usage_problems():
    """Months whose stored usage (``StockUsage``, kept as stock is consumed) differs from the ledger's consumption."""
    from .stock import usage_from_ledger

    def key(r):
        return r.month, r.location_id, r.product_id, r.modality

    ledger = {key(r): r.quantity for r in db.session.execute(usage_from_ledger())}
    stored = {key(r): r.quantity for r in db.session.execute(db.select(StockUsage)).scalars()}
    wrong = sorted(k for k in ledger.keys() | stored.keys() if ledger.get(k, 0) != stored.get(k, 0))
    return [f"usage of product {product} at location {location} for {modality} in {month}: stored "
            f"{stored.get((month, location, product, modality), 0):f}, ledger "
            f"{ledger.get((month, location, product, modality), 0):f}"
            for month, location, product, modality in wrong[:MAX_REPORTED]]


def lot_count():
    return db.session.execute(db.select(db.func.count(StockLot.id))).scalar_one()


def audit_problems():
    """Breaks in the audit chain: a row whose content no longer matches its hash, a row missing or out of place, or
    a head that does not point at the last row. Reports at most ``MAX_REPORTED``."""
    problems, prev, expected_seq = [], GENESIS, 1
    rows = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000))
    for row in rows.scalars():
        if row.seq != expected_seq:
            problems.append(f"audit row {expected_seq} is missing (the next is {row.seq})")
        elif row.prev_hash != prev:
            problems.append(f"audit row {row.seq} does not follow the row before it")
        elif row.content_hash(row.prev_hash) != row.hash:
            problems.append(f"audit row {row.seq} (id {row.id}, {row.action}) was changed after it was written")
        if len(problems) >= MAX_REPORTED:
            return problems
        prev, expected_seq = row.hash, row.seq + 1
    head = db.session.get(AuditChain, 1)
    if head is not None and (head.last_seq, head.last_hash) != (expected_seq - 1, prev):
        problems.append(f"the audit chain's head says row {head.last_seq}, but the last row is {expected_seq - 1}")
    return problems


def audit_count():
    return db.session.execute(db.select(db.func.count(AuditEvent.id))).scalar_one()
