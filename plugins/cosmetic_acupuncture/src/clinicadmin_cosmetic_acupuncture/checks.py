"""Cosmetic acupuncture contraindications (WHO 1999 acupuncture safety guidelines; practitioners' lists).

Most are data. Pregnancy warns at booking; at recording, the points chosen decide: a point forbidden in pregnancy
blocks, and a lower-abdomen or lumbosacral point blocks in the first trimester (a pregnancy without a date counts
as first trimester: screening fails closed).
"""

from clinicadmin.plugin_api import ConditionCode, Finding, SettingSpec
from clinicadmin.rules import WaitingRule, block, evaluate, waiting_settings, warn

from .points import POINTS

PREFIX = "cosmetic_acupuncture"
FIRST_TRIMESTER_SETTING = "cosmetic_acupuncture.first_trimester_days"

CONDITIONS = [ConditionCode("migraine", "Migraine", "condition")]

RULES = [
    block("bleeding_disorder", "Bleeding disorder (e.g. haemophilia): do not needle."),
    block("cancer", "Malignant tumour: do not needle in or near the tumour area."),
    block("acute_infection", "Acute illness (fever, flu) or a medical emergency: postpone the session."),
    block("herpes_active", "Active herpes outbreak: do not needle the face until it has healed."),
    block("skin_infection_face", "Active skin infection on the face: do not needle the face."),
    warn(
        "pregnancy",
        "Pregnancy: points that pregnancy forbids must not be used; lower abdomen and lumbosacral "
        "points are forbidden in the first trimester.",
    ),
    warn("anticoagulants", "Anticoagulant medication: expect bruising; use gentle technique and press longer."),
    warn("hypertension_uncontrolled", "Uncontrolled hypertension: check blood pressure before needling."),
    warn("epilepsy", "Seizures / epilepsy: never leave the client alone with needles in."),
    warn("diabetes", "Diabetes: slower healing and higher infection risk; take care with skin preparation."),
    warn("migraine", "Migraine: avoid strong stimulation; stop if a migraine starts."),
    WaitingRule(
        "botulinum_toxin",
        "cosmetic_acupuncture.wait_after_botulinum_toxin_days",
        90,
        "warn",
        "Botulinum toxin injection",
    ),
    WaitingRule("dermal_filler", "cosmetic_acupuncture.wait_after_dermal_filler_days", 90, "warn", "Dermal filler"),
    WaitingRule(
        "chemical_peel",
        "cosmetic_acupuncture.wait_after_chemical_peel_days",
        30,
        "warn",
        "Chemical peel / microdermabrasion",
    ),
    WaitingRule(
        "laser_treatment", "cosmetic_acupuncture.wait_after_laser_treatment_days", 30, "warn", "Laser treatment"
    ),
    WaitingRule("facelift", "cosmetic_acupuncture.wait_after_facelift_days", 180, "warn", "Facelift"),
]

SETTINGS = [
    SettingSpec(
        "cosmetic_acupuncture.min_interval_days",
        "Cosmetic acupuncture: minimum days between sessions",
        7,
        help="Many practitioners treat once or twice a week.",
        minimum=0,
        maximum=365,
    ),
    SettingSpec(
        FIRST_TRIMESTER_SETTING,
        "Cosmetic acupuncture: first trimester lasts (days since pregnancy began)",
        91,
        minimum=1,
        maximum=140,
    ),
    *waiting_settings("Cosmetic acupuncture", RULES),
]


def forbidden_points(history, settings):
    """[(point, why)] of the points pregnancy forbids for this client now: the forbidden ones in any pregnancy, and
    the lower-abdomen and lumbosacral ones in the first trimester. What screening blocks and the chart marks."""
    if not history.active("pregnancy"):
        return []
    days = history.days_since_start("pregnancy")
    early = days is not None and days < settings[FIRST_TRIMESTER_SETTING]
    found = []
    for point in POINTS.values():
        if point.pregnancy == "forbidden":
            found.append((point, "forbidden in pregnancy"))
        elif point.pregnancy == "first_trimester" and early:
            found.append((point, "forbidden in the first trimester of pregnancy"))
    return found


def _pregnancy_findings(treatment, history, settings):
    details = treatment.details or {}
    codes = {*(details.get("face_points") or []), *(details.get("body_points") or [])}
    forbidden = [(p, why) for p, why in forbidden_points(history, settings) if p.code in codes]
    findings = []
    anytime = [p.label for p, _ in forbidden if p.pregnancy == "forbidden"]
    if anytime:
        findings.append(
            Finding(
                f"{PREFIX}.pregnancy_forbidden_points",
                "block",
                f"Pregnancy: {', '.join(anytime)} must not be needled in pregnancy.",
            )
        )
    early = [p.label for p, _ in forbidden if p.pregnancy == "first_trimester"]
    if early:
        findings.append(
            Finding(
                f"{PREFIX}.pregnancy_first_trimester_points",
                "block",
                f"First trimester of pregnancy: {', '.join(early)} (lower abdomen / lumbosacral) must not be needled.",
            )
        )
    return findings


def check(treatment, history, settings):
    return evaluate(PREFIX, RULES, history, settings) + _pregnancy_findings(treatment, history, settings)
