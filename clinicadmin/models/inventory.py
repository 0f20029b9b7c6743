"""Suppliers, products, the lots of them on the shelf at each location, the append-only stock ledger, and
stocktakes."""

from sqlalchemy import event

from ..clock import now
from ..extensions import Model, db
from .types import Quantity, UTCDateTime

#: Why stock moved. Receipts, transfers in and positive adjustments add; the rest take away.
MOVEMENT_REASONS = {
    "receipt": "Received",
    "receipt_reversal": "Receipt reversed",
    "consumption": "Used in a treatment",
    "transfer_out": "Transferred out",
    "transfer_in": "Transferred in",
    "waste": "Written off (waste)",
    "adjustment": "Adjusted",
    "stocktake": "Stocktake difference",
}


class Supplier(Model):
    """Who a clinic buys from; a receipt names its supplier."""

    __tablename__ = "supplier"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(160), nullable=False, unique=True)
    contact = db.Column(db.String(160))
    email = db.Column(db.String(254))
    phone = db.Column(db.String(40))
    active = db.Column(db.Boolean, nullable=False, default=True, index=True)

    def __str__(self):
        return self.name


class Product(Model):
    """Something the clinic stocks, counted in its unit of use (one needle, one cartridge, one mL)."""

    __tablename__ = "product"
    __table_args__ = (
        db.CheckConstraint("pack_size > 0", name="pack_size_positive"),
        db.CheckConstraint("reorder_level >= 0", name="reorder_level_not_negative"),
    )

    id = db.Column(db.Integer, primary_key=True)
    sku = db.Column(db.String(60), nullable=False, unique=True)
    name = db.Column(db.String(160), nullable=False, index=True)
    category = db.Column(db.String(40), nullable=False, index=True)
    unit = db.Column(db.String(20), nullable=False, default="unit")
    pack_size = db.Column(Quantity, nullable=False, default=1)
    single_use = db.Column(db.Boolean, nullable=False, default=False)
    #: counted in whole units (needles, ampoules): no fraction of one is received, moved, written off or counted
    whole_units = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    tracks_expiry = db.Column(db.Boolean, nullable=False, default=True)
    reorder_level = db.Column(Quantity, nullable=False, default=0)
    unit_cost = db.Column(db.Numeric(10, 2))
    active = db.Column(db.Boolean, nullable=False, default=True, index=True)

    def __str__(self):
        return f"{self.name} [{self.sku}]"


class StockLot(Model):
    """A received lot of one product at one location. ``quantity`` changes only by conditional SQL updates."""

    __tablename__ = "stock_lot"
    __table_args__ = (
        db.CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        db.UniqueConstraint("product_id", "location_id", "lot_number", name="uq_stock_lot_product_location_lot"),
        # FEFO lookup: the lots of a product at a location by expiry.
        db.Index("ix_stock_lot_fefo", "product_id", "location_id", "expires_on"),
    )

    id = db.Column(db.Integer, primary_key=True)
    product_id = db.Column(db.Integer, db.ForeignKey("product.id"), nullable=False)
    product = db.relationship("Product")
    location_id = db.Column(db.Integer, db.ForeignKey("location.id"), nullable=False, index=True)
    location = db.relationship("Location")
    lot_number = db.Column(db.String(60), nullable=False, index=True)
    expires_on = db.Column(db.Date, index=True)
    quantity = db.Column(Quantity, nullable=False, default=0)
    received_at = db.Column(UTCDateTime, nullable=False, default=now, index=True)
    #: a lot on hold (a recall) is never consumed or transferred; a manager releases it or it is written off
    held_at = db.Column(UTCDateTime, index=True)
    held_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    held_by = db.relationship("User", foreign_keys=[held_by_id])
    hold_reason = db.Column(db.String(255))

    def __str__(self):
        expiry = self.expires_on.isoformat() if self.expires_on else "no expiry"
        return f"{self.product.name} lot {self.lot_number} ({expiry})"


