"""Prolotherapy (seed 002): injections of an irritant such as dextrose to stimulate collagen, in a course of 3 to 6
sessions 3 to 6 weeks apart. Only practitioners qualified for injections perform it.
"""

from clinicadmin.plugin_api import Consumption, Modality, Qualification, hookimpl

from .checks import CONDITIONS, SETTINGS, check
from .form import booking_fields, form_fields
from .report import REPORTS

KEY = "prolotherapy"
AFTERCARE = [
    "Soreness, stiffness and some swelling at the injection sites for 2 to 3 days are expected: the treatment works "
    "through a healing reaction.",
    "Do not take anti-inflammatory medicines (NSAIDs such as ibuprofen, naproxen or aspirin for pain) during the "
    "course: they blunt the healing reaction. Ask your practitioner what you may take for pain.",
    "No heavy activity or strenuous exercise for 3 days; gentle movement and walking are fine.",
    "Keep the injection sites clean and dry today.",
    "Contact the clinic at once for fever, or increasing redness, heat or pain at an injection site.",
]


@hookimpl
def register_qualifications():
    return [
        Qualification(
            "injections",
            "Injections (licensed injector)",
            "Licensed to give injections (physician, nurse, or as local rules allow).",
        )
    ]


@hookimpl
def register_modality():
    return Modality(
        key=KEY,
        label="Prolotherapy",
        description="Dextrose injections to stimulate collagen and strengthen tissue; a course of 3 to 6 sessions.",
        default_sessions=4,
        min_interval_setting="prolotherapy.min_interval_days",
        requires=("injections",),
        duration_minutes=30,
        prep_minutes=10,
        cleanup_minutes=10,
        resources=("treatment_room",),
        areas=(
            ("knee", "Knee"),
            ("shoulder", "Shoulder"),
            ("elbow", "Elbow"),
            ("lower_back", "Lower back"),
            ("hip", "Hip"),
            ("ankle", "Ankle"),
        ),
        consent_text=(
            "I understand that prolotherapy injects a dextrose solution to cause a controlled healing reaction; that "
            "pain, stiffness and swelling for a few days are expected; that bruising, infection, nerve irritation and "
            "allergic reaction are possible; that several sessions are usually needed; and that I should not take "
            "anti-inflammatory medicines during the course. I have disclosed my medications, including blood thinners."
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
def booking_form_fields(modality):
    return booking_fields() if modality == KEY else None


@hookimpl
def check_contraindications(treatment, history, settings):
    return check(treatment, history, settings) if treatment.modality == KEY else None


@hookimpl
def consumables(treatment):
    if treatment.modality != KEY:
        return None
    details = treatment.details or {}
    used = [Consumption(details["solution_product"], details["volume_ml"])]
    if details.get("needle_product") and details.get("needles"):
        used.append(Consumption(details["needle_product"], details["needles"]))
    return used


@hookimpl
def aftercare(treatment):
    return AFTERCARE if treatment.modality == KEY else None


@hookimpl
def register_reports():
    return REPORTS


@hookimpl
def demo_data(demo):
    dextrose = demo.product(
        "PRO-DEX-50", "Dextrose 50% solution 50 mL vial", "solution", "mL", 50, reorder_level=100, unit_cost="0.20"
    )
    demo.lot(dextrose, "DX-2406", 240, 4)
    needles = demo.product(
        "INJ-27G",
        "Injection needles 27G (box of 100)",
        "needle",
        "needle",
        100,
        single_use=True,
        reorder_level=100,
        unit_cost="0.05",
    )
    demo.lot(needles, "N27-2408", 500, 2)
    if demo.has_treatments(KEY):
        return
    for i, client in enumerate(demo.clients[10:12]):
        demo.past_session(
            client,
            KEY,
            {
                "sites": ["knee"] if i else ["shoulder", "neck"],
                "side": "right",
                "solution_product": dextrose.id,
                "dextrose_percent": "15.0",
                "volume_ml": "8.0",
                "injections": 8,
                "needle_product": needles.id,
                "needles": 2,
                "local_anaesthetic": True,
            },
            days_ago=25 + 3 * i,
        )
