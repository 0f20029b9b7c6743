"""The stock clerk's stock exceptions: what treatments used that stock on file could not give, and the page where
stock received or adjusted is assigned to one, which resolves it (once)."""

from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_security import current_user
from wtforms import SelectField
from wtforms.validators import DataRequired

from ..clock import local_today
from ..extensions import db
from ..input_policy import PolicyFlaskForm, policy_form_view
from ..models import StockException
from ..plugins import registry
from ..stock import StockError
from ..stock_exceptions import lot_of, lots_for, open_exceptions, resolve
from ..transitions import when
from .base import SecuredView
from .inventory import STOCK_ROLES


class AssignForm(PolicyFlaskForm):
    lot = SelectField(
        "Take it from lot",
        coerce=int,
        validate_choice=False,
        validators=[DataRequired()],
        description="A lot of this product at this location, in date and not on hold.",
    )


def lot_label(lot):
    expiry = f"expires {lot.expires_on.isoformat()}" if lot.expires_on else "no expiry"
    return f"Lot {lot.lot_number}, {expiry}, {lot.quantity.normalize():f} {lot.product.unit} on hand"


class StockExceptionView(SecuredView):
    """``/admin/stock-exceptions``: the open exceptions, and each one's page to assign stock to it."""

    allowed_roles = STOCK_ROLES

    @expose("/")
    def index(self):
        return self.render(
            "admin/stock_exceptions.html", exceptions=open_exceptions(), modality_label=registry().modality_label
        )

    def _exception(self, exception_id):
        exception = db.session.get(StockException, exception_id)
        if exception is None:
            abort(404)
        return exception

    @expose("/<int:exception_id>", methods=("GET", "POST"))
    @policy_form_view
    def show(self, exception_id):
        exception = self._exception(exception_id)
        form = AssignForm()
        if exception.is_open:
            lots = lots_for(exception, local_today(exception.location))
            form.lot.choices = [(lot.id, lot_label(lot)) for lot in lots]
            if form.lot.data is None and exception.lot_id in {lot.id for lot in lots}:
                form.lot.data = exception.lot_id  # the lot the practitioner said was opened
        if form.validate_on_submit():
            lot = lot_of(exception, form.lot.data)
            try:
                if not exception.is_open:
                    raise StockError(
                        f"This exception was already resolved by {exception.resolved_by or 'someone'}"
                        f" at {when(exception.resolved_at)}; nothing was changed."
                    )
                if lot is None:
                    raise StockError("Choose a lot of this product at this location.")
                resolve(exception, lot=lot, user=current_user._get_current_object())
            except StockError as exc:
                db.session.rollback()
                flash(f"Nothing was changed: {exc}", "error")
                return redirect(url_for(".show", exception_id=exception_id))
            flash(
                f"Stock exception resolved: {exception.quantity.normalize():f} {exception.product.unit} of "
                f"{exception.product.name} taken from lot {lot.lot_number} for the treatment.",
                "success",
            )
            return redirect(url_for(".show", exception_id=exception_id))
        return self.render(
            "admin/stock_exception.html", exception=exception, form=form, modality_label=registry().modality_label
        )
