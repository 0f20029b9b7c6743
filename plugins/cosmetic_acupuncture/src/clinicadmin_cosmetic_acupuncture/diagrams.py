"""The face and body charts of the points the form offers, drawn here (not copied) at the WHO standard locations,
placed relative to the drawn landmarks (eyebrows, eyes, nose, mouth, jaw; joints and creases of the limbs).

Front views are drawn as the client faces the practitioner; a point on both sides is drawn on both sides.
"""

from clinicadmin.plugin_api import Diagram, DiagramPoint

from .points import BODY, FACE, POINTS

# The face: an oval 140 wide and 190 high centred at (100, 135); hairline at y 75, eyes at y 120, nose tip at 165,
# mouth at 190, chin at 230.
FACE_OUTLINE = (
    "M100 40 C139 40 170 78 170 135 C170 192 139 230 100 230 C61 230 30 192 30 135 C30 78 61 40 100 40 Z",
    "M42 88 C60 72 80 70 100 74 C120 70 140 72 158 88",  # hairline
    "M56 106 C64 100 78 100 88 104",  # eyebrows
    "M112 104 C122 100 136 100 144 106",
    "M56 120 C62 114 78 114 84 120 C78 125 62 125 56 120 Z",  # eyes
    "M116 120 C122 114 138 114 144 120 C138 125 122 125 116 120 Z",
    "M96 118 L94 160 M104 118 L106 160",  # the bridge of the nose
    "M88 164 C90 170 96 170 100 168 C104 170 110 170 112 164",  # the alae and tip
    "M82 190 C92 186 108 186 118 190 C108 196 92 196 82 190 Z",  # the mouth
    "M30 125 C22 120 20 150 30 158",  # ears
    "M170 125 C178 120 180 150 170 158",
)

# (code, x on the figure's left, y); a point not on the midline is mirrored to x' = 200 - x.
_FACE_PLACES = {
    "GV24": (100, 68),  # 0.5 cun within the anterior hairline, on the midline
    "EX-HN3": (100, 106),  # between the medial ends of the eyebrows
    "EX-HN5": (42, 113),  # the temple, behind the lateral end of the eyebrow and the outer canthus
    "BL2": (86, 104),  # the medial end of the eyebrow
    "GB1": (51, 122),  # lateral to the outer canthus
    "GB14": (70, 92),  # 1 cun above the eyebrow, above the pupil
    "TE23": (56, 100),  # the lateral end of the eyebrow
    "ST1": (70, 130),  # below the pupil, between the eyeball and the infraorbital margin
    "ST2": (70, 141),  # the infraorbital foramen
    "ST3": (70, 165),  # below the pupil, level with the lower border of the ala
    "ST4": (77, 190),  # lateral to the corner of the mouth
    "ST5": (63, 211),  # in front of the angle of the jaw
    "ST6": (51, 192),  # one finger above and in front of the angle of the jaw
    "ST7": (46, 133),  # in front of the ear, below the zygomatic arch
    "LI20": (86, 162),  # beside the ala of the nose, in the nasolabial groove
    "SI18": (56, 152),  # below the outer canthus, at the lower border of the cheekbone
    "SI19": (34, 144),  # in front of the tragus
    "GV26": (100, 177),  # the philtrum, a third of the way down
    "CV24": (100, 206),  # the middle of the mentolabial groove
}


def _both_sides(places, midline):
    shapes = []
    for code, (x, y) in places.items():
        label = POINTS[code].label
        shapes.append(DiagramPoint(code, x, y, label))
        if x != midline:
            shapes.append(DiagramPoint(code, 2 * midline - x, y, label))
    return tuple(shapes)


