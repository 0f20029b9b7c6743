"""The areas the form offers, drawn on a standing figure (front view, drawn here), for the recording form's chart."""

from clinicadmin.plugin_api import Diagram, DiagramRegion

from .form import AREAS

OUTLINE = (
    "M80 47 L73 48 L72 56 L52 62 L44 96 L38 132 L32 170 L30 188 L37 190 L40 170 L48 132 L53 100 L57 120 L55 160 "
    "L54 228 L58 298 L52 318 L72 318 L68 298 L74 228 L80 170 L86 228 L92 298 L88 318 L108 318 L102 298 L106 228 "
    "L105 160 L103 120 L107 100 L112 132 L120 170 L123 190 L130 188 L128 170 L122 132 L116 96 L108 62 L88 56 L87 48 "
    "L80 47 Z",
    "M80 14 C94 14 96 26 95 32 C94 44 86 48 80 48 C74 48 66 44 65 32 C64 26 66 14 80 14 Z",
    "M54 228 L74 228 M86 228 L106 228",
)
# Each area's outline (an area on both sides is two); the figure is 160 wide, centred on x = 80.
SHAPES = {
    "head": ("M66 26 C66 12 94 12 94 26 C88 20 72 20 66 26 Z",),
    "face": ("M67 28 C72 23 88 23 93 28 C93 40 88 46 80 46 C72 46 67 40 67 28 Z",),
    "neck": ("M73 48 L87 48 L88 57 L72 57 Z",),
    "shoulders": ("M70 58 L54 63 L51 74 L70 66 Z", "M90 58 L106 63 L109 74 L90 66 Z"),
    "decolletage": ("M70 67 L90 67 L98 90 L62 90 Z",),
    "arms": (
        "M51 68 L45 96 L39 132 L34 165 L40 165 L47 132 L52 102 Z",
        "M109 68 L115 96 L121 132 L126 165 L120 165 L113 132 L108 102 Z",
    ),
    "hands": ("M32 171 L40 171 L37 189 L30 187 Z", "M128 171 L120 171 L123 189 L130 187 Z"),
    "abdomen": ("M62 112 L98 112 L100 150 L60 150 Z",),
    "thighs": ("M56 168 L78 176 L75 218 L55 218 Z", "M104 168 L82 176 L85 218 L105 218 Z"),
}

DIAGRAM = Diagram(
    key="areas",
    label="Areas treated",
    field="areas",
    viewbox=(0, 0, 160, 330),
    shapes=tuple(DiagramRegion(code, path, label) for code, label in AREAS for path in SHAPES[code]),
    outline=OUTLINE,
)
