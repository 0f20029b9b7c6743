"""The dry needling part of a treatment record: muscles, side, needles, technique and the response."""

from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from clinicadmin.forms import CheckboxListField, ProductField, at_least_one

from .muscles import MUSCLES

SIDES = [("left", "Left"), ("right", "Right"), ("both", "Both sides")]
TECHNIQUES = [("pistoning", "In and out (pistoning)"), ("static", "Static (left in place)")]


def form_fields():
    return {
        "muscles": CheckboxListField(
            "Muscles treated", choices=MUSCLES, validators=[at_least_one("Choose at least one muscle.")]
        ),
        "side": SelectField("Side", choices=SIDES),
        "needle_product": ProductField(
            "Needles used",
            categories=["needle"],
            validators=[InputRequired()],
            description="Single use: the count is taken from stock.",
        ),
        "needles": IntegerField("Number of needles", validators=[InputRequired(), NumberRange(1, 100)]),
        "technique": SelectField("Technique", choices=TECHNIQUES),
        "twitch_response": BooleanField("Local twitch response obtained"),
        "soreness_after": IntegerField("Soreness after (0 to 10)", validators=[Optional(), NumberRange(0, 10)]),
    }
