"""Validation shared by the admin forms; each raises ``wtforms.ValidationError`` with a message for the user."""

from decimal import Decimal

from wtforms import ValidationError

from ..clock import local_today

MAX_QUANTITY = Decimal("1000000")


def not_in_future(form, field):
    if field.data and field.data > local_today():
        raise ValidationError("This date cannot be in the future.")


def finite_quantity(minimum=Decimal("0"), inclusive=True):
    def check(form, field):
        value = field.data
        if value is None:
            return
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValidationError("Enter a number.")
        if value < minimum or (value == minimum and not inclusive):
            raise ValidationError(f"Must be {'at least' if inclusive else 'more than'} {minimum}.")
        if value > MAX_QUANTITY:
            raise ValidationError(f"Must be at most {MAX_QUANTITY}.")
        if value != value.quantize(Decimal("0.001")):
            raise ValidationError("At most three decimal places.")

    return check


def date_order(earlier, later, message):
    """A form-level check: ``later`` is not before ``earlier`` (both optional)."""

    def check(form, field):
        first, second = getattr(form, earlier).data, getattr(form, later).data
        if first and second and second < first:
            raise ValidationError(message)

    return check


def whole_if_counted(form, field):
    """A quantity of a product counted in whole units (the form's ``whole_units``) is a whole number."""
    if form.whole_units.data and field.data is not None and field.data != field.data.to_integral_value():
        raise ValidationError("This product is counted in whole units: enter a whole number.")
