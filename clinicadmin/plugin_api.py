"""What a plugin imports: ``hookimpl`` and the value types its hooks return.

Every type is a frozen dataclass so a registered vocabulary cannot be changed behind the registry's back.
"""
from dataclasses import dataclass, field
from typing import Any, Callable

from . import hookimpl

SEVERITIES = ("block", "warn", "info")
CONDITION_KINDS = ("condition", "medication", "procedure", "state", "allergy")


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
    requires: tuple = ()


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

    def __post_init__(self):
        if self.kind not in CONDITION_KINDS:
            raise ValueError(f"condition {self.code!r}: kind must be one of {CONDITION_KINDS}")


@dataclass(frozen=True)
class SettingSpec:
    """A clinic setting with its default; a manager may change the value. ``type`` is int, str or bool."""

    key: str
    label: str
    default: Any
    type: type = int
    help: str = ""
    minimum: int | None = 0
    maximum: int | None = None


@dataclass(frozen=True)
class Finding:
    """One screening result: ``severity`` is block (must not go ahead), warn (acknowledge) or info."""

    code: str
    severity: str
    message: str

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"finding {self.code!r}: severity must be one of {SEVERITIES}")


@dataclass(frozen=True)
class Consumption:
    """A quantity (in the product's unit of use) of a product that a treatment uses up."""

    product_id: int
    quantity: Any


@dataclass(frozen=True)
class ReportResult:
    """Rows of a report: ``columns`` names them in order; ``rows`` are tuples in that order."""

    columns: tuple
    rows: list
    notes: tuple = ()


@dataclass(frozen=True)
class Report:
    """A report in the Reports menu: ``run(params)`` returns a :class:`ReportResult`.

    ``params`` holds ``date_from``, ``date_to`` (dates) and ``location_id`` (int or None).
    """

    key: str
    title: str
    run: Callable[[dict], ReportResult]
    roles: tuple = ("admin", "manager")
    description: str = ""
    uses_dates: bool = True
    flags: dict = field(default_factory=dict)


__all__ = [
    "hookimpl", "Modality", "Qualification",
    "ConditionCode", "SettingSpec", "Finding", "Consumption", "Report", "ReportResult",
    "SEVERITIES", "CONDITION_KINDS",
]
