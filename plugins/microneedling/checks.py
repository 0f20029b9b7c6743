"""Microneedling contraindications as data: blocking conditions, warning conditions, waiting periods.

Day rule for waiting periods: a procedure ``n`` days ago counts while ``n`` is below the setting, so with a 30-day
wait a peel 29 days ago warns and one 30 days ago does not.
"""
from clinicadmin.plugin_api import ConditionCode, Finding, SettingSpec

# Codes only this modality's rules need; the general vocabulary (pregnancy, diabetes, filler...) is the core's.
CONDITIONS = [
    ConditionCode("open_lesions_area", "Open wounds, burns, haematomas or inflammation in the area to treat"),
    ConditionCode("many_moles_area", "Many moles in the area to treat"),
    ConditionCode("chronic_disease_flare", "Chronic disease in an acute flare"),
]

BLOCK_IF_ACTIVE = {
    "pregnancy": "Pregnancy: microneedling must not be performed.",
    "breastfeeding": "Breastfeeding: microneedling must not be performed.",
    "acute_infection": "Acute infection or illness: wait until recovered.",
    "chronic_disease_flare": "A chronic disease is in an acute flare: wait until it settles.",
    "herpes_active": "Active herpes outbreak: wait until fully healed.",
    "open_lesions_area": "Open wounds, burns, haematomas or inflammation in the treatment area.",
    "rosacea": "Rosacea: microneedling can aggravate it.",
    "acne_active": "Active acne in the treatment area.",
    "eczema_psoriasis_active": "Active eczema or psoriasis in the treatment area.",
    "bleeding_disorder": "Blood clotting disorder.",
    "cancer": "Cancer / neoplasm.",
    "chemo_radiotherapy": "Current chemotherapy or radiotherapy.",
    "keloid_scarring": "Keloid scarring: needling can trigger keloids.",
    "many_moles_area": "Many moles in the treatment area.",
    "allergy_metal": "Allergy to stainless steel / nickel (the needles).",
}

WARN_IF_ACTIVE = {
    "diabetes": "Diabetes: healing may be slower; consider a shallower depth and check control.",
    "autoimmune_disease": "Autoimmune disease: discuss with the client's physician.",
    "immunosuppression": "Immune suppression: higher infection risk.",
    "anticoagulants": "Anticoagulant medication: expect more bleeding and bruising.",
}

# (code, setting key, default days, what it is)
WAITING_PERIODS = [
    ("isotretinoin", "microneedling.wait_after_isotretinoin_days", 180, "Isotretinoin ended"),
    ("botulinum_toxin", "microneedling.wait_after_botulinum_toxin_days", 90, "Botulinum toxin"),
    ("dermal_filler", "microneedling.wait_after_dermal_filler_days", 180, "Dermal filler"),
    ("chemical_peel", "microneedling.wait_after_chemical_peel_days", 30, "Chemical peel"),
]

SETTINGS = [
    SettingSpec("microneedling.min_interval_days", "Microneedling: minimum days between sessions", 7,
                help="Seed 004 says weekly; deeper needling is often spaced 4 to 6 weeks.", minimum=0),
    *[SettingSpec(key, f"Microneedling: wait after {label.lower()} (days)", default, minimum=0)
      for _, key, default, label in WAITING_PERIODS],
]


def check(treatment, history, settings):
    findings = []
    for code, message in BLOCK_IF_ACTIVE.items():
        if history.active(code):
            findings.append(Finding(f"microneedling.{code}", "block", message))
    for code, message in WARN_IF_ACTIVE.items():
        if history.active(code):
            findings.append(Finding(f"microneedling.{code}", "warn", message))
    for code, key, _, label in WAITING_PERIODS:
        days = settings[key]
        if history.within(code, days):
            since = history.days_since(code)
            when = f"{since} days ago" if since else "today or on an unrecorded date"
            findings.append(Finding(f"microneedling.recent_{code}", "warn",
                                    f"{label} {when}; the clinic waits {days} days."))
    if history.active("allergy_anesthetic"):
        if (treatment.details or {}).get("anesthetic_product"):
            findings.append(Finding("microneedling.allergy_anesthetic", "block",
                                    "Allergy to local anaesthetic, and anaesthetic gel is recorded for this session."))
        else:
            findings.append(Finding("microneedling.allergy_anesthetic", "warn",
                                    "Allergy to local anaesthetic: do not use numbing gel."))
    return findings

