"""Recall: from a lot number to every treatment and client it was used for, to print or export and contact them;
and the lots of that number on the shelves, which a manager puts on hold at every location (or releases)."""

from itertools import groupby

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from sqlalchemy.orm import joinedload

from ..audit import audit, audit_read
from ..clock import shown
from ..export import csv_response
from ..extensions import db
from ..models import Client, Location, Product, StockLot, StockMovement, Treatment, User
from ..plugins import registry
from ..rate_limits import rate_limited
from ..stock import StockError, hold, release
from .base import SecuredView

COLUMNS = (
    "Performed",
    "Client",
    "Born",
    "Phone",
    "Email",
    "Modality",
    "Practitioner",
    "Location",
    "Product",
    "Lot",
    "Expires",
    "Quantity",
)


def recall_rows(lot_number):
    """One row per treatment that used a lot numbered ``lot_number`` (any product, any location), oldest first."""
    rows = db.session.execute(
        db.select(
            Treatment.performed_at,
            Treatment.location_id,
            Client.id,
            Client.first_name,
            Client.last_name,
            Client.date_of_birth,
            Client.phone,
            Client.email,
            Treatment.modality,
            User.full_name,
            User.email.label("user_email"),
            Location.name,
            Product.name.label("product"),
            StockLot.lot_number,
            StockLot.expires_on,
            StockMovement.quantity,
        )
        .select_from(StockMovement)
        .join(StockLot, StockLot.id == StockMovement.lot_id)
        .join(Product, Product.id == StockLot.product_id)
        .join(Treatment, Treatment.id == StockMovement.treatment_id)
        .join(Client, Client.id == Treatment.client_id)
        .join(User, User.id == Treatment.practitioner_id)
        .join(Location, Location.id == Treatment.location_id)
        .where(StockLot.lot_number == lot_number, StockMovement.reason == "consumption")
        .order_by(Treatment.performed_at, Client.last_name)
    ).all()
    label = registry().modality_label
    return [r.id for r in rows], [
        (
            shown(r.performed_at, r.location_id),
            f"{r.first_name} {r.last_name}",
            r.date_of_birth or "",
            r.phone or "",
            r.email or "",
            label(r.modality),
            r.full_name or r.user_email,
            r.name,
            r.product,
            r.lot_number,
            r.expires_on or "",
            f"{-r.quantity:f}",
        )
        for r in rows
    ]


def _shelves(lot_number):
    """[(product, [lots])]: the lots numbered ``lot_number`` at every location, per product."""
    if not lot_number:
        return []
    lots = (
        db.session.execute(
            db.select(StockLot)
            .where(StockLot.lot_number == lot_number)
            .options(joinedload(StockLot.product), joinedload(StockLot.location), joinedload(StockLot.held_by))
            .order_by(StockLot.product_id, StockLot.location_id)
        )
        .scalars()
        .all()
    )
    return [(product, list(group)) for product, group in groupby(lots, key=lambda lot: lot.product)]


class RecallView(SecuredView):
    """``/admin/recall/?lot=...``: who was treated with a lot; managers only (it lists clients and their contacts)."""

    allowed_roles = ("admin", "manager")

    def _lot(self):
        return (request.args.get("lot") or "").strip()[:60]

    @expose("/")
    def index(self):
        lot = self._lot()
        client_ids, rows = recall_rows(lot) if lot else ([], [])
        if lot:
            audit_read(
                "recall.view",
                object_type="StockLot",
                object_id=lot,
                detail={"treatments": len(rows), "clients": sorted(set(client_ids))},
            )
        return self.render("admin/recall.html", lot=lot, columns=COLUMNS, rows=rows, shelves=_shelves(lot))

    def _hold_step(self, step, verb):
        lot, product_id = self._lot(), request.form.get("product_id", type=int)
        product = db.session.get(Product, product_id or 0)
        if not lot or product is None:
            flash("Choose a lot number and product.", "error")
            return redirect(url_for(".index", lot=lot))
        try:
            count = step(
                lot_number=lot,
                product_id=product.id,
                reason=request.form.get("reason", "")[:255],
                user=current_user._get_current_object(),
            )
        except StockError as exc:
            db.session.rollback()
            flash(f"Nothing was changed: {exc}", "error")
            return redirect(url_for(".index", lot=lot))
        if not count:
            db.session.rollback()
            flash(f"Lot {lot} of {product.name} was {verb} already; nothing was changed.", "warning")
            return redirect(url_for(".index", lot=lot))
        audit(
            f"stock.{'hold' if step is hold else 'release'}",
            object_type="StockLot",
            object_id=lot,
            detail={"product": product.sku, "lots": count, "reason": request.form.get("reason", "").strip()[:255]},
        )
        db.session.commit()
        flash(f"Lot {lot} of {product.name} {verb} at {count} location(s).", "success")
        return redirect(url_for(".index", lot=lot))

    @expose("/hold", methods=("POST",))
    def hold(self):
        """Put a product's lot on hold at every location: nothing takes from it until a manager releases it."""
        return self._hold_step(hold, "put on hold")

    @expose("/release", methods=("POST",))
    def release(self):
        """Release a held lot back into use, with the reason the recall does not apply."""
        return self._hold_step(release, "released")

    @expose("/csv")
    @rate_limited("exports")
    def export(self):
        lot = self._lot()
        client_ids, rows = recall_rows(lot)
        audit_read(
            "recall.export",
            object_type="StockLot",
            object_id=lot,
            detail={"treatments": len(rows), "clients": sorted(set(client_ids))},
        )
        return csv_response(
            f"recall-{''.join(ch for ch in lot if ch.isalnum() or ch in '-_') or 'lot'}.csv", COLUMNS, rows
        )
