"""The core's models, one module per aggregate."""

from .audit import AuditEvent, AuditSeal
from .booking import BookingSlot, Resource, TimeOff, TreatmentResource, WorkingHours
from .clients import Client, Consent, HealthEntry
from .inventory import (
    MOVEMENT_REASONS,
    Product,
    StockException,
    StockLot,
    StockMovement,
    Stocktake,
    StocktakeLine,
    StockUsage,
    Supplier,
)
from .jobs import JobClaim, JobRun
from .locations import Location
from .messages import ClientMessage, MessageTemplate
from .photos import Photo, PhotoConsent
from .settings import Setting
from .staff import ROLES, Certification, Role, User
from .submissions import FormSubmission
from .treatments import Course, ScreeningFinding, Treatment

__all__ = [
    "AuditEvent",
    "AuditSeal",
    "BookingSlot",
    "Resource",
    "TimeOff",
    "TreatmentResource",
    "WorkingHours",
    "Client",
    "Consent",
    "HealthEntry",
    "Product",
    "StockException",
    "StockLot",
    "StockMovement",
    "Stocktake",
    "StocktakeLine",
    "StockUsage",
    "Supplier",
    "MOVEMENT_REASONS",
    "JobClaim",
    "JobRun",
    "Location",
    "ClientMessage",
    "MessageTemplate",
    "Photo",
    "PhotoConsent",
    "Setting",
    "FormSubmission",
    "ROLES",
    "Certification",
    "Role",
    "User",
    "Course",
    "ScreeningFinding",
    "Treatment",
]
