"""Recall: from a lot number to every treatment and client it was used for, to print or export and contact them."""
from flask import request
from flask_admin import expose

from ..audit import audit_read
from ..export import csv_response
from ..extensions import db
from ..models import Client, Location, Product, StockLot, StockMovement, Treatment, User
from ..plugins import registry
from .base import SecuredView

COLUMNS = ("Performed", "Client", "Born", "Phone", "Email", "Modality", "Practitioner", "Location", "Product", "Lot",
           "Expires", "Quantity")


def recall_rows(lot_number):
    """One row per treatment that used a lot numbered ``lot_number`` (any product, any location), oldest first."""
    rows = db.session.execute(
        db.select(Treatment.performed_at, Client.id, Client.first_name, Client.last_name, Client.date_of_birth,
                  Client.phone, Client.email, Treatment.modality, User.full_name, User.email.label("user_email"),
                  Location.name, Product.name.label("product"), StockLot.lot_number, StockLot.expires_on,
                  StockMovement.quantity)
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
        (r.performed_at.strftime("%Y-%m-%d %H:%M") if r.performed_at else "", f"{r.first_name} {r.last_name}",
         r.date_of_birth or "", r.phone or "", r.email or "", label(r.modality), r.full_name or r.user_email, r.name,
         r.product, r.lot_number, r.expires_on or "", f"{-r.quantity:f}")
        for r in rows]


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
            audit_read("recall.view", object_type="StockLot", object_id=lot,
                       detail={"treatments": len(rows), "clients": sorted(set(client_ids))})
        return self.render("admin/recall.html", lot=lot, columns=COLUMNS, rows=rows)

    @expose("/csv")
    def export(self):
        lot = self._lot()
        client_ids, rows = recall_rows(lot)
        audit_read("recall.export", object_type="StockLot", object_id=lot,
                   detail={"treatments": len(rows), "clients": sorted(set(client_ids))})
        return csv_response(f"recall-{''.join(ch for ch in lot if ch.isalnum() or ch in '-_') or 'lot'}.csv",
                            COLUMNS, rows)
