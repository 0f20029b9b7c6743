"""Cosmetic acupuncture demo records: facial and body needles with lots, and a few past sessions."""

from datetime import timedelta

SESSIONS = [
    (["EX-HN3", "ST2", "ST3", "LI20", "SI18", "ST6"], ["LI4", "ST36", "SP6", "LR3"], "qi_deficiency"),
    (["GB14", "TE23", "EX-HN5", "ST4", "CV24"], ["ST36", "SP9", "PC6"], "spleen_qi_deficiency"),
    (["BL2", "GB1", "ST7", "SI19", "GV24"], ["GV20", "HT7", "KI3", "LR3"], "liver_qi_stagnation"),
]


def add_demo(demo, key):
    facial = demo.product(
        "AC-FACE-013",
        "Facial acupuncture needles 0.13 x 13 mm (box of 100)",
        "needle",
        "needle",
        100,
        single_use=True,
        reorder_level=100,
        unit_cost="0.09",
    )
    demo.lot(facial, "F-2407", 600, 3)
    body = demo.product(
        "AC-BODY-025",
        "Body acupuncture needles 0.25 x 30 mm (box of 100)",
        "needle",
        "needle",
        100,
        single_use=True,
        reorder_level=100,
        unit_cost="0.06",
    )
    demo.lot(body, "B-2410", 700, 2)
    if demo.has_treatments(key):
        return
    for i, client in enumerate(demo.clients[22:28]):
        face, body_points, pattern = SESSIONS[i % len(SESSIONS)]
        demo.past_session(
            client,
            key,
            {
                "face_points": face,
                "body_points": body_points,
                "facial_needle_product": facial.id,
                "facial_needles": len(face) * 2,
                "body_needle_product": body.id,
                "body_needles": len(body_points) * 2,
                "retention_minutes": 25,
                "pattern": pattern,
                "tongue": "pale, thin white coat",
                "pulse": "thready",
                "concerns": ["fine_lines", "dullness"],
                "bruising": "none",
            },
            days_ago=4 + 6 * i,
        )
    demo.booking(demo.clients[24], key, demo.at(0, 15) + timedelta(days=1))
