"""What a plugin imports: ``hookimpl`` and the value types its hooks return.

Every type is a frozen dataclass so a registered vocabulary cannot be changed behind the registry's back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from . import hookimpl

#: a finding's severities (the database allows only these; the core and plugins read them from here)
SEVERITIES: tuple[str, ...] = ("block", "warn", "info")
#: the kinds of health-history code, each with the heading its codes have on the client's form, in the form's order
CONDITION_KIND_HEADINGS: Mapping[str, str] = MappingProxyType(
    {
        "state": "Pregnancy and similar states",
        "condition": "Conditions",
        "allergy": "Allergies",
        "medication": "Medications",
        "procedure": "Recent procedures",
    }
)
CONDITION_KINDS: tuple[str, ...] = tuple(CONDITION_KIND_HEADINGS)


@dataclass(frozen=True)
class Modality:
    """A treatment modality. ``key`` is stored on treatments, consents and certifications; keep it stable."""

    key: str
    label: str
    description: str = ""
    #: sessions a course of this modality usually has (the default when a course is planned)
    default_sessions: int | None = None
    #: the key of a registered setting holding the minimum days between two sessions (None: no minimum)
    min_interval_setting: str | None = None
    #: what the client reads and signs before the first session
    consent_text: str = ""
    #: qualification keys a practitioner must hold besides a certification for the modality itself
    requires: tuple[str, ...] = ()
    #: how long a session usually takes, in minutes (a booking may change it)
    duration_minutes: int = 60
    #: minutes the practitioner and rooms or devices are taken before and after the session (setting up, cleaning)
    prep_minutes: int = 0
    cleanup_minutes: int = 0
    #: kinds of resource a session takes, one of each (keys a plugin registers with ``register_resource_kinds``)
    resources: tuple[str, ...] = ()
    #: the areas of the body a session treats, as (key, label) pairs: what a clinical photo may be taken of
    areas: tuple[tuple[str, str], ...] = ()
    #: drawings the treatment form shows above the tick-lists they choose in (points on a face, areas of a body)
    diagrams: tuple[Diagram, ...] = ()

    def __post_init__(self) -> None:
        for name in ("duration_minutes", "prep_minutes", "cleanup_minutes"):
            value = getattr(self, name)
            least = 1 if name == "duration_minutes" else 0
            if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= 24 * 60:
                raise ValueError(
                    f"modality {self.key!r}: {name} must be whole minutes from {least} to 1440, not {value!r}"
                )
        if isinstance(self.resources, str) or len(set(self.resources)) != len(self.resources):
            raise ValueError(f"modality {self.key!r}: resources must be a tuple of distinct kinds")
        if isinstance(self.areas, str) or any(
            not isinstance(area, tuple) or len(area) != 2 or not all(isinstance(part, str) and part for part in area)
            for area in self.areas
        ):
            raise ValueError(f"modality {self.key!r}: areas must be a tuple of (key, label) pairs of text")
        if len({key for key, _ in self.areas}) != len(self.areas):
            raise ValueError(f"modality {self.key!r}: each area's key must be distinct")
        if isinstance(self.diagrams, Diagram) or not all(isinstance(d, Diagram) for d in self.diagrams):
            raise ValueError(f"modality {self.key!r}: diagrams must be a tuple of Diagram")
        if len({d.key for d in self.diagrams}) != len(self.diagrams):
            raise ValueError(f"modality {self.key!r}: each diagram's key must be distinct")


#: what SVG path data may hold: commands, numbers and separators (so a drawing cannot carry markup or script)
_PATH_DATA = re.compile(r"[MmLlHhVvCcSsQqTtAaZz0-9eE.,+\- ]+")


def _check_path(owner: str, path: str) -> None:
    if not isinstance(path, str) or not _PATH_DATA.fullmatch(path):
        raise ValueError(f"{owner}: {path!r} is not SVG path data (commands, numbers, commas and spaces)")


@dataclass(frozen=True)
class DiagramPoint:
    """A point on a :class:`Diagram` at (``x``, ``y``) in its viewbox; tapping it chooses ``code`` in the diagram's
    field. A point on both sides of the body is two points with the same code."""

    code: str
    x: float
    y: float
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code:
            raise ValueError(f"diagram point {self.code!r}: the code must be text")
        for value in (self.x, self.y):
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
                raise ValueError(f"diagram point {self.code!r}: x and y must be finite numbers")


@dataclass(frozen=True)
class DiagramRegion:
    """An area of a :class:`Diagram` outlined by ``path`` (SVG path data in its viewbox); tapping it chooses
    ``code``."""

    code: str
    path: str
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code:
            raise ValueError(f"diagram region {self.code!r}: the code must be text")
        _check_path(f"diagram region {self.code!r}", self.path)


@dataclass(frozen=True)
class Diagram:
    """A drawing on a modality's treatment form with named points or regions, each carrying a code of the form's
    tick-list ``field`` (a ``CheckboxListField``): tapping a shape ticks its code. ``outline`` is SVG path data of
    the figure's lines, in the ``viewbox`` (min-x, min-y, width, height); ``captions`` are (x, y, text) written on it.
    The tick-list stays the form's field: the drawing is shown above it, and on the treatment's record with what was
    done."""

    key: str
    label: str
    field: str
    viewbox: tuple[int, int, int, int]
    shapes: tuple[DiagramPoint | DiagramRegion, ...]
    outline: tuple[str, ...] = ()
    captions: tuple[tuple[float, float, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.isidentifier():
            raise ValueError(f"diagram {self.key!r}: the key must be a word of letters, digits and underscores")
        if not isinstance(self.field, str) or not self.field.isidentifier():
            raise ValueError(f"diagram {self.key!r}: field must name a field of the treatment form")
        if (
            not isinstance(self.viewbox, tuple)
            or len(self.viewbox) != 4
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in self.viewbox)
            or self.viewbox[2] <= 0
            or self.viewbox[3] <= 0
        ):
            raise ValueError(f"diagram {self.key!r}: viewbox must be four whole numbers, with a width and height")
        if isinstance(self.shapes, DiagramPoint | DiagramRegion) or not all(
            isinstance(s, DiagramPoint | DiagramRegion) for s in self.shapes
        ):
            raise ValueError(f"diagram {self.key!r}: shapes must be a tuple of DiagramPoint and DiagramRegion")
        for path in self.outline:
            _check_path(f"diagram {self.key!r}", path)

    @property
    def codes(self) -> tuple[str, ...]:
        """Each code the diagram's shapes choose, once, in drawing order."""
        return tuple(dict.fromkeys(shape.code for shape in self.shapes))


