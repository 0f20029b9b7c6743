"""Dry needling / trigger-point contraindications (seed 002 in passing; physiotherapy dry-needling guidelines).

All data, save lymphoedema: it blocks needling the affected limb, so at recording it blocks only when a muscle of a
limb was needled (at booking, with no muscles chosen yet, it blocks: fail closed).
"""

from clinicadmin.plugin_api import ConditionCode, Finding, SettingSpec
from clinicadmin.rules import block, evaluate, warn

from .muscles import LIMB_MUSCLES

PREFIX = "dry_needling"

CONDITIONS = [
    ConditionCode("needle_phobia", "Needle phobia", "condition"),
    ConditionCode("unable_to_consent", "Unable to give informed consent", "state"),
    ConditionCode("lymphoedema", "Lymphoedema", "condition"),
    ConditionCode("local_infection_area", "Infection in the area to treat", "condition"),
]

RULES = [
    block("needle_phobia", "Needle phobia: do not needle."),
    block("unable_to_consent", "The client cannot give informed consent: do not needle."),
    block("local_infection_area", "Infection in the area: do not needle through it."),
    block("cancer", "Malignancy: do not needle in or near it."),
    block("bleeding_disorder", "Severe bleeding disorder: do not needle."),
    warn("anticoagulants", "Bleeding tendency (anticoagulants): use fewer needles and press longer."),
    warn("immunosuppression", "Immune compromise: higher infection risk; strict asepsis."),
    warn("diabetes", "Diabetes: slower healing, and reduced sensation in the limbs."),
    warn("pregnancy", "Pregnancy: avoid the abdomen and lower back, and strong stimulation."),
    warn("epilepsy", "Epilepsy: never leave the client alone with needles in."),
]

SETTINGS = [
    SettingSpec(
        "dry_needling.min_interval_days",
        "Dry needling: minimum days between sessions",
        3,
        help="Post-needling soreness lasts 1 to 2 days; many clinics wait at least 3.",
        minimum=0,
        maximum=365,
    )
]


def _lymphoedema(treatment, history):
    if not history.active("lymphoedema"):
        return []
    muscles = (treatment.details or {}).get("muscles")
    if muscles is None or any(m in LIMB_MUSCLES for m in muscles):
        return [Finding(f"{PREFIX}.lymphoedema", "block", "Lymphoedema: do not needle the affected limb.")]
    return []


def check(treatment, history, settings):
    return evaluate(PREFIX, RULES, history, settings) + _lymphoedema(treatment, history)
