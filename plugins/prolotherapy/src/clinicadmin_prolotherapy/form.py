"""The prolotherapy part of a treatment record: injection sites, the solution and its dextrose concentration; the
sites and the anaesthetic are asked already when the session is booked, since screening depends on them."""

from decimal import Decimal

from wtforms import BooleanField, DecimalField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from clinicadmin.forms import CheckboxListField, ProductField, at_least_one, finite_number, needed_with

SITES = [
    ("knee", "Knee"),
    ("shoulder", "Shoulder"),
    ("elbow", "Elbow"),
    ("wrist_hand", "Wrist / hand"),
    ("hip", "Hip"),
    ("lower_back", "Lower back / sacroiliac"),
    ("neck", "Neck"),
    ("ankle_foot", "Ankle / foot"),
    ("jaw", "Jaw (TMJ)"),
]
SIDES = [("left", "Left"), ("right", "Right"), ("both", "Both sides"), ("midline", "Midline")]


def _sites():
    return CheckboxListField(
        "Injection sites", choices=SITES, validators=[at_least_one("Choose at least one injection site.")]
    )


def _local_anaesthetic():
    return BooleanField("Local anaesthetic added to the solution")


def booking_fields():
    """What the front desk asks when a session is booked: pregnancy blocks injections at some sites, and an
    anaesthetic allergy blocks only a solution with anaesthetic. The recording form has the same fields, pre-filled."""
    return {"sites": _sites(), "local_anaesthetic": _local_anaesthetic()}


def form_fields():
    return {
        "sites": _sites(),
        "side": SelectField("Side", choices=SIDES),
        "solution_product": ProductField(
            "Solution injected",
            categories=["solution"],
            validators=[InputRequired()],
            description="The dextrose solution; the volume is taken from stock.",
        ),
        "dextrose_percent": DecimalField(
            "Dextrose concentration (%)",
            places=1,
            validators=[
                InputRequired(),
                finite_number,
                NumberRange(
                    min=Decimal("5"), max=Decimal("50"), message="Dextrose concentration must be 5 to 50 percent."
                ),
            ],
        ),
        "volume_ml": DecimalField(
            "Total volume injected (mL)",
            places=1,
            validators=[InputRequired(), finite_number, NumberRange(min=Decimal("0.5"), max=Decimal("60"))],
        ),
        "injections": IntegerField("Number of injections", validators=[InputRequired(), NumberRange(1, 100)]),
        "needle_product": ProductField(
            "Injection needles used", categories=["needle"], validators=[Optional()], allow_blank=True
        ),
        "needles": IntegerField(
            "Number of needles", validators=[needed_with("needle_product", "needles"), Optional(), NumberRange(1, 100)]
        ),
        "local_anaesthetic": _local_anaesthetic(),
    }
