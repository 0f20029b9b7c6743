"""One lot's page: its ledger, and the movements a stock clerk makes on it (transfer, write-off, adjustment, reversal
of a mistaken receipt). Each is one transaction, audited; a refused one changes nothing."""

from decimal import Decimal

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from wtforms import DecimalField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from ..audit import audit
from ..clock import local_today
from ..extensions import db
from ..input_policy import policy_form_view, required_reason
from ..models import Location, StockLot, StockMovement
from ..stock import StockError, adjust, reverse_receipt, transfer, write_off
from ..transitions import AlreadyDone, claim
from .base import SecuredView
from .inventory import STOCK_ROLES, active_locations
from .once import OnceForm
from .validators import finite_quantity

REASON = [DataRequired(message="Say why."), Length(min=3, max=255), required_reason()]


class TransferForm(OnceForm):
    to_location = SelectField("To location", coerce=int, validators=[DataRequired()])
    quantity = DecimalField("Quantity", validators=[InputRequired(), finite_quantity(inclusive=False)])
    note = StringField("Note", validators=[Length(max=255)])


class WriteOffForm(OnceForm):
    quantity = DecimalField("Quantity", validators=[InputRequired(), finite_quantity(inclusive=False)])
    note = StringField("Reason (expired, broken, contaminated ...)", validators=REASON)


class AdjustForm(OnceForm):
    delta = DecimalField(
        "Change (+ found, - missing)", validators=[InputRequired(), finite_quantity(minimum=Decimal("-1000000"))]
    )
    note = StringField("Reason", validators=REASON)


class ReverseForm(OnceForm):
    receipt_id = HiddenField(validators=[DataRequired()])
    note = StringField("Why the receipt was wrong", validators=REASON)


class LotView(SecuredView):
    """``/admin/lot/<id>``: a lot, its ledger and its movements."""

    allowed_roles = STOCK_ROLES

    def is_visible(self):
        return False  # reached from the lot list, not the menu

    def _lot(self, lot_id):
        lot = db.session.get(StockLot, lot_id)
        if lot is None:
            abort(404)
        return lot

    def _page(self, lot, **forms):
        forms = {
            "transfer_form": TransferForm(formdata=None),
            "write_off_form": WriteOffForm(formdata=None),
            "adjust_form": AdjustForm(formdata=None),
            "reverse_form": ReverseForm(formdata=None),
            **forms,
        }
        forms["transfer_form"].to_location.choices = [c for c in active_locations() if c[0] != lot.location_id]
        ledger = (
            db.session.execute(
                db.select(StockMovement).where(StockMovement.lot_id == lot.id).order_by(StockMovement.id)
            )
            .scalars()
            .all()
        )
        reversed_ids = {m.reverses_id for m in ledger if m.reverses_id}
        return self.render(
            "admin/lot.html",
            lot=lot,
            ledger=ledger,
            reversed_ids=reversed_ids,
            today=local_today(lot.location),
            **forms,
        )

    @expose("/")
    def index(self):
        return redirect(url_for("stocklot.index_view"))

    @expose("/<int:lot_id>")
    def show(self, lot_id):
        return self._page(self._lot(lot_id))

    def _apply(self, lot, form, form_name, action, message):
        """Validate ``form``; run ``action()`` (a stock service call) and commit with an audit row, or roll back and
        show the page again with the reason."""
        if form.validate_on_submit():
            try:
                claim(form.once.data, f"stock.{form_name.removesuffix('_form')}", current_user)
                movement = action()
                audit(
                    f"stock.{form_name.removesuffix('_form')}",
                    obj=lot,
                    detail={
                        "lot": lot.lot_number,
                        **{k: str(v) for k, v in form.data.items() if k not in ("csrf_token", "once")},
                    },
                )
                db.session.commit()
            except AlreadyDone as exc:
                flash(str(exc), "warning")
                return redirect(url_for(".show", lot_id=lot.id))
            except StockError as exc:
                db.session.rollback()
                flash(f"Nothing was changed: {exc}", "error")
            else:
                flash(message(movement), "success")
                return redirect(url_for(".show", lot_id=lot.id))
        return self._page(self._lot(lot.id), **{form_name: form})

    @expose("/<int:lot_id>/transfer", methods=("POST",))
    @policy_form_view
    def transfer(self, lot_id):
        lot = self._lot(lot_id)
        form = TransferForm()
        form.to_location.choices = active_locations()
        return self._apply(
            lot,
            form,
            "transfer_form",
            lambda: transfer(
                lot=lot,
                to_location=db.session.get(Location, form.to_location.data),
                quantity=form.quantity.data,
                note=form.note.data or None,
                user=current_user._get_current_object(),
            ),
            lambda target: f"Transferred {form.quantity.data:f} {lot.product.unit} to {target.location.name}.",
        )

    @expose("/<int:lot_id>/write-off", methods=("POST",))
    @policy_form_view
    def write_off(self, lot_id):
        lot = self._lot(lot_id)
        form = WriteOffForm()
        return self._apply(
            lot,
            form,
            "write_off_form",
            lambda: write_off(
                lot=lot, quantity=form.quantity.data, note=form.note.data, user=current_user._get_current_object()
            ),
            lambda m: f"Wrote off {form.quantity.data:f} {lot.product.unit} of lot {lot.lot_number}.",
        )

    @expose("/<int:lot_id>/adjust", methods=("POST",))
    @policy_form_view
    def adjust(self, lot_id):
        lot = self._lot(lot_id)
        form = AdjustForm()
        return self._apply(
            lot,
            form,
            "adjust_form",
            lambda: adjust(
                lot=lot, delta=form.delta.data, note=form.note.data, user=current_user._get_current_object()
            ),
            lambda m: f"Adjusted lot {lot.lot_number} by {form.delta.data:+f} {lot.product.unit}.",
        )

    @expose("/<int:lot_id>/reverse", methods=("POST",))
    @policy_form_view
    def reverse(self, lot_id):
        lot = self._lot(lot_id)
        form = ReverseForm()
        receipt = db.session.get(StockMovement, request.form.get("receipt_id", type=int) or 0)
        if receipt is None or receipt.lot_id != lot.id:
            abort(404)
        return self._apply(
            lot,
            form,
            "reverse_form",
            lambda: reverse_receipt(receipt=receipt, note=form.note.data, user=current_user._get_current_object()),
            lambda m: f"Receipt of {receipt.quantity:f} {lot.product.unit} reversed.",
        )
