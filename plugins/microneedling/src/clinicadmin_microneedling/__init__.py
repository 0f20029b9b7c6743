"""Microneedling (collagen induction therapy): form, contraindications, consumables, aftercare, report, demo data.

Sources: shared/domain/MODALITIES.md (seeds 002 and 004, plus clinical sources). Waiting periods are settings.
"""

from clinicadmin.plugin_api import Consumption, Modality, ProductCategory, ResourceKind, hookimpl

from .checks import CLIENT_FIELDS, CONDITIONS, NO_ACTIVES_DAYS, SETTINGS, check
from .demo import add_demo
from .diagram import DIAGRAM
from .form import form_fields
from .report import REPORTS

KEY = "microneedling"
AFTERCARE = [
    "Expect redness like a mild sunburn for 1 to 3 days; this is normal.",
    "No make-up for at least 1 day after the session.",
    "No bath-house or sauna for 5 to 6 days, and no hot baths for 2 to 3 days.",
    "Avoid sunbathing and direct sun while the skin heals; protect it with a broad-spectrum sunscreen "
    "(SPF 30 or more).",
    "No other facial cosmetic procedures until the skin has fully healed.",
    "No alcohol-based cosmetics for 2 weeks.",
    "Keep the skin clean and moisturised with the products your practitioner recommended; do not pick or scrub.",
]


@hookimpl
def register_modality():
    return Modality(
        key=KEY,
        label="Microneedling",
        description="Collagen induction with a pen, roller or mesoscooter; 3 to 5 sessions.",
        default_sessions=4,
        min_interval_setting="microneedling.min_interval_days",
        duration_minutes=60,
        prep_minutes=10,
        cleanup_minutes=15,
        resources=("treatment_room", "microneedling_pen"),
        diagrams=(DIAGRAM,),
        areas=(
            ("forehead", "Forehead"),
            ("cheeks", "Cheeks"),
            ("scars", "Scarred area"),
            ("neck", "Neck"),
            ("decolletage", "Décolletage"),
        ),
        consent_text=(
            "I understand that microneedling makes many small punctures in the skin to stimulate collagen, that "
            "redness and slight swelling for a few days are expected, and that infection, pigment change or "
            "scarring are rare risks. I have disclosed my health history, medications and recent procedures."
        ),
    )


@hookimpl
def register_resource_kinds():
    return [
        ResourceKind(
            "microneedling_pen",
            "Microneedling pen",
            "An automated pen; cleaned and reassembled with a new cartridge between clients.",
        )
    ]


@hookimpl
def register_product_categories():
    return [
        ProductCategory("cartridge", "Microneedling cartridges", "Single-use needle cartridges for the pen."),
        ProductCategory("roller", "Derma rollers", "Single-use rollers and mesoscooters."),
    ]


@hookimpl
def register_client_fields():
    return CLIENT_FIELDS


@hookimpl
def register_conditions():
    return CONDITIONS


@hookimpl
def register_settings():
    return SETTINGS


@hookimpl
def treatment_form_fields(modality):
    if modality == KEY:
        return form_fields()
    return None


@hookimpl
def check_contraindications(treatment, history, settings):
    if treatment.modality != KEY:
        return None
    return check(treatment, history, settings)


@hookimpl
def consumables(treatment):
    if treatment.modality != KEY:
        return None
    details = treatment.details or {}
    items = [Consumption(details["needle_product"], 1)]
    if details.get("serum_product") and details.get("serum_ml"):
        items.append(Consumption(details["serum_product"], details["serum_ml"]))
    if details.get("anesthetic_product") and details.get("anesthetic_amount"):
        items.append(Consumption(details["anesthetic_product"], details["anesthetic_amount"]))
    return items


@hookimpl
def aftercare(treatment, settings):
    if treatment.modality != KEY:
        return None
    days = settings[NO_ACTIVES_DAYS]
    return [
        *AFTERCARE,
        f"No retinoids, acids (AHA, BHA) or vitamin C serums on the treated skin for {days} "
        f"day{'s' if days != 1 else ''}.",
    ]


@hookimpl
def register_reports():
    return REPORTS


@hookimpl
def demo_data(demo):
    add_demo(demo, KEY)
