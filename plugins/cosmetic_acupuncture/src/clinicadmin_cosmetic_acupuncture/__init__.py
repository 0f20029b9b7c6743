"""Cosmetic (facial) acupuncture: body needling then face needling (seed 000), with fine facial needles (seed 001).

Brings its form (points, tapped on a face and a body chart, needles of each kind, retention, TCM assessment), its
contraindications (WHO 1999 guidelines; waiting periods as settings; the chart marks the points pregnancy forbids),
its consumables (facial and body needles, lot recorded), the points needled kept in its own table (migrated on its own
branch) for the most-used points report, aftercare and demo data.
"""

from pathlib import Path

from clinicadmin.extensions import db
from clinicadmin.plugin_api import Consumption, Modality, hookimpl

from .checks import CONDITIONS, SETTINGS, check, forbidden_points
from .demo import add_demo
from .diagrams import DIAGRAMS
from .form import form_fields
from .models import PointUse
from .points import POINTS
from .report import REPORTS

KEY = "cosmetic_acupuncture"
AFTERCARE = [
    "Slight redness or a small bruise where a needle was is normal and fades within a few days.",
    "Avoid heavy make-up for the rest of the day.",
    "Drink plenty of water today.",
    "Avoid saunas, hot baths and strenuous exercise for the rest of the day.",
    "Results build over a course: keep your next appointments.",
    "If a bruise is painful, swollen or spreading, contact the clinic.",
]


@hookimpl
def register_modality():
    return Modality(
        key=KEY,
        label="Cosmetic acupuncture",
        description="Body acupuncture followed by face needling with fine facial needles; usually a course.",
        default_sessions=10,
        min_interval_setting="cosmetic_acupuncture.min_interval_days",
        duration_minutes=75,
        prep_minutes=5,
        cleanup_minutes=10,
        resources=("treatment_room",),
        diagrams=DIAGRAMS,
        areas=(
            ("forehead", "Forehead"),
            ("eyes", "Around the eyes"),
            ("cheeks", "Cheeks"),
            ("mouth", "Around the mouth"),
            ("jawline", "Jawline and chin"),
            ("neck", "Neck"),
        ),
        consent_text=(
            "I understand that cosmetic acupuncture places fine sterile single-use needles in the body and face; that "
            "slight bleeding, bruising or soreness where a needle was are common and pass; that fainting, infection "
            "and a needle breaking are rare; and that results come over a course of sessions and are not "
            "guaranteed. I have disclosed my health history, medications, pregnancy and recent cosmetic procedures."
        ),
    )


@hookimpl
def register_conditions():
    return CONDITIONS


@hookimpl
def register_settings():
    return SETTINGS


@hookimpl
def treatment_form_fields(modality):
    return form_fields() if modality == KEY else None


@hookimpl
def check_contraindications(treatment, history, settings):
    return check(treatment, history, settings) if treatment.modality == KEY else None


@hookimpl
def diagram_marks(treatment, history, settings):
    if treatment.modality != KEY:
        return None
    return {point.code: why for point, why in forbidden_points(history, settings)}


@hookimpl
def consumables(treatment):
    if treatment.modality != KEY:
        return None
    details = treatment.details or {}
    return [
        Consumption(details[product], details[count])
        for product, count in (("facial_needle_product", "facial_needles"), ("body_needle_product", "body_needles"))
        if details.get(product) and details.get(count)
    ]


@hookimpl
def treatment_recorded(treatment):
    if treatment.modality != KEY:
        return
    details = treatment.details or {}
    for code in [*(details.get("face_points") or []), *(details.get("body_points") or [])]:
        db.session.add(
            PointUse(
                treatment_id=treatment.id,
                point=code,
                region=POINTS[code].region,
                performed_at=treatment.performed_at,
                client_id=treatment.client_id,
                location_id=treatment.location_id,
                practitioner_id=treatment.practitioner_id,
            )
        )


@hookimpl
def aftercare(treatment):
    return AFTERCARE if treatment.modality == KEY else None


@hookimpl
def register_reports():
    return REPORTS


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"


@hookimpl
def demo_data(demo):
    add_demo(demo, KEY)
