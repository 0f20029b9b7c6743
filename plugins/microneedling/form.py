"""The microneedling part of a treatment record."""
from decimal import Decimal

from wtforms import DecimalField, IntegerField, SelectField, SelectMultipleField, StringField, ValidationError, widgets
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation

from clinicadmin.forms import ProductField

DEVICES = [("pen", "Microneedling pen (cartridge)"), ("roller", "Derma roller"), ("mesoscooter", "Mesoscooter")]
AREAS = [("face", "Face"), ("neck", "Neck"), ("decolletage", "Decolletage"), ("abdomen", "Abdomen"),
         ("thighs", "Thighs")]
REACTIONS = [("none", "None"), ("mild_erythema", "Mild erythema"), ("marked_erythema", "Marked erythema"),
             ("pinpoint_bleeding", "Pinpoint bleeding"), ("other", "Other (see notes)")]
DEPTH_MIN, DEPTH_MAX = Decimal("0.25"), Decimal("2.5")


def _finite(form, field):
    if field.data is not None and not field.data.is_finite():
        raise ValidationError("Enter a number.")


def _at_least_one(form, field):
    if not field.data:
        raise ValidationError("Choose at least one area.")


def _needs(product_field, label):
    """The amount is required with its product and refused without one. Put it before ``Optional()``, which would
    otherwise end the chain on an empty amount before this check runs."""
    def check(form, field):
        product = form[product_field].data
        if product is not None and field.data is None:
            raise StopValidation(f"Give the amount of {label} used.")
        if product is None and field.data is not None:
            raise StopValidation(f"Choose the {label} product, or leave the amount empty.")
    return check


def form_fields():
    return {
        "device": SelectField("Device", choices=DEVICES, validators=[InputRequired()]),
        "needle_product": ProductField(
            "Cartridge or roller used", categories=["cartridge", "roller"], validators=[InputRequired()],
            description="Single use: one is taken from stock, and its lot is recorded on the treatment.",
        ),
        "needle_depth_mm": DecimalField(
            "Needle depth (mm)", places=2,
            validators=[InputRequired(), _finite, NumberRange(min=DEPTH_MIN, max=DEPTH_MAX,
                                                              message="Needle depth must be 0.25 to 2.5 mm.")],
        ),
        "areas": SelectMultipleField("Areas treated", choices=AREAS, validators=[_at_least_one],
                                     option_widget=widgets.CheckboxInput(),
                                     widget=widgets.ListWidget(prefix_label=False)),
        "passes": IntegerField("Passes", validators=[InputRequired(), NumberRange(min=1, max=10)]),
        "serum_product": ProductField("Serum applied", categories=["serum"], validators=[Optional()],
                                      allow_blank=True),
        "serum_ml": DecimalField("Serum used (mL)", places=2,
                                 validators=[_needs("serum_product", "serum"), Optional(), _finite,
                                             NumberRange(min=Decimal("0.05"), max=30)]),
        "anesthetic_product": ProductField("Numbing gel", categories=["gel"], validators=[Optional()],
                                           allow_blank=True),
        "anesthetic_amount": DecimalField("Numbing gel used (g or mL)", places=2,
                                          validators=[_needs("anesthetic_product", "numbing gel"), Optional(),
                                                      _finite, NumberRange(min=Decimal("0.05"), max=30)]),
        "skin_reaction": SelectField("Skin reaction", choices=REACTIONS, default="none"),
        "reaction_notes": StringField("Reaction notes", validators=[Optional(), Length(max=500)]),
    }
