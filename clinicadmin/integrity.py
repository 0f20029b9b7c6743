"""``clinicadmin check``: the stored data agrees with itself. Each check returns the problems it found, as text."""
from .extensions import db
from .models import Product, StockLot, StockMovement
from .models.types import Quantity


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


def lot_count():
    return db.session.execute(db.select(db.func.count(StockLot.id))).scalar_one()
