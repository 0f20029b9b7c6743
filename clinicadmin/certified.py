"""Who may perform a modality on a day: a certification for the modality itself and for every qualification it
requires (``Modality.requires``), each valid on that day. The booking form offers and accepts only them; screening's
certification check (``default_plugins/certification.py``) says the same of a booking made another way."""

from .extensions import db
from .models import Certification, Role, User
from .plugins import registry


def scopes_needed(modality):
    """The certification scopes a practitioner needs for ``modality`` (its key and its required qualifications)."""
    found = registry().modalities.get(modality)
    return (modality, *(found.requires if found else ()))


def _valid_on(day):
    return db.and_(
        db.or_(Certification.valid_from.is_(None), Certification.valid_from <= day),
        db.or_(Certification.valid_until.is_(None), Certification.valid_until >= day),
    )


def certified_ids(modality, day):
    """The ids of the staff who hold every scope ``modality`` needs, valid on ``day``; one query."""
    needed = scopes_needed(modality)
    return set(
        db.session.execute(
            db.select(Certification.user_id)
            .where(Certification.scope.in_(needed), _valid_on(day))
            .group_by(Certification.user_id)
            .having(db.func.count(db.distinct(Certification.scope)) == len(set(needed)))
        ).scalars()
    )


def certified_for(day):
    """{user id: [modality keys]} of every modality each person may perform on ``day``; one query."""
    held = {}
    for user_id, scope in db.session.execute(
        db.select(Certification.user_id, Certification.scope).where(_valid_on(day))
    ):
        held.setdefault(user_id, set()).add(scope)
    return {
        user_id: sorted(key for key in registry().modalities if set(scopes_needed(key)) <= scopes)
        for user_id, scopes in held.items()
    }


def practitioners():
    """The active practitioners, by name."""
    query = (
        db.select(User)
        .join(User.roles)
        .where(Role.name == "practitioner", User.active.is_(True))
        .order_by(User.full_name, User.id)
    )
    return list(db.session.execute(query).scalars().unique())


def not_certified(practitioner, modality, day):
    """Why ``practitioner`` may not perform ``modality`` on ``day`` (a sentence), or None when they may."""
    if practitioner.id in certified_ids(modality, day):
        return None
    reg = registry()
    names = " and ".join(reg.scope_label(scope) for scope in scopes_needed(modality))
    return (
        f"{practitioner} holds no certification for {names} valid on {day.isoformat()}; choose a practitioner "
        "certified for it."
    )
