"""Probable duplicate clients: the same name and date of birth, the same e-mail, or the same phone number."""

from sqlalchemy import and_, func, or_

from .extensions import db
from .models import Client

MAX_SHOWN = 5


def phone_key(phone):
    """The last nine digits of a phone number (so a leading +44 or 0 makes no difference); None if it has too few
    digits to mean anything."""
    digits = "".join(ch for ch in phone or "" if ch in "0123456789")
    return digits[-9:] if len(digits) >= 6 else None


def probable_duplicates(
    *, first_name=None, last_name=None, date_of_birth=None, email=None, phone=None, exclude_id=None
):
    """[(client, [why])]: active clients who are probably the person described, at most ``MAX_SHOWN``."""
    reasons = []
    if first_name and last_name and date_of_birth:
        reasons.append(
            (
                "same name and date of birth",
                and_(
                    func.lower(Client.last_name) == last_name.strip().lower(),
                    func.lower(Client.first_name) == first_name.strip().lower(),
                    Client.date_of_birth == date_of_birth,
                ),
            )
        )
    if email and email.strip():
        reasons.append(("same e-mail", func.lower(Client.email) == email.strip().lower()))
    key = phone_key(phone)
    if key:
        reasons.append(("same phone", Client.phone_key == key))
    if not reasons:
        return []
    query = db.select(Client).where(or_(*(clause for _, clause in reasons)), Client.archived_at.is_(None))
    if exclude_id is not None:
        query = query.where(Client.id != exclude_id)
    found = db.session.execute(query.order_by(Client.id).limit(MAX_SHOWN)).scalars().all()
    result = []
    for client in found:
        why = []
        if (
            first_name
            and last_name
            and date_of_birth
            and client.date_of_birth == date_of_birth
            and (client.first_name.lower(), client.last_name.lower())
            == (first_name.strip().lower(), last_name.strip().lower())
        ):
            why.append("same name and date of birth")
        if email and (client.email or "").lower() == email.strip().lower():
            why.append("same e-mail")
        if key and client.phone_key == key:
            why.append("same phone")
        result.append((client, why))
    return result
