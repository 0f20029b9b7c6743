"""``clinicadmin check``: the stored data agrees with itself. Each check returns the problems it found, as text."""

from decimal import Decimal
from itertools import groupby, islice

from .extensions import db
from .models import AuditChain, AuditEvent, Product, StockException, StockLot, StockMovement, StockUsage, Treatment
from .models.audit import GENESIS
from .models.types import Quantity

MAX_REPORTED = 20


def stock_problems():
    """Lots whose quantity is negative or differs from the sum of their ledger rows, one line each."""
    ledger = (
        db.select(StockMovement.lot_id, db.func.sum(StockMovement.quantity, type_=Quantity()).label("total"))
        .group_by(StockMovement.lot_id)
        .subquery()
    )
    total = db.func.coalesce(ledger.c.total, 0, type_=Quantity())
    rows = db.session.execute(
        db.select(StockLot.id, StockLot.lot_number, Product.sku, StockLot.quantity, total.label("total"))
        .join(Product, Product.id == StockLot.product_id)
        .outerjoin(ledger, ledger.c.lot_id == StockLot.id)
        .where(db.or_(StockLot.quantity < 0, StockLot.quantity != total))
        .order_by(StockLot.id)
    ).all()
    return [f"lot {r.lot_number} of {r.sku} (id {r.id}): on hand {r.quantity:f}, ledger sum {r.total:f}" for r in rows]


def usage_problems():
    """Months whose stored usage (``StockUsage``, kept as stock is consumed) differs from the ledger's consumption."""
    from .stock import usage_from_ledger

    def key(r):
        return r.month, r.location_id, r.product_id, r.modality

    ledger = {key(r): r.quantity for r in db.session.execute(usage_from_ledger())}
    stored = {key(r): r.quantity for r in db.session.execute(db.select(StockUsage)).scalars()}
    wrong = sorted(k for k in ledger.keys() | stored.keys() if ledger.get(k, 0) != stored.get(k, 0))
    return [
        f"usage of product {product} at location {location} for {modality} in {month}: stored "
        f"{stored.get((month, location, product, modality), 0):f}, ledger "
        f"{ledger.get((month, location, product, modality), 0):f}"
        for month, location, product, modality in wrong[:MAX_REPORTED]
    ]


def consumption_problems():
    """Treatments whose consumption in the ledger, with what is still open as stock exceptions, differs from what
    recording stored with them (``Treatment.consumed``): a session whose stock was taken twice, or stock taken for a
    session not performed. Sessions recorded before the consumption was stored with them (``consumed`` empty) are
    compared only for the second."""
    taken = (
        db.select(
            StockMovement.treatment_id.label("treatment_id"),
            StockLot.product_id.label("product_id"),
            (-StockMovement.quantity).label("quantity"),
        )
        .join(StockLot, StockLot.id == StockMovement.lot_id)
        .where(StockMovement.reason == "consumption", StockMovement.treatment_id.is_not(None))
    )
    owed = db.select(StockException.treatment_id, StockException.product_id, StockException.quantity).where(
        StockException.resolved_at.is_(None)
    )
    used = db.union_all(taken, owed).subquery()
    ledger = (
        db.select(
            used.c.treatment_id, used.c.product_id, db.func.sum(used.c.quantity, type_=Quantity()).label("quantity")
        )
        .group_by(used.c.treatment_id, used.c.product_id)
        .order_by(used.c.treatment_id, used.c.product_id)
    )
    problems = []
    rows = db.session.execute(ledger.execution_options(yield_per=2000))
    per_treatment = (
        (tid, {str(r.product_id): r.quantity for r in used})
        for tid, used in groupby(rows, key=lambda r: r.treatment_id)
    )
    while len(problems) < MAX_REPORTED:
        batch = dict(islice(per_treatment, 1000))
        if not batch:
            break
        treatments = db.session.execute(
            db.select(Treatment.id, Treatment.status, Treatment.consumed).where(Treatment.id.in_(batch))
        ).all()
        for treatment in sorted(treatments):
            taken = batch[treatment.id]
            stored = {k: Decimal(v) for k, v in (treatment.consumed or {}).items()}
            if treatment.status != "performed":
                problems.append(
                    f"treatment {treatment.id} is {treatment.status} but the ledger (or an open stock "
                    "exception) shows stock used for it"
                )
            elif treatment.consumed is not None and stored != taken:
                problems.append(
                    f"treatment {treatment.id} recorded using {_amounts(stored)}; the ledger took "
                    f"{_amounts(taken)} (open stock exceptions counted as taken)"
                )
    return problems[:MAX_REPORTED]


def open_exceptions():
    """The open stock exceptions: one line per product and location (units owed, in how many), and their count."""
    from .stock_exceptions import open_totals

    totals = open_totals()
    return (
        [
            f"{units.normalize():f} {product.unit} of {product.sku} at {location.name}, in {count}"
            for product, location, units, count in totals
        ],
        sum(count for *_, count in totals),
    )


def _amounts(by_product):
    return ", ".join(f"{q.normalize():f} of product {p}" for p, q in sorted(by_product.items())) or "nothing"


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


def photo_problems():
    """Photo rows whose file or thumbnail is missing from the photo storage, and files in it that no row names."""
    from .models import Photo
    from .photo_storage import photo_storage

    storage = photo_storage()
    stored = storage.keys()
    named = set()
    problems = []
    for photo_id, key, thumb in db.session.execute(
        db.select(Photo.id, Photo.storage_key, Photo.thumb_key).order_by(Photo.id)
    ):
        named.update((key, thumb))
        for what, k in (("file", key), ("thumbnail", thumb)):
            if k not in stored:
                problems.append(f"photo {photo_id}: its {what} {k} is missing from {storage.describe()}")
    problems += [f"{key} in {storage.describe()} belongs to no photo row" for key in sorted(stored - named)]
    return problems[:MAX_REPORTED]
