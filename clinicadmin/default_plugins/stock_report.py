"""The core stock report: on hand per active product and location, with out-of-stock, low-stock, held (recalled) and
expiry flags. Held lots are not usable stock."""

from datetime import timedelta
from decimal import Decimal

from clinicadmin.clock import local_today
from clinicadmin.extensions import db
from clinicadmin.models import Location, Product, StockLot
from clinicadmin.models.types import Quantity
from clinicadmin.plugin_api import Report, ReportResult, SettingSpec, hookimpl

EXPIRY_WARNING_SETTING = "core.expiry_warning_days"


@hookimpl
def register_settings():
    return [
        SettingSpec(EXPIRY_WARNING_SETTING, "Warn about lots expiring within (days)", 30, int, minimum=1, maximum=730)
    ]


def run_stock_on_hand(params):
    from clinicadmin.clinic_settings import effective_settings

    today = params.get("today") or local_today()
    soon = today + timedelta(days=effective_settings()[EXPIRY_WARNING_SETTING])
    in_date = db.or_(StockLot.expires_on.is_(None), StockLot.expires_on >= today)
    usable = db.and_(in_date, StockLot.held_at.is_(None))
    held = db.and_(in_date, StockLot.held_at.is_not(None))
    expired = db.and_(StockLot.expires_on.is_not(None), StockLot.expires_on < today)
    query = (
        db.select(
            Product.sku,
            Product.name,
            Product.unit,
            Product.reorder_level,
            Location.name.label("location"),
            db.func.sum(db.case((usable, StockLot.quantity), else_=0), type_=Quantity()).label("usable"),
            db.func.sum(db.case((expired, StockLot.quantity), else_=0), type_=Quantity()).label("expired"),
            db.func.sum(db.case((held, StockLot.quantity), else_=0), type_=Quantity()).label("held"),
            db.func.min(db.case((db.and_(usable, StockLot.quantity > 0), StockLot.expires_on))).label("next_expiry"),
        )
        # Every active product at every active location, so one never received shows as out of stock.
        .select_from(Product)
        .join(Location, db.true())
        .outerjoin(StockLot, db.and_(StockLot.product_id == Product.id, StockLot.location_id == Location.id))
        .where(Product.active.is_(True), Location.active.is_(True))
        .group_by(Product.id, Product.sku, Product.name, Product.unit, Product.reorder_level, Location.name)
        .order_by(Product.name, Location.name)
    )
    if params.get("location_id"):
        query = query.where(Location.id == params["location_id"])
    rows = []
    for r in db.session.execute(query):
        usable_qty = r.usable or Decimal(0)
        expired_qty = r.expired or Decimal(0)
        flags = []
        if usable_qty <= 0:
            flags.append("OUT OF STOCK")
        elif usable_qty < r.reorder_level:
            flags.append("LOW")
        if (r.held or 0) > 0:
            flags.append(f"ON HOLD (RECALL): {Decimal(r.held).normalize():f} {r.unit}")
        if expired_qty > 0:
            flags.append("EXPIRED ON SHELF")
        if r.next_expiry is not None and r.next_expiry <= soon:
            flags.append(f"EXPIRES {r.next_expiry.isoformat()}")
        rows.append(
            (
                r.sku,
                r.name,
                r.location,
                f"{usable_qty.normalize():f} {r.unit}",
                f"{expired_qty.normalize():f}",
                r.next_expiry.isoformat() if r.next_expiry else "",
                ", ".join(flags),
            )
        )
    return ReportResult(
        ("SKU", "Product", "Location", "Usable on hand", "Expired on shelf", "Next expiry", "Flags"), rows
    )


@hookimpl
def register_reports():
    return [
        Report(
            "stock-on-hand",
            "Stock on hand",
            run_stock_on_hand,
            roles=("admin", "manager", "stock_clerk"),
            description="Usable stock per product and location, flagging low, out-of-stock and expiring lots.",
            params=("location",),
        )
    ]
