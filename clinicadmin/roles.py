"""The staff roles: their codes, what people read for them, and which roles may do what.

Imports nothing, so the pytest plugin (:mod:`clinicadmin.testing`) can read it before the app exists."""

#: What each role is called wherever a person reads it; the codes are what is stored and checked.
ROLE_LABELS = {
    "admin": "Administrator",
    "manager": "Manager",
    "practitioner": "Practitioner",
    "front_desk": "Front desk",
    "stock_clerk": "Stock clerk",
}

ROLES = {
    "admin": "Administrator: everything, including staff accounts",
    "manager": "Clinic manager: records, overrides, settings, stock and reports",
    "practitioner": "Practitioner: clients' clinical records, screening and treatments",
    "front_desk": "Front desk: clients' contact details, consents and bookings; no clinical notes",
    "stock_clerk": "Stock clerk: products, lots and the stock ledger; no client records",
}

#: Who may do what, by role code: each group is defined here once and imported where a view or a step checks it.
ALL_ROLES: tuple[str, ...] = tuple(ROLES)
#: clients' contact details, consents and bookings
DESK_ROLES: tuple[str, ...] = ("admin", "manager", "practitioner", "front_desk")
#: clinical records, screening and treatments
CLINICAL_ROLES: tuple[str, ...] = ("admin", "manager", "practitioner")
#: products, lots and the stock ledger
STOCK_ROLES: tuple[str, ...] = ("admin", "manager", "stock_clerk")


def role_label(code):
    """The role's name for people ("Front desk"); a code no release knows is shown as stored."""
    return ROLE_LABELS.get(code, code)
