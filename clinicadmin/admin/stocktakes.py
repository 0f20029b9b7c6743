"""Stocktakes: a clerk counts the lots at a location; the differences become ledger rows in one step, and the count
stays on record as a printable variance sheet."""

from decimal import Decimal, InvalidOperation

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from sqlalchemy.orm import selectinload

from ..audit import audit
from ..extensions import db
from ..models import Location, StockLot, Stocktake
from ..stock import StockError, apply_stocktake
from ..transitions import AlreadyDone, claim
from .base import SecuredView
from .inventory import STOCK_ROLES
from .once import new_token
from .validators import MAX_QUANTITY


def _counted(text):
    """A counted quantity from the sheet, or None if it is not a number of units (at most 3 decimals)."""
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > MAX_QUANTITY or value != value.quantize(Decimal("0.001")):
        return None
    return value


class StocktakeView(SecuredView):
    """``/admin/stocktake/``: past stocktakes; ``new?location_id=`` the count sheet; ``<id>`` the variance sheet."""

    allowed_roles = STOCK_ROLES

    @expose("/")
    def index(self):
        stocktakes = (
            db.session.execute(
                db.select(Stocktake)
                .options(selectinload(Stocktake.lines), selectinload(Stocktake.location), selectinload(Stocktake.user))
                .order_by(Stocktake.counted_at.desc())
                .limit(100)
            )
            .scalars()
            .all()
        )
        locations = (
            db.session.execute(db.select(Location).where(Location.active.is_(True)).order_by(Location.name))
            .scalars()
            .all()
        )
        return self.render("admin/stocktakes.html", stocktakes=stocktakes, locations=locations)

    def _lots_at(self, location):
        return (
            db.session.execute(
                db.select(StockLot)
                .join(StockLot.product)
                .where(StockLot.location_id == location.id, StockLot.quantity > 0)
                .order_by(StockLot.product_id, StockLot.expires_on, StockLot.lot_number)
            )
            .scalars()
            .all()
        )

    @expose("/new", methods=("GET", "POST"))
    def new(self):
        location = db.session.get(Location, request.values.get("location_id", type=int) or 0)
        if location is None:
            abort(404)
        lots = self._lots_at(location)
        errors = {}
        if request.method == "POST":
            counts = {}
            for lot in lots:
                counted = _counted(request.form.get(f"counted-{lot.id}"))
                expected = _counted(request.form.get(f"expected-{lot.id}"))
                if counted is None or expected is None:
                    errors[lot.id] = "Enter the count: a number of units, zero or more."
                else:
                    counts[lot] = (expected, counted)
            if not errors:
                try:
                    claim(request.form.get("once"), "stock.stocktake", current_user)
                    stocktake = apply_stocktake(
                        location=location,
                        counts=counts,
                        user=current_user._get_current_object(),
                        note=request.form.get("note"),
                    )
                    changed = sum(1 for line in stocktake.lines if line.difference)
                    audit(
                        "stock.stocktake",
                        obj=stocktake,
                        detail={"location": location.name, "lots": len(counts), "differences": changed},
                    )
                    db.session.commit()
                except AlreadyDone as exc:
                    flash(str(exc), "warning")
                    return redirect(url_for(".index"))
                except StockError as exc:
                    db.session.rollback()
                    flash(f"Nothing was changed: {exc}", "error")
                    lots = self._lots_at(location)
                else:
                    flash(f"Stocktake recorded: {changed} difference(s) written to the ledger.", "success")
                    return redirect(url_for(".show", stocktake_id=stocktake.id))
            else:
                flash("Nothing was changed: correct the counts marked below.", "error")
        return self.render(
            "admin/stocktake_sheet.html",
            location=location,
            lots=lots,
            errors=errors,
            form=request.form,
            once=request.form.get("once") or new_token(),
        )

    @expose("/<int:stocktake_id>")
    def show(self, stocktake_id):
        stocktake = db.session.get(Stocktake, stocktake_id)
        if stocktake is None:
            abort(404)
        return self.render("admin/stocktake_variance.html", stocktake=stocktake)
