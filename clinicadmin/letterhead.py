"""The clinic as its paper names it: name, address and phone from the clinic's settings.

Templates print it with ``{% from 'admin/_letterhead.html' import clinic_letterhead %}{{ clinic_letterhead() }}``;
the macro reads :func:`clinic_identity`, a Jinja global.
"""

from dataclasses import dataclass

from flask import current_app

from .clinic_settings import effective_settings
from .default_plugins.clinic_identity import ADDRESS, NAME, PHONE


@dataclass(frozen=True)
class ClinicIdentity:
    name: str
    address: str
    phone: str


def clinic_identity():
    """The clinic's name (the configured ``CLINIC_NAME`` until a manager sets one), address and phone."""
    values = effective_settings()
    return ClinicIdentity(
        name=(values.get(NAME) or "").strip() or current_app.config["CLINIC_NAME"],
        address=(values.get(ADDRESS) or "").strip(),
        phone=(values.get(PHONE) or "").strip(),
    )
