"""The core's usage report: units of each product used per month and modality, and what they cost.

It reads ``StockUsage``, the ledger's consumption summed per month as it is written, so a year is a few thousand rows
whatever the chain's volume; its period is therefore whole months.
"""

from decimal import Decimal

from clinicadmin.extensions import db
from clinicadmin.models import Product, StockUsage
from clinicadmin.models.types import Quantity
from clinicadmin.plugin_api import Report, ReportResult, hookimpl
from clinicadmin.plugins import registry


def run_usage(params):
    first, last = f"{params['date_from']:%Y-%m}", f"{params['date_to']:%Y-%m}"
    used = db.func.sum(StockUsage.quantity, type_=Quantity()).label("used")
    query = (
        db.select(StockUsage.month, Product.name, Product.unit, Product.unit_cost, StockUsage.modality, used)
        .join(Product, Product.id == StockUsage.product_id)
        .where(StockUsage.month >= first, StockUsage.month <= last)
        .group_by(StockUsage.month, Product.id, Product.name, Product.unit, Product.unit_cost, StockUsage.modality)
        .order_by(StockUsage.month, Product.name, StockUsage.modality)
    )
    if params.get("location_id"):
        query = query.where(StockUsage.location_id == params["location_id"])
    label = registry().modality_label
    rows, total = [], Decimal(0)
    for r in db.session.execute(query):
        if not r.used:
            continue
        cost = None if r.unit_cost is None else (r.used * r.unit_cost).quantize(Decimal("0.01"))
        total += cost or 0
        rows.append(
            (
                r.month,
                r.name,
                label(r.modality),
                f"{r.used.normalize():f} {r.unit}",
                "" if cost is None else f"{cost:.2f}",
            )
        )
    return ReportResult(
        ("Month", "Product", "Modality", "Used", "Cost"),
        rows,
        notes=(
            f"Whole months from {first} to {last}, by the month each treatment was performed.",
            f"Total cost of the products with a unit cost: {total:.2f}.",
        ),
    )


@hookimpl
def register_reports():
    return [
        Report(
            "stock-usage",
            "Stock used per month",
            run_usage,
            roles=("admin", "manager", "stock_clerk"),
            description="Units of each product used by treatments, per month and modality, with their cost.",
        )
    ]
