"""The cosmetic acupuncture part of a treatment record: points, needles of each kind, retention, assessment."""

from wtforms import IntegerField, SelectField, StringField, ValidationError
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation

from clinicadmin.forms import CheckboxListField, ProductField, needed_with

from .points import BODY, FACE, choices

PATTERNS = [
    ("", "Not assessed"),
    ("qi_deficiency", "Qi deficiency"),
    ("blood_deficiency", "Blood deficiency"),
    ("yin_deficiency", "Yin deficiency"),
    ("yang_deficiency", "Yang deficiency"),
    ("liver_qi_stagnation", "Liver Qi stagnation"),
    ("blood_stasis", "Blood stasis"),
    ("spleen_qi_deficiency", "Spleen Qi deficiency"),
    ("kidney_yin_deficiency", "Kidney Yin deficiency"),
    ("damp_heat", "Damp-heat"),
    ("phlegm_damp", "Phlegm-damp"),
    ("other", "Other (see notes)"),
]
CONCERNS = [
    ("fine_lines", "Fine lines"),
    ("deep_wrinkles", "Deep wrinkles"),
    ("sagging", "Sagging / loss of tone"),
    ("dullness", "Dull complexion"),
    ("pigmentation", "Uneven tone / pigmentation"),
    ("puffiness", "Puffiness"),
    ("acne_scars", "Acne scars"),
    ("dryness", "Dryness"),
]
BRUISING = [("none", "None"), ("minor", "Minor bruising"), ("marked", "Marked bruising")]


def _one_needle_per_point(points_field):
    """At least as many needles as points chosen (bilateral points take two)."""

    def check(form, field):
        points = form[points_field].data or []
        if field.data is not None and field.data < len(points):
            raise ValidationError(f"{len(points)} points were needled, so at least {len(points)} needles were used.")

    return check


def _needles_for(points_field, kind):
    """The needle product is required when points of its kind were needled (before ``Optional()``)."""

    def check(form, field):
        if form[points_field].data and field.data is None:
            raise StopValidation(f"Choose the {kind} needles used.")

    return check


def _some_points(form, field):
    if not (form["face_points"].data or form["body_points"].data):
        raise ValidationError("Choose the points needled.")


def form_fields():
    return {
        "face_points": CheckboxListField("Face points", choices=choices(FACE), validators=[_some_points]),
        "body_points": CheckboxListField("Body points", choices=choices(BODY)),
        "facial_needle_product": ProductField(
            "Facial needles used",
            categories=["needle"],
            validators=[_needles_for("face_points", "facial"), Optional()],
            allow_blank=True,
            description="Single use: the count is taken from stock, and the lot is recorded on the treatment.",
        ),
        "facial_needles": IntegerField(
            "Number of facial needles",
            validators=[
                needed_with("facial_needle_product", "facial needles"),
                Optional(),
                NumberRange(min=1, max=200),
                _one_needle_per_point("face_points"),
            ],
        ),
        "body_needle_product": ProductField(
            "Body needles used",
            categories=["needle"],
            validators=[_needles_for("body_points", "body"), Optional()],
            allow_blank=True,
        ),
        "body_needles": IntegerField(
            "Number of body needles",
            validators=[
                needed_with("body_needle_product", "body needles"),
                Optional(),
                NumberRange(min=1, max=200),
                _one_needle_per_point("body_points"),
            ],
        ),
        "retention_minutes": IntegerField(
            "Retention (minutes)", validators=[InputRequired(), NumberRange(min=1, max=90)]
        ),
        "pattern": SelectField("TCM pattern", choices=PATTERNS, default=""),
        "tongue": StringField("Tongue", validators=[Optional(), Length(max=200)]),
        "pulse": StringField("Pulse", validators=[Optional(), Length(max=200)]),
        "concerns": CheckboxListField("Skin concerns", choices=CONCERNS),
        "bruising": SelectField("Bruising after removal", choices=BRUISING, default="none"),
    }
