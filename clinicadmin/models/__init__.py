"""The core's models, one module per aggregate."""

from .audit import AuditChain, AuditEvent
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
from .locations import Location
from .photos import Photo, PhotoConsent  # photos (issue 18)
from .settings import Setting
from .staff import ROLES, Certification, Role, User
from .submissions import FormSubmission
from .treatments import Course, ScreeningFinding, Treatment

__all__ = [
    "AuditChain",
    "AuditEvent",
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
    "Location",
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