class StockMovement(Model):
    """One ledger row: a signed quantity in or out of a lot, why, by whom, and for which treatment. Never changed:
    a mistake is corrected by a further row (a reversal, an adjustment)."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        # A receipt is reversed at most once.
        db.UniqueConstraint("reverses_id", name="uq_stock_movement_reverses_id"),
        # The dashboard's weekly chart counts consumption from the index alone.
        db.Index("ix_stock_movement_created_reason", "created_at", "reason"),
    )

    id = db.Column(db.Integer, primary_key=True)
    lot_id = db.Column(db.Integer, db.ForeignKey("stock_lot.id"), nullable=False, index=True)
    lot = db.relationship("StockLot")
    quantity = db.Column(Quantity, nullable=False)
    reason = db.Column(db.String(30), nullable=False, index=True)
    note = db.Column(db.String(255))
    treatment_id = db.Column(db.Integer, db.ForeignKey("treatment.id"), index=True)
    treatment = db.relationship("Treatment", back_populates="stock_movements")
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    user = db.relationship("User")
    created_at = db.Column(UTCDateTime, nullable=False, default=now, index=True)
    supplier_id = db.Column(db.Integer, db.ForeignKey("supplier.id"), index=True)
    supplier = db.relationship("Supplier")
    #: the receipt this row reverses, or the other side of a transfer
    reverses_id = db.Column(db.Integer, db.ForeignKey("stock_movement.id"))
    counterpart_id = db.Column(db.Integer, db.ForeignKey("stock_movement.id"))
    stocktake_id = db.Column(db.Integer, db.ForeignKey("stocktake.id"), index=True)

    @property
    def reason_label(self):
        return MOVEMENT_REASONS.get(self.reason, self.reason)


@event.listens_for(StockMovement, "before_update")
@event.listens_for(StockMovement, "before_delete")
def _refuse_rewrite(mapper, connection, target):
    raise PermissionError("the stock ledger is append-only")


class StockUsage(Model):
    """Units of a product that treatments used, per month of the treatment, location and modality: the ledger's
    consumption rows summed as they are written (by ``stock.consume``, in the same transaction), so that the usage
    report reads a few thousand rows instead of a year of the ledger. ``clinicadmin check`` compares it with the
    ledger."""

    __tablename__ = "stock_usage_month"

    month = db.Column(db.String(7), primary_key=True)  # YYYY-MM of the treatment's performed_at
    location_id = db.Column(db.Integer, db.ForeignKey("location.id"), primary_key=True)
    product_id = db.Column(db.Integer, db.ForeignKey("product.id"), primary_key=True)
    modality = db.Column(db.String(60), primary_key=True)
    quantity = db.Column(Quantity, nullable=False)


class StockException(Model):
    """Stock a recorded treatment used that the system did not show: which product, at which location, how much, for
    which treatment, found when and by whom. It stays open until a stock clerk assigns it stock from a lot (the
    consumption then reaches the ledger, pointing at the treatment); it is resolved once."""

    __tablename__ = "stock_exception"
    __table_args__ = (
        db.CheckConstraint("quantity > 0", name="quantity_positive"),
        # The clerk's dashboard lists the open ones, oldest first.
        db.Index("ix_stock_exception_open", "resolved_at", "created_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    treatment_id = db.Column(db.Integer, db.ForeignKey("treatment.id"), nullable=False, index=True)
    treatment = db.relationship("Treatment")
    product_id = db.Column(db.Integer, db.ForeignKey("product.id"), nullable=False, index=True)
    product = db.relationship("Product")
    location_id = db.Column(db.Integer, db.ForeignKey("location.id"), nullable=False, index=True)
    location = db.relationship("Location")
    #: the lot the practitioner said was opened, when they chose one
    lot_id = db.Column(db.Integer, db.ForeignKey("stock_lot.id"))
    lot = db.relationship("StockLot", foreign_keys=[lot_id])
    quantity = db.Column(Quantity, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_by = db.relationship("User", foreign_keys=[created_by_id])
    resolved_at = db.Column(UTCDateTime)
    resolved_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    resolved_by = db.relationship("User", foreign_keys=[resolved_by_id])
    #: the lot the stock clerk assigned to it
    resolved_lot_id = db.Column(db.Integer, db.ForeignKey("stock_lot.id"))
    resolved_lot = db.relationship("StockLot", foreign_keys=[resolved_lot_id])

    @property
    def is_open(self):
        return self.resolved_at is None


class Stocktake(Model):
    """A count of the lots at one location; each difference became a ``stocktake`` ledger row when it was applied."""

    __tablename__ = "stocktake"

    id = db.Column(db.Integer, primary_key=True)
    location_id = db.Column(db.Integer, db.ForeignKey("location.id"), nullable=False, index=True)
    location = db.relationship("Location")
    counted_at = db.Column(UTCDateTime, nullable=False, default=now, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    user = db.relationship("User")
    note = db.Column(db.String(255))
    lines = db.relationship("StocktakeLine", back_populates="stocktake", order_by="StocktakeLine.id")


class StocktakeLine(Model):
    """One lot in a stocktake: what the ledger said, what was counted, and the difference applied."""

    __tablename__ = "stocktake_line"

    id = db.Column(db.Integer, primary_key=True)
    stocktake_id = db.Column(db.Integer, db.ForeignKey("stocktake.id"), nullable=False, index=True)
    stocktake = db.relationship("Stocktake", back_populates="lines")
    lot_id = db.Column(db.Integer, db.ForeignKey("stock_lot.id"), nullable=False, index=True)
    lot = db.relationship("StockLot")
    expected = db.Column(Quantity, nullable=False)
    counted = db.Column(Quantity, nullable=False)

    @property
    def difference(self):
        return self.counted - self.expected