def _figure(cx, back=False):
    """A standing figure, arms a little away from the body, centred on x = ``cx`` (path data)."""

    def at(points):
        return " ".join(f"{cmd}{cx + dx:g} {y:g}" for cmd, dx, y in points)

    half = [
        ("M", 0, 47), ("L", -7, 48), ("L", -8, 56), ("L", -28, 62), ("L", -36, 96), ("L", -42, 132),
        ("L", -48, 170), ("L", -50, 188), ("L", -43, 190), ("L", -40, 170), ("L", -32, 132), ("L", -27, 100),
        ("L", -23, 120), ("L", -25, 160), ("L", -26, 228), ("L", -22, 298), ("L", -28, 318), ("L", -8, 318),
        ("L", -12, 298), ("L", -6, 228), ("L", 0, 170),
    ]  # fmt: skip
    mirror = [(cmd, -dx, y) for cmd, dx, y in reversed(half)]
    body = at(half) + " " + at([("L", dx, y) for _, dx, y in mirror[1:]]) + " Z"
    head = f"M{cx} 14 C{cx + 14} 14 {cx + 16} 26 {cx + 15} 32 C{cx + 14} 44 {cx + 6} 48 {cx} 48 " + (
        f"C{cx - 6} 48 {cx - 14} 44 {cx - 15} 32 C{cx - 16} 26 {cx - 14} 14 {cx} 14 Z"
    )
    lines = [body, head, f"M{cx - 26} 228 L{cx - 6} 228 M{cx + 6} 228 L{cx + 26} 228"]  # the knees
    if back:
        lines.append(f"M{cx} 56 L{cx} 168")  # the spine
    else:
        lines.append(f"M{cx - 1.5} 135 A1.5 1.5 0 1 0 {cx + 1.5} 135 A1.5 1.5 0 1 0 {cx - 1.5} 135")  # navel
    return tuple(lines)


FRONT, BACK = 75, 225
# Front view: the client's right side is on the viewer's left. Back view: the client's left side is on the left.
_BODY_FRONT = {
    "GV20": (FRONT, 15),  # the vertex
    "LI11": (FRONT - 39, 130),  # the lateral end of the elbow crease
    "LU7": (FRONT - 46, 158),  # the radial side of the forearm, above the wrist
    "PC6": (FRONT - 40, 148),  # the middle of the forearm, 2 cun above the wrist crease
    "HT7": (FRONT - 42, 168),  # the wrist crease, ulnar side
    "CV12": (FRONT, 111),  # 4 cun above the navel
    "CV6": (FRONT, 144),  # 1.5 cun below the navel
    "CV4": (FRONT, 153),  # 3 cun below the navel
    "SP10": (FRONT - 9, 212),  # above the medial end of the kneecap
    "SP9": (FRONT - 9, 238),  # below the medial condyle of the tibia
    "ST36": (FRONT - 22, 246),  # 3 cun below the knee, a finger lateral to the shin
    "SP6": (FRONT - 10, 282),  # 3 cun above the medial malleolus
    "KI3": (FRONT - 10, 300),  # behind the medial malleolus
    "LR3": (FRONT - 15, 312),  # between the first and second metatarsals
    "BL67": (FRONT - 27, 316),  # the lateral corner of the little toenail
}
_BODY_BACK = {
    "GB21": (BACK - 17, 58),  # the top of the shoulder, halfway from C7 to the acromion
    "LI4": (BACK - 47, 182),  # the back of the hand, by the second metacarpal
    "BL23": (BACK - 10, 140),  # 1.5 cun beside L2
    "GV4": (BACK, 140),  # below the spinous process of L2
    "BL32": (BACK - 5, 162),  # the second sacral foramen
    "BL60": (BACK - 22, 302),  # between the lateral malleolus and the Achilles tendon
}


def _body_shapes():
    shapes = list(_both_sides(_BODY_FRONT, FRONT))
    shapes += _both_sides(_BODY_BACK, BACK)
    return tuple(shapes)


FACE_DIAGRAM = Diagram(
    key="face_points",
    label="Face points",
    field="face_points",
    viewbox=(0, 30, 200, 210),
    shapes=_both_sides(_FACE_PLACES, 100),
    outline=FACE_OUTLINE,
)
BODY_DIAGRAM = Diagram(
    key="body_points",
    label="Body points",
    field="body_points",
    viewbox=(0, 0, 300, 330),
    shapes=_body_shapes(),
    outline=_figure(FRONT) + _figure(BACK, back=True),
    captions=((FRONT, 328, "Front"), (BACK, 328, "Back")),
)
DIAGRAMS = (FACE_DIAGRAM, BODY_DIAGRAM)

assert {p.code for p in FACE} == set(FACE_DIAGRAM.codes), "every face point is drawn"
assert {p.code for p in BODY} == set(BODY_DIAGRAM.codes), "every body point is drawn"
