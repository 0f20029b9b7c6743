"""Microneedling contraindications as data: blocking conditions, warning conditions, waiting periods.

Day rule for waiting periods: a procedure ``n`` days ago counts while ``n`` is below the setting, so with a 30-day
wait a peel 29 days ago warns and one 30 days ago does not.
"""

from clinicadmin.plugin_api import ClientField, ConditionCode, Finding, SettingSpec
from clinicadmin.rules import WaitingRule, block, evaluate, waiting_settings, warn

PREFIX = "microneedling"
#: the setting the aftercare sheet reads: how long the client keeps retinoids and acids off the treated skin
NO_ACTIVES_DAYS = "microneedling.no_actives_days"

# Codes only this modality's rules need; the general vocabulary (pregnancy, diabetes, filler...) is the core's.
CONDITIONS = [
    ConditionCode("open_lesions_area", "Open wounds, burns, haematomas or inflammation in the area to treat"),
    ConditionCode("many_moles_area", "Many moles in the area to treat"),
    ConditionCode("chronic_disease_flare", "Chronic disease in an acute flare"),
]

# A fact about the client's skin, not about a session: shared, so that any plugin whose treatment injures or heats the
# skin (a peel, a laser) can read the same record. Darker skin (IV to VI) scars with post-inflammatory
# hyperpigmentation more readily after needling; the usual precaution is a shallower depth and a test patch.
FITZPATRICK = "fitzpatrick_skin_type"
CLIENT_FIELDS = [
    ClientField(
        FITZPATRICK,
        "Fitzpatrick skin type",
        choices=(
            ("I", "I: always burns, never tans"),
            ("II", "II: usually burns, tans minimally"),
            ("III", "III: sometimes burns, tans gradually"),
            ("IV", "IV: burns minimally, tans well"),
            ("V", "V: rarely burns, tans deeply"),
            ("VI", "VI: never burns, deeply pigmented"),
        ),
        help="The client's skin phototype; types IV to VI carry a higher risk of hyperpigmentation after needling.",
    )
]
PIH_RISK_TYPES = ("IV", "V", "VI")

RULES = [
    block("pregnancy", "Pregnancy: microneedling must not be performed."),
    block("breastfeeding", "Breastfeeding: microneedling must not be performed."),
    block("acute_infection", "Acute infection or illness: wait until recovered."),
    block("chronic_disease_flare", "A chronic disease is in an acute flare: wait until it settles."),
    block("herpes_active", "Active herpes outbreak: wait until fully healed."),
    block("open_lesions_area", "Open wounds, burns, haematomas or inflammation in the treatment area."),
    block("rosacea", "Rosacea: microneedling can aggravate it."),
    block("acne_active", "Active acne in the treatment area."),
    block("eczema_psoriasis_active", "Active eczema or psoriasis in the treatment area."),
    block("bleeding_disorder", "Blood clotting disorder."),
    block("cancer", "Cancer / neoplasm."),
    block("chemo_radiotherapy", "Current chemotherapy or radiotherapy."),
    block("keloid_scarring", "Keloid scarring: needling can trigger keloids."),
    block("many_moles_area", "Many moles in the treatment area."),
    block("allergy_metal", "Allergy to stainless steel / nickel (the needles)."),
    warn("diabetes", "Diabetes: healing may be slower; consider a shallower depth and check control."),
    warn("autoimmune_disease", "Autoimmune disease: discuss with the client's physician."),
    warn("immunosuppression", "Immune suppression: higher infection risk."),
    warn("anticoagulants", "Anticoagulant medication: expect more bleeding and bruising."),
    WaitingRule(
        "isotretinoin", "microneedling.wait_after_isotretinoin_days", 180, "warn", "Isotretinoin", "medication"
    ),
    WaitingRule(
        "botulinum_toxin", "microneedling.wait_after_botulinum_toxin_days", 90, "warn", "Botulinum toxin injection"
    ),
    WaitingRule("dermal_filler", "microneedling.wait_after_dermal_filler_days", 180, "warn", "Dermal filler"),
    WaitingRule("chemical_peel", "microneedling.wait_after_chemical_peel_days", 30, "warn", "Chemical peel"),
]

SETTINGS = [
    SettingSpec(
        "microneedling.min_interval_days",
        "Microneedling: minimum days between sessions",
        7,
        help="Weekly is usual; deeper needling is often spaced 4 to 6 weeks.",
        minimum=0,
        maximum=365,
    ),
    *waiting_settings("Microneedling", RULES),
    SettingSpec(
        NO_ACTIVES_DAYS,
        "Microneedling: days without retinoids and acids after a session",
        7,
        help="Printed on the aftercare sheet; 5 to 7 days is usual, longer after deep needling.",
        minimum=1,
        maximum=60,
    ),
]


def check(treatment, history, settings):
    findings = evaluate(PREFIX, RULES, history, settings)
    skin_type = history.client_field(FITZPATRICK)
    if skin_type in PIH_RISK_TYPES:
        findings.append(
            Finding(
                "microneedling.pigmentation_risk",
                "warn",
                f"Fitzpatrick skin type {skin_type}: higher risk of post-inflammatory hyperpigmentation. Consider a "
                "shallower depth and a test patch first.",
            )
        )
    if history.active("allergy_anesthetic"):
        if (treatment.details or {}).get("anesthetic_product"):
            findings.append(
                Finding(
                    "microneedling.allergy_anesthetic",
                    "block",
                    "Allergy to local anaesthetic, and anaesthetic gel is recorded for this session.",
                )
            )
        else:
            findings.append(
                Finding(
                    "microneedling.allergy_anesthetic", "warn", "Allergy to local anaesthetic: do not use numbing gel."
                )
            )
    return findings
