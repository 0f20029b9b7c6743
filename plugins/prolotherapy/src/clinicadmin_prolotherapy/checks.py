"""Prolotherapy contraindications (seed 002; regenerative injection literature). All of them are data."""

from clinicadmin.plugin_api import ConditionCode, Finding, SettingSpec
from clinicadmin.rules import WaitingRule, block, evaluate, waiting_settings, warn

PREFIX = "prolotherapy"

CONDITIONS = [
    ConditionCode("joint_infection", "Joint infection (septic arthritis)", "condition"),
    ConditionCode("unexplained_swelling", "Unexplained swelling at the site to treat", "condition"),
    ConditionCode(
        "fracture",
        "Fracture",
        "condition",
        dated=True,
        help="A fracture lasts until it has healed: give that date in Ended on; the wait counts from it.",
    ),
]

RULES = [
    block("bleeding_disorder", "Bleeding disorder: no injections."),
    block("acute_infection", "Acute infection or illness: postpone the injections."),
    block("joint_infection", "Joint infection: never inject an infected joint."),
    block("unexplained_swelling", "Unexplained swelling: have it diagnosed before injecting."),
    WaitingRule("fracture", "prolotherapy.wait_after_fracture_days", 90, "block", "Fracture", "condition"),
    warn(
        "anticoagulants",
        "Anticoagulant medication: it must be paused before the injections, as the prescriber "
        "agrees; record that it was.",
    ),
    warn("diabetes", "Diabetes: dextrose injections can raise blood glucose; check it after the session."),
]

SETTINGS = [
    SettingSpec(
        "prolotherapy.min_interval_days",
        "Prolotherapy: minimum days between sessions",
        21,
        help="A course is usually 3 to 6 sessions, 3 to 6 weeks apart.",
        minimum=0,
        maximum=365,
    ),
    *waiting_settings("Prolotherapy", RULES),
]


#: injection sites at the lower back and pelvis, where pregnancy blocks the injections
PELVIC_SITES = {"lower_back": "lower back / sacroiliac", "hip": "hip"}


def check(treatment, history, settings):
    """The rules above, and two that read what was asked at booking (``sites``, ``local_anaesthetic``)."""
    findings = evaluate(PREFIX, RULES, history, settings)
    details = treatment.details or {}
    if history.active("pregnancy"):
        pelvic = [PELVIC_SITES[site] for site in details.get("sites") or () if site in PELVIC_SITES]
        if pelvic:
            findings.append(
                Finding(
                    f"{PREFIX}.pregnancy",
                    "block",
                    f"Pregnancy: no injections at the lower back or pelvis ({', '.join(pelvic)}).",
                )
            )
        else:
            findings.append(
                Finding(
                    f"{PREFIX}.pregnancy",
                    "warn",
                    "Pregnancy: discuss with the client's physician; avoid the lower back and pelvis.",
                )
            )
    if history.active("allergy_anesthetic"):
        if details.get("local_anaesthetic"):
            findings.append(
                Finding(
                    f"{PREFIX}.allergy_anesthetic",
                    "block",
                    "Allergy to local anaesthetic, and anaesthetic is to be added to the solution.",
                )
            )
        else:
            findings.append(
                Finding(
                    f"{PREFIX}.allergy_anesthetic",
                    "warn",
                    "Allergy to local anaesthetic: inject the solution without it.",
                )
            )
    return findings
