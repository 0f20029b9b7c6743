"""The general health-history vocabulary that several modalities' checks read; plugins add their own codes."""

from clinicadmin.plugin_api import ConditionCode, hookimpl

CORE_CONDITIONS = [
    ConditionCode("pregnancy", "Pregnant", "state", shared=True),
    ConditionCode("breastfeeding", "Breastfeeding", "state", shared=True),
    ConditionCode("diabetes", "Diabetes", "condition", shared=True),
    ConditionCode("bleeding_disorder", "Bleeding or clotting disorder (e.g. haemophilia)", "condition", shared=True),
    ConditionCode("anticoagulants", "Anticoagulant or antiplatelet medication", "medication", shared=True),
    ConditionCode("cancer", "Cancer / malignant tumour", "condition", shared=True),
    ConditionCode("chemo_radiotherapy", "Chemotherapy or radiotherapy", "procedure", shared=True),
    ConditionCode("autoimmune_disease", "Autoimmune disease", "condition", shared=True),
    ConditionCode("immunosuppression", "Immune suppression (disease or medication)", "condition", shared=True),
    ConditionCode("acute_infection", "Acute infection or illness with fever", "condition", shared=True),
    ConditionCode("herpes_active", "Active herpes (cold sore) outbreak", "condition", shared=True),
    ConditionCode("skin_infection_face", "Active skin infection on the face", "condition", shared=True),
    ConditionCode("hypertension_uncontrolled", "Uncontrolled hypertension", "condition", shared=True),
    ConditionCode("epilepsy", "Seizures / epilepsy", "condition", shared=True),
    ConditionCode("thyroid_disease", "Thyroid disease", "condition", shared=True),
    ConditionCode("keloid_scarring", "Keloid scarring", "condition", shared=True),
    ConditionCode("rosacea", "Rosacea", "condition", shared=True),
    ConditionCode("acne_active", "Active acne", "condition", shared=True),
    ConditionCode("eczema_psoriasis_active", "Active eczema or psoriasis", "condition", shared=True),
    ConditionCode("allergy_metal", "Allergy to nickel / stainless steel", "allergy", shared=True),
    ConditionCode("allergy_anesthetic", "Allergy to local anaesthetic", "allergy", shared=True),
    ConditionCode("dermal_filler", "Dermal filler", "procedure", dated=True, shared=True),
    ConditionCode("botulinum_toxin", "Botulinum toxin injection", "procedure", dated=True, shared=True),
    ConditionCode("chemical_peel", "Chemical peel / microdermabrasion", "procedure", dated=True, shared=True),
    ConditionCode("laser_treatment", "Laser treatment", "procedure", dated=True, shared=True),
    ConditionCode("facelift", "Facelift surgery", "procedure", dated=True, shared=True),
    ConditionCode("isotretinoin", "Isotretinoin (oral retinoid)", "medication", dated=True, shared=True),
]


@hookimpl
def register_conditions():
    return CORE_CONDITIONS
