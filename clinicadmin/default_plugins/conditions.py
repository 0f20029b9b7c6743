"""The general health-history vocabulary that several modalities' checks read; plugins add their own codes."""
from clinicadmin.plugin_api import ConditionCode, hookimpl

CORE_CONDITIONS = [
    ConditionCode("pregnancy", "Pregnant", "state"),
    ConditionCode("breastfeeding", "Breastfeeding", "state"),
    ConditionCode("diabetes", "Diabetes", "condition"),
    ConditionCode("bleeding_disorder", "Bleeding or clotting disorder (e.g. haemophilia)", "condition"),
    ConditionCode("anticoagulants", "Anticoagulant or antiplatelet medication", "medication"),
    ConditionCode("cancer", "Cancer / malignant tumour", "condition"),
    ConditionCode("chemo_radiotherapy", "Chemotherapy or radiotherapy", "procedure"),
    ConditionCode("autoimmune_disease", "Autoimmune disease", "condition"),
    ConditionCode("immunosuppression", "Immune suppression (disease or medication)", "condition"),
    ConditionCode("acute_infection", "Acute infection or illness with fever", "condition"),
    ConditionCode("herpes_active", "Active herpes (cold sore) outbreak", "condition"),
    ConditionCode("skin_infection_face", "Active skin infection on the face", "condition"),
    ConditionCode("hypertension_uncontrolled", "Uncontrolled hypertension", "condition"),
    ConditionCode("epilepsy", "Seizures / epilepsy", "condition"),
    ConditionCode("thyroid_disease", "Thyroid disease", "condition"),
    ConditionCode("keloid_scarring", "Keloid scarring", "condition"),
    ConditionCode("rosacea", "Rosacea", "condition"),
    ConditionCode("acne_active", "Active acne", "condition"),
    ConditionCode("eczema_psoriasis_active", "Active eczema or psoriasis", "condition"),
    ConditionCode("allergy_metal", "Allergy to nickel / stainless steel", "allergy"),
    ConditionCode("allergy_anesthetic", "Allergy to local anaesthetic", "allergy"),
    ConditionCode("dermal_filler", "Dermal filler", "procedure", dated=True),
    ConditionCode("botulinum_toxin", "Botulinum toxin injection", "procedure", dated=True),
    ConditionCode("chemical_peel", "Chemical peel / microdermabrasion", "procedure", dated=True),
    ConditionCode("laser_treatment", "Laser treatment", "procedure", dated=True),
    ConditionCode("facelift", "Facelift surgery", "procedure", dated=True),
    ConditionCode("isotretinoin", "Isotretinoin (oral retinoid)", "medication", dated=True),
]


@hookimpl
def register_conditions():
    return CORE_CONDITIONS
