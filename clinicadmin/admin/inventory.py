"""Products, lots and the ledger (read-only), and receiving stock."""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from markupsafe import Markup
from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from ..audit import audit
from ..clock import local_today
from ..extensions import db
from ..forms import ProductField
from ..input_policy import policy_form_view
from ..models import Location, Supplier
from ..plugins import registry
from ..roles import STOCK_ROLES
from ..stock import StockError, receive
from ..transitions import AlreadyDone, claim
from .base import SecuredModelView, SecuredView, serve_lookup
from .clients import changes_of
from .keyset import KeysetPagerMixin
from .once import OnceForm
from .registered_choices import RegisteredChoiceField
from .validators import finite_quantity, whole_if_counted


def _categories():
    return registry().product_category_choices()


def _category(view, context, model, name):
    return registry().product_category_label(model.category)


def _lot_link(lot):
    """The lot number, linked to the lot's page (its ledger and movements)."""
    return Markup('<a href="{}">{}</a>').format(url_for("lot.show", lot_id=lot.id), lot.lot_number)


def _qty(view, context, model, name):
    value = getattr(model, name)
    return "" if value is None else f"{value:f}"


class ProductView(SecuredModelView):
    allowed_roles = create_roles = edit_roles = STOCK_ROLES
    can_view_details = False
    column_list = (
        "sku",
        "name",
        "category",
        "unit",
        "whole_units",
        "pack_size",
        "single_use",
        "tracks_expiry",
        "reorder_level",
        "unit_cost",
        "active",
    )
    column_labels = {
        "tracks_expiry": "Sterile / perishable",
        "pack_size": "Units per pack",
        "whole_units": "Counted in whole units",
    }
    column_searchable_list = ("name", "sku")
    column_filters = ("category", "active")
    column_sortable_list = ("name", "sku", "category")
    column_default_sort = ("name", False)
    column_formatters = {"pack_size": _qty, "reorder_level": _qty, "category": _category}
    form_columns = column_list
    # a category whose plugin was removed stays on the product, offered as "... (plugin not loaded)"
    form_overrides = {"category": RegisteredChoiceField, "pack_size": DecimalField, "reorder_level": DecimalField}
    form_args = {
        "sku": {"validators": [DataRequired(), Length(max=60)]},
        "name": {"validators": [DataRequired(), Length(max=160)]},
        "category": {"choices": _categories},
        "unit": {
            "validators": [DataRequired(), Length(max=20)],
            "description": "The unit stock is counted and used in: needle, cartridge, mL ...",
        },
        "whole_units": {"description": "Needles, ampoules, cartridges: never a fraction of one (unlike mL or grams)."},
        "pack_size": {
            "validators": [InputRequired(), finite_quantity(inclusive=False), whole_if_counted],
            "description": "Units of use in one pack as received (a box of 100 needles: 100).",
        },
        "reorder_level": {"validators": [InputRequired(), finite_quantity(), whole_if_counted], "default": 0},
        "unit_cost": {"validators": [Optional(), NumberRange(min=0, max=1000000)]},
    }

    def on_model_change(self, form, model, is_created):
        audit("product.create" if is_created else "product.update", obj=model, detail={"changes": changes_of(model)})


class SupplierView(SecuredModelView):
    """Who the clinic buys from; deliveries are received against a supplier. Suppliers are retired, not deleted."""

    allowed_roles = create_roles = edit_roles = STOCK_ROLES
    can_view_details = False
    column_list = ("name", "contact", "email", "phone", "active")
    column_searchable_list = ("name",)
    column_filters = ("active",)
    column_sortable_list = ("name",)
    column_default_sort = ("name", False)
    form_columns = column_list
    form_args = {
        "name": {"validators": [DataRequired(), Length(max=160)]},
        "contact": {"validators": [Optional(), Length(max=160)]},
        "email": {"validators": [Optional(), Length(max=254), Email()]},
        "phone": {"validators": [Optional(), Length(max=40)]},
    }

    def on_model_change(self, form, model, is_created):
        audit("supplier.create" if is_created else "supplier.update", obj=model, detail={"changes": changes_of(model)})


