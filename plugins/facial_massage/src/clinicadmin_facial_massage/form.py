"""The facial massage part of a treatment record: techniques, areas, duration, pressure and the product used."""

from decimal import Decimal

from wtforms import DecimalField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from clinicadmin.forms import CheckboxListField, ProductField, at_least_one, finite_number, needed_with

TECHNIQUES = [
    ("lymphatic_drainage", "Lymphatic drainage"),
    ("sinus_pressure_points", "Sinus pressure points"),
    ("sculpting", "Sculpting / muscle contouring"),
]
AREAS = [
    ("face", "Face"),
    ("neck", "Neck"),
    ("shoulders", "Shoulders"),
    ("head", "Head"),
    ("arms", "Arms"),
    ("hands", "Hands"),
]
PRESSURES = [("light", "Light"), ("medium", "Medium"), ("firm", "Firm")]


def form_fields():
    return {
        "techniques": CheckboxListField(
            "Techniques", choices=TECHNIQUES, validators=[at_least_one("Choose at least one technique.")]
        ),
        "areas": CheckboxListField("Areas", choices=AREAS, validators=[at_least_one("Choose at least one area.")]),
        "duration_minutes": IntegerField("Duration (minutes)", validators=[InputRequired(), NumberRange(5, 180)]),
        "pressure": SelectField("Pressure", choices=PRESSURES, default="light"),
        "product": ProductField(
            "Oil, serum or cream used", categories=["oil", "serum", "cream"], validators=[Optional()], allow_blank=True
        ),
        "product_ml": DecimalField(
            "Amount used (mL)",
            places=1,
            validators=[
                needed_with("product", "oil, serum or cream"),
                Optional(),
                finite_number,
                NumberRange(min=Decimal("0.5"), max=50),
            ],
        ),
    }