@dataclass(frozen=True)
class ResourceKind:
    """A kind of room or device a session may need (``treatment_room``, a device); a clinic maps it to its own
    resources at each location."""

    key: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class MessageChannel:
    """A way to reach a client (``email`` is the core's; ``sms`` a gateway plugin's): a client who agrees to be
    contacted chooses one. ``address`` names the client's detail the message goes to (``email`` or ``phone``); a
    channel other than e-mail is sent by a plugin's ``send_message``."""

    key: str
    label: str
    address: str = "phone"

    def __post_init__(self) -> None:
        if self.address not in ("email", "phone"):
            raise ValueError(f"message channel {self.key!r}: address must be 'email' or 'phone', not {self.address!r}")


class MessageRefused(Exception):
    """Raised by ``send_message`` when the recipient cannot receive the message (an unknown number): the message is
    marked bounced on the client's record and not tried again."""


@dataclass(frozen=True)
class Qualification:
    """A certification that is not a modality (``injections``); a modality's ``requires`` names it."""

    key: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class ConditionCode:
    """A health-history code. ``dated`` codes are recorded with the date they happened (a filler, a peel)."""

    code: str
    label: str
    kind: str = "condition"
    dated: bool = False
    help: str = ""
    #: a word of the shared vocabulary (``isotretinoin``) that other plugins may register too, with the same kind,
    #: ``dated`` flag and label; a code that is not shared belongs to the one plugin that registers it
    shared: bool = False

    def __post_init__(self) -> None:
        if self.kind not in CONDITION_KINDS:
            raise ValueError(f"condition {self.code!r}: kind must be one of {CONDITION_KINDS}")
        if self.shared and "." in self.code:
            raise ValueError(f"condition {self.code!r}: a shared code has no plugin prefix (no dot)")


@dataclass(frozen=True)
class SettingSpec:
    """A clinic setting with its default; a manager may change the value. ``type`` is int, str or bool.

    A number is bounded: ``minimum`` to ``maximum`` (0 to 10,000 unless given), and a value outside is refused; a text
    is checked by ``validate`` when given.
    """

    key: str
    label: str
    default: Any
    type: type = int
    help: str = ""
    minimum: int | None = 0
    maximum: int | None = 10_000
    #: for a text setting: called with the value, raises ValueError with a message when the value is not allowed
    validate: Callable[[str], Any] | None = None


@dataclass(frozen=True)
class Finding:
    """One screening result: ``severity`` is block (must not go ahead), warn (acknowledge) or info.

    ``overridable=False`` makes it a hard stop: no role can override it, so a blocked treatment cannot be recorded
    until what caused the block changes (a warning that is a hard stop can still be acknowledged, never overridden).
    The core uses it for scope of practice (a practitioner without a valid certification) and for a check that could
    not run; a plugin uses it for an absolute contraindication that no clinical judgement may set aside.
    """

    code: str
    severity: str
    message: str
    overridable: bool = True

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"finding {self.code!r}: severity must be one of {SEVERITIES}")