class StockLotView(SecuredModelView):
    """Lots on the shelf. Quantities change only through receipts, treatments and (later) adjustments."""

    allowed_roles = STOCK_ROLES
    can_view_details = False
    list_template = "admin/stock_lot_list.html"
    column_list = ("product", "location", "lot_number", "expires_on", "quantity", "received_at")
    column_searchable_list = ("lot_number",)
    column_filters = ("location.name", "expires_on", "product.name")
    column_sortable_list = ("expires_on", "lot_number", "received_at")
    column_default_sort = ("expires_on", False)
    column_formatters = {"quantity": _qty, "lot_number": lambda v, c, m, n: _lot_link(m)}


class StockMovementView(KeysetPagerMixin, SecuredModelView):
    """The stock ledger: append-only, read-only."""

    allowed_roles = STOCK_ROLES
    can_view_details = False
    column_list = (
        "created_at",
        "lot.product",
        "lot.lot_number",
        "lot.location",
        "quantity",
        "reason",
        "treatment_id",
        "user",
        "note",
    )
    column_labels = {
        "lot.product": "Product",
        "lot.lot_number": "Lot",
        "lot.location": "Location",
        "treatment_id": "Treatment",
    }
    column_filters = ("reason", "created_at", "treatment_id")
    column_sortable_list = ("created_at",)
    column_default_sort = ("created_at", True)
    column_formatters = {
        "quantity": _qty,
        "lot.lot_number": lambda v, c, m, n: _lot_link(m.lot),
        "reason": lambda v, c, m, n: m.reason_label,
    }


class ReceiveForm(OnceForm):
    product = ProductField("Product", validators=[DataRequired()])
    location = SelectField("Location", coerce=int, validators=[DataRequired()])
    lot_number = StringField("Lot number", validators=[DataRequired(), Length(max=60)])
    expires_on = DateField("Expires on", validators=[Optional()])
    packs = IntegerField("Packs received", validators=[InputRequired(), NumberRange(min=1, max=10000)])
    supplier = SelectField("Supplier", coerce=int, validators=[DataRequired()])
    note = StringField("Delivery note", validators=[Optional(), Length(max=255)])


def active_locations():
    return [
        (loc.id, loc.name)
        for loc in db.session.execute(
            db.select(Location).where(Location.active.is_(True)).order_by(Location.name)
        ).scalars()
    ]


class ReceiveStockView(SecuredView):
    """Receive a delivery: a lot of packs of one product, converted to units of use."""

    allowed_roles = STOCK_ROLES

    @expose("/", methods=("GET", "POST"))
    @policy_form_view
    def index(self):
        form = ReceiveForm()
        form.location.choices = active_locations()
        form.supplier.choices = [
            (s.id, s.name)
            for s in db.session.execute(
                db.select(Supplier).where(Supplier.active.is_(True)).order_by(Supplier.name)
            ).scalars()
        ]
        if current_user.location_id and request.method == "GET":
            form.location.data = current_user.location_id
        if form.validate_on_submit():
            location = db.session.get(Location, form.location.data)
            try:
                claim(form.once.data, "stock.receive", current_user)
                lot = receive(
                    product=form.product.data,
                    location=location,
                    lot_number=form.lot_number.data,
                    expires_on=form.expires_on.data,
                    packs=form.packs.data,
                    user=current_user._get_current_object(),
                    note=form.note.data or None,
                    supplier=db.session.get(Supplier, form.supplier.data),
                )
                audit(
                    "stock.receive",
                    obj=lot,
                    detail={"packs": form.packs.data, "lot": lot.lot_number, "supplier": form.supplier.data},
                )
                db.session.commit()
            except AlreadyDone as exc:
                flash(str(exc), "warning")
                return redirect(url_for("stocklot.index_view"))
            except StockError as exc:
                db.session.rollback()
                form.lot_number.errors = [*form.lot_number.errors, str(exc)]
            else:
                units = form.packs.data * form.product.data.pack_size
                flash(
                    f"Received {units:f} {form.product.data.unit} of {form.product.data.name} "
                    f"into lot {lot.lot_number} at {location.name}.",
                    "success",
                )
                return redirect(url_for("stocklot.index_view"))
        return self.render("admin/receive_stock.html", form=form, today=local_today())

    @expose("/ajax/lookup/")
    def ajax_lookup(self):
        return serve_lookup()
