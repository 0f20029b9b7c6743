"""Facial massage and lymphatic drainage contraindications (seed 003; manual lymphatic drainage literature).

Data for the most; code for what depends on the session: neck work with a thyroid or carotid-sinus condition, and
stimulating (sculpting) massage on inflamed acne, block at recording once the form says what was done.
"""

from clinicadmin.plugin_api import ConditionCode, Finding, SettingSpec
from clinicadmin.rules import WaitingRule, block, evaluate, waiting_settings, warn

PREFIX = "facial_massage"
FIRST_TRIMESTER_SETTING = "facial_massage.first_trimester_days"

CONDITIONS = [
    ConditionCode("thrombosis", "Thrombosis / deep vein thrombosis", "condition"),
    ConditionCode("heart_failure_decompensated", "Decompensated heart failure", "condition"),
    ConditionCode("kidney_failure_severe", "Severe kidney failure", "condition"),
    ConditionCode("hyperthyroidism", "Hyperthyroidism", "condition"),
    ConditionCode("carotid_sinus_hypersensitivity", "Carotid sinus hypersensitivity", "condition"),
    ConditionCode("asthma", "Asthma", "condition"),
]

RULES = [
    block("acute_infection", "Acute infection or inflammation with fever: postpone the session."),
    block("thrombosis", "Thrombosis / DVT: drainage massage could move a clot."),
    block("cancer", "Malignant tumour: no lymphatic drainage without the oncologist's approval."),
    block("heart_failure_decompensated", "Decompensated heart failure: drainage loads the heart."),
    block("kidney_failure_severe", "Severe kidney failure: drainage loads the kidneys."),
    WaitingRule("dermal_filler", "facial_massage.wait_after_dermal_filler_days", 7, "block", "Dermal filler"),
    WaitingRule(
        "botulinum_toxin", "facial_massage.wait_after_botulinum_toxin_days", 14, "warn", "Botulinum toxin injection"
    ),
    warn("acne_active", "Inflamed acne: no stimulating massage; keep to gentle pressure-point and drainage work."),
    warn("thyroid_disease", "Thyroid disease: no work on the throat."),
    warn("asthma", "Asthma: keep the inhaler at hand; avoid strongly scented oils."),
]

SETTINGS = [
    SettingSpec(
        "facial_massage.min_interval_days", "Facial massage: minimum days between sessions", 7, minimum=0, maximum=365
    ),
    SettingSpec(
        FIRST_TRIMESTER_SETTING,
        "Facial massage: first trimester lasts (days since pregnancy began)",
        91,
        minimum=1,
        maximum=140,
    ),
    *waiting_settings("Facial massage", RULES),
]

NECK_CONDITIONS = {
    "hyperthyroidism": "Hyperthyroidism",
    "carotid_sinus_hypersensitivity": "Carotid sinus hypersensitivity",
}


def _session_findings(treatment, history, settings):
    details = treatment.details or {}
    recorded = bool(details)
    findings = []
    for code, label in NECK_CONDITIONS.items():
        if not history.active(code):
            continue
        if not recorded:
            findings.append(Finding(f"{PREFIX}.{code}", "warn", f"{label}: no neck work."))
        elif "neck" in (details.get("areas") or []):
            findings.append(Finding(f"{PREFIX}.{code}_neck", "block", f"{label}: the neck must not be massaged."))
    if history.active("acne_active") and "sculpting" in (details.get("techniques") or []):
        findings.append(
            Finding(
                f"{PREFIX}.acne_active_sculpting",
                "block",
                "Inflamed acne: sculpting massage stimulates the skin and spreads the infection.",
            )
        )
    since = history.days_since_start("pregnancy")
    if history.active("pregnancy") and since is not None and since < settings[FIRST_TRIMESTER_SETTING]:
        findings.append(
            Finding(
                f"{PREFIX}.pregnancy_first_trimester",
                "warn",
                "First trimester of pregnancy: gentle work only, and no drainage of the abdomen.",
            )
        )
    return findings


def check(treatment, history, settings):
    return evaluate(PREFIX, RULES, history, settings) + _session_findings(treatment, history, settings)
