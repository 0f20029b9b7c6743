"""Facial massage and lymphatic drainage (seed 003): techniques, areas, duration and the product used; its
contraindications (a filler within 7 days blocks, a setting); aftercare; a report by technique.
"""

from clinicadmin.plugin_api import Consumption, Modality, hookimpl

from .checks import CONDITIONS, SETTINGS, check
from .diagram import DIAGRAM
from .form import form_fields
from .report import REPORTS

KEY = "facial_massage"
AFTERCARE = [
    "Some redness right after the massage is normal and fades within an hour.",
    "Drink plenty of water today.",
    "After lymphatic drainage you may need the toilet more often for a few hours.",
    "Keep make-up light for the rest of the day so the skin can breathe.",
    "If you have had dermal filler, do not press or massage the treated area yourself until your injector allows it.",
]


@hookimpl
def register_modality():
    return Modality(
        key=KEY,
        label="Facial massage",
        description="Lymphatic drainage, sinus pressure points and sculpting of face, neck, shoulders, head, arms "
        "and hands.",
        default_sessions=6,
        min_interval_setting="facial_massage.min_interval_days",
        duration_minutes=60,
        prep_minutes=5,
        cleanup_minutes=10,
        resources=("treatment_room",),
        diagrams=(DIAGRAM,),
        areas=(
            ("forehead", "Forehead"),
            ("eyes", "Around the eyes"),
            ("cheeks", "Cheeks"),
            ("mouth", "Around the mouth"),
            ("jawline", "Jawline and chin"),
            ("neck", "Neck"),
        ),
        consent_text=(
            "I understand that facial massage and lymphatic drainage work the skin and muscles of the face and neck "
            "by hand; that brief redness is common; and that I must tell the practitioner about fillers, botulinum "
            "toxin, thyroid or heart conditions, thrombosis, infections and pregnancy. I can ask to stop at any time."
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
def consumables(treatment):
    if treatment.modality != KEY:
        return None
    details = treatment.details or {}
    if details.get("product") and details.get("product_ml"):
        return [Consumption(details["product"], details["product_ml"])]
    return []


@hookimpl
def aftercare(treatment):
    return AFTERCARE if treatment.modality == KEY else None


@hookimpl
def register_reports():
    return REPORTS


@hookimpl
def demo_data(demo):
    oil = demo.product("FM-OIL-100", "Facial massage oil 100 mL", "oil", "mL", 100, reorder_level=100, unit_cost="0.15")
    demo.lot(oil, "OIL-2409", 300, 3)
    if demo.has_treatments(KEY):
        return
    for i, client in enumerate(demo.clients[5:10]):
        demo.past_session(
            client,
            KEY,
            {
                "techniques": ["lymphatic_drainage", "sinus_pressure_points"] if i % 2 else ["sculpting"],
                "areas": ["face", "neck", "shoulders"],
                "duration_minutes": 45,
                "pressure": "light",
                "product": oil.id,
                "product_ml": "3.0",
            },
            days_ago=2 + 9 * i,
        )
