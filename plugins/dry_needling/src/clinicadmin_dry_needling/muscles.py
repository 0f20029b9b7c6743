"""The muscles the session form offers, and which of them are in a limb (for lymphoedema)."""

TRUNK_AND_HEAD = [
    ("upper_trapezius", "Upper trapezius"),
    ("levator_scapulae", "Levator scapulae"),
    ("sternocleidomastoid", "Sternocleidomastoid"),
    ("masseter", "Masseter"),
    ("temporalis", "Temporalis"),
    ("rhomboids", "Rhomboids"),
    ("infraspinatus", "Infraspinatus"),
    ("quadratus_lumborum", "Quadratus lumborum"),
    ("lumbar_multifidus", "Lumbar multifidus"),
]
LIMBS = [
    ("deltoid", "Deltoid"),
    ("forearm_extensors", "Forearm extensors"),
    ("gluteus_medius", "Gluteus medius"),
    ("piriformis", "Piriformis"),
    ("hamstrings", "Hamstrings"),
    ("quadriceps", "Quadriceps"),
    ("gastrocnemius", "Gastrocnemius"),
    ("tibialis_anterior", "Tibialis anterior"),
]
MUSCLES = TRUNK_AND_HEAD + LIMBS
LIMB_MUSCLES = {key for key, _ in LIMBS}
