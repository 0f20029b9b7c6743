"""The core's usage report: units of each product used per month and modality, and what they cost."""
from decimal import Decimal

from clinicadmin.extensions import db
from clinicadmin.models import Product, StockLot, StockMovement, Treatment
from clinicadmin.models.types import Quantity
from clinicadmin.plugin_api import Report, ReportResult, hookimpl
from clinicadmin.plugins import registry
from clinicadmin.reporting import period


def run_usage(params):
    start, end = period(params)
    year, month = db.extract("year", Treatment.performed_at), db.extract("month", Treatment.performed_at)
    query = (
        db.select(year.label("year"), month.label("month"), Product.name, Product.unit, Product.unit_cost,
                  Treatment.modality, db.func.sum(-StockMovement.quantity, type_=Quantity()).label("used"))
        .select_from(StockMovement)
        .join(Treatment, Treatment.id == StockMovement.treatment_id)
        .join(StockLot, StockLot.id == StockMovement.lot_id)
        .join(Product, Product.id == StockLot.product_id)
        .where(StockMovement.reason == "consumption", Treatment.performed_at >= start, Treatment.performed_at <= end)
        .group_by(year, month, Product.id, Product.name, Product.unit, Product.unit_cost, Treatment.modality)
        .order_by(year, month, Product.name, Treatment.modality)
    )
    if params.get("location_id"):
        query = query.where(Treatment.location_id == params["location_id"])
    label = registry().modality_label
    rows, total = [], Decimal(0)
    for r in db.session.execute(query):
        cost = None if r.unit_cost is None else (r.used * r.unit_cost).quantize(Decimal("0.01"))
        total += cost or 0
        rows.append((f"{int(r.year)}-{int(r.month):02d}", r.name, label(r.modality), f"{r.used.normalize():f} {r.unit}",
                     "" if cost is None else f"{cost:.2f}"))
    return ReportResult(("Month", "Product", "Modality", "Used", "Cost"), rows,
                        notes=(f"Total cost of the products with a unit cost: {total:.2f}.",))


@hookimpl
def register_reports():
    return [Report("stock-usage", "Stock used per month", run_usage, roles=("admin", "manager", "stock_clerk"),
                   description="Units of each product used by treatments, per month and modality, with their cost.")]
