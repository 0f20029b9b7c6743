"""The microneedling part of a treatment record."""

from decimal import Decimal

from wtforms import DecimalField, IntegerField, SelectField, StringField, ValidationError
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from clinicadmin.forms import CheckboxListField, ProductField, at_least_one, finite_number, needed_with

DEVICES = [("pen", "Microneedling pen (cartridge)"), ("roller", "Derma roller"), ("mesoscooter", "Mesoscooter")]
AREAS = [
    ("face", "Face"),
    ("neck", "Neck"),
    ("decolletage", "Decolletage"),
    ("abdomen", "Abdomen"),
    ("thighs", "Thighs"),
]
REACTIONS = [
    ("none", "None"),
    ("mild_erythema", "Mild erythema"),
    ("marked_erythema", "Marked erythema"),
    ("pinpoint_bleeding", "Pinpoint bleeding"),
    ("other", "Other (see notes)"),
]
DEPTH_MIN, DEPTH_MAX = Decimal("0.25"), Decimal("2.5")
#: the product category each device uses up: a pen takes a cartridge, a roller or mesoscooter head is a roller
DEVICE_CATEGORY = {"pen": "cartridge", "roller": "roller", "mesoscooter": "roller"}


def _fits_device(form, field):
    wanted = DEVICE_CATEGORY.get(form["device"].data)
    if field.data is not None and wanted and field.data.category != wanted:
        raise ValidationError(f"A {form['device'].data} uses a {wanted}; {field.data.name} is a {field.data.category}.")


def form_fields():
    return {
        "device": SelectField("Device", choices=DEVICES, validators=[InputRequired()]),
        "needle_product": ProductField(
            "Cartridge or roller used",
            categories=["cartridge", "roller"],
            validators=[InputRequired(), _fits_device],
            description="Single use: one is taken from stock, and its lot is recorded on the treatment.",
        ),
        "needle_depth_mm": DecimalField(
            "Needle depth (mm)",
            places=2,
            validators=[
                InputRequired(),
                finite_number,
                NumberRange(min=DEPTH_MIN, max=DEPTH_MAX, message="Needle depth must be 0.25 to 2.5 mm."),
            ],
        ),
        "areas": CheckboxListField(
            "Areas treated", choices=AREAS, validators=[at_least_one("Choose at least one area.")]
        ),
        "passes": IntegerField("Passes", validators=[InputRequired(), NumberRange(min=1, max=10)]),
        "serum_product": ProductField("Serum applied", categories=["serum"], validators=[Optional()], allow_blank=True),
        "serum_ml": DecimalField(
            "Serum used (mL)",
            places=2,
            validators=[
                needed_with("serum_product", "serum"),
                Optional(),
                finite_number,
                NumberRange(min=Decimal("0.05"), max=30),
            ],
        ),
        "anesthetic_product": ProductField(
            "Numbing gel", categories=["gel"], validators=[Optional()], allow_blank=True
        ),
        "anesthetic_amount": DecimalField(
            "Numbing gel used (g or mL)",
            places=2,
            validators=[
                needed_with("anesthetic_product", "numbing gel"),
                Optional(),
                finite_number,
                NumberRange(min=Decimal("0.05"), max=30),
            ],
        ),
        "skin_reaction": SelectField("Skin reaction", choices=REACTIONS, default="none"),
        "reaction_notes": StringField("Reaction notes", validators=[Optional(), Length(max=500)]),
    }