@dataclass(frozen=True)
class Consumption:
    """A quantity (in the product's unit of use) of a product that a treatment uses up."""

    product_id: int
    quantity: Any


@dataclass(frozen=True)
class ReportResult:
    """Rows of a report: ``columns`` names them in order; ``rows`` are tuples in that order; ``chart``, if given, is
    drawn above the table."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    notes: tuple[str, ...] = ()
    chart: Chart | None = None


@dataclass(frozen=True)
class Chart:
    """A chart for a report, drawn on the server as SVG (it works offline and prints). ``kind`` is "bar" or "line";
    ``labels`` run along the x axis; ``series`` is a tuple of (name, values) with one number per label."""

    kind: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[Any, ...]], ...]
    y_label: str = ""

    @classmethod
    def from_table(
        cls,
        kind: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        x: str,
        y: Sequence[str],
        y_label: str = "",
        limit: int = 30,
    ) -> Chart:
        """A chart of a report's own table: column ``x`` gives the labels, each column named in ``y`` a series (at
        most the first ``limit`` rows, so a long ranking stays readable)."""
        rows = list(rows)[:limit]
        labels = tuple(str(row[columns.index(x)]) for row in rows)
        return cls(kind, labels, tuple((name, tuple(row[columns.index(name)] for row in rows)) for name in y), y_label)

    def __post_init__(self) -> None:
        if self.kind not in ("bar", "line"):
            raise ValueError(f"chart kind must be 'bar' or 'line', not {self.kind!r}")
        for name, values in self.series:
            if len(values) != len(self.labels):
                raise ValueError(f"series {name!r} has {len(values)} values for {len(self.labels)} labels")


#: The parameters a report's form can offer; a report lists the ones it uses in ``Report.params``.
REPORT_PARAMS: tuple[str, ...] = ("dates", "location", "practitioner", "modality")


@dataclass(frozen=True)
class Report:
    """A report in the Reports menu: ``run(params)`` returns a :class:`ReportResult`.

    ``params`` always holds ``today``, and for each name in the report's ``params`` tuple: ``date_from`` and
    ``date_to`` (dates), ``location_id``, ``practitioner_id`` (int or None) and ``modality`` (a key or None).
    """

    key: str
    title: str
    run: Callable[[dict[str, Any]], ReportResult]
    roles: tuple[str, ...] = ("admin", "manager")
    description: str = ""
    params: tuple[str, ...] = ("dates", "location")

    def __post_init__(self) -> None:
        unknown = set(self.params) - set(REPORT_PARAMS)
        if unknown:
            raise ValueError(f"report {self.key!r}: unknown params {sorted(unknown)}; choose from {REPORT_PARAMS}")


# --- Vocabularies a plugin grows: product categories and client fields (issue 16, item 4) ---


@dataclass(frozen=True)
class ProductCategory:
    """A category products are filed under (``needle``, ``peel_solution``). ``key`` is stored on products and named by
    ``ProductField(categories=[...])``; keep it stable."""

    key: str
    label: str
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key or len(self.key) > 40 or not self.key.isidentifier():
            raise ValueError(
                f"product category {self.key!r}: the key must be a word of letters, digits and "
                "underscores, at most 40 characters"
            )


@dataclass(frozen=True)
class ClientField:
    """A fact about the client, not about a session (a Fitzpatrick skin type), kept on the client's record.

    With ``choices`` (a tuple of (value, label) pairs) it is a select; without, a line of text of at most
    ``max_length`` characters. Not recording it is always allowed: a check reads None then.
    """

    key: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""
    max_length: int = 200

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.replace(".", "_").isidentifier() or len(self.key) > 60:
            raise ValueError(
                f"client field {self.key!r}: the key must be a word (a dot allowed), at most 60 characters"
            )
        if isinstance(self.choices, str) or not all(
            isinstance(c, tuple) and len(c) == 2 and isinstance(c[0], str) and c[0] for c in self.choices
        ):
            raise ValueError(f"client field {self.key!r}: choices must be a tuple of (value, label) pairs")
        if not isinstance(self.max_length, int) or not 1 <= self.max_length <= 2000:
            raise ValueError(f"client field {self.key!r}: max_length must be from 1 to 2000")

    def choice_label(self, value: str) -> str:
        """What a person reads for a stored ``value``."""
        return dict(self.choices).get(value, value)


__all__ = [
    "hookimpl",
    "Modality",
    "Qualification",
    "ResourceKind",
    "ConditionCode",
    "SettingSpec",
    "Finding",
    "Consumption",
    "Report",
    "ReportResult",
    "Chart",
    "REPORT_PARAMS",
    "SEVERITIES",
    "CONDITION_KINDS",
    "ProductCategory",
    "ClientField",
    "MessageChannel",
    "MessageRefused",
    "Diagram",
    "DiagramPoint",
    "DiagramRegion",
]
