"""Dry needling and trigger-point work (seed 002, in passing): muscles, needles, technique and response; its
contraindications; aftercare; a report of the muscles treated.
"""

from clinicadmin.plugin_api import Consumption, Modality, hookimpl

from .checks import CONDITIONS, SETTINGS, check
from .form import form_fields
from .report import REPORTS

KEY = "dry_needling"
AFTERCARE = [
    "Muscle soreness, like after exercise, for 1 to 2 days is normal.",
    "Keep moving gently and stretch the treated muscles; heat can ease the soreness.",
    "Drink plenty of water today.",
    "Avoid strenuous exercise of the treated muscles for 24 hours.",
    "Small bruises where a needle was can appear and fade within a week.",
    "Contact the clinic if soreness gets worse after 2 days, or for fever, redness or swelling at a needle site.",
]


@hookimpl
def register_modality():
    return Modality(
        key=KEY,
        label="Dry needling",
        description="Fine needles into myofascial trigger points to release muscle tension.",
        default_sessions=4,
        min_interval_setting="dry_needling.min_interval_days",
        duration_minutes=45,
        prep_minutes=5,
        cleanup_minutes=5,
        resources=("treatment_room",),
        areas=(
            ("neck", "Neck"),
            ("shoulders", "Shoulders"),
            ("upper_back", "Upper back"),
            ("lower_back", "Lower back"),
            ("hips", "Hips and buttocks"),
            ("legs", "Legs"),
        ),
        consent_text=(
            "I understand that dry needling places fine sterile single-use needles into muscles; that a brief twitch, "
            "soreness for a day or two and small bruises are common; that fainting and infection are rare, and that a "
            "needle near the chest can, very rarely, puncture a lung. I have disclosed my health history, medications "
            "and any fear of needles, and I can ask to stop at any time."
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
    return [Consumption(details["needle_product"], details["needles"])]


@hookimpl
def aftercare(treatment):
    return AFTERCARE if treatment.modality == KEY else None


@hookimpl
def register_reports():
    return REPORTS


@hookimpl
def demo_data(demo):
    needles = demo.product(
        "DN-030-40",
        "Dry needling needles 0.30 x 40 mm (box of 100)",
        "needle",
        "needle",
        100,
        single_use=True,
        reorder_level=100,
        unit_cost="0.07",
    )
    demo.lot(needles, "DN-2409", 500, 3)
    if demo.has_treatments(KEY):
        return
    for i, client in enumerate(demo.clients[18:21]):
        demo.past_session(
            client,
            KEY,
            {
                "muscles": ["upper_trapezius", "levator_scapulae"] if i % 2 else ["gluteus_medius", "piriformis"],
                "side": "both",
                "needle_product": needles.id,
                "needles": 6,
                "technique": "pistoning",
                "twitch_response": True,
                "soreness_after": 3,
            },
            days_ago=6 + 8 * i,
        )
