"""Helpers for reports (the core's and plugins'): the standard filters a report's parameters stand for."""
from datetime import datetime, time

from .extensions import db
from .models import Treatment


def period(params):
    """The report's date range as datetimes: from the start of ``date_from`` to the end of ``date_to``."""
    return datetime.combine(params["date_from"], time.min), datetime.combine(params["date_to"], time.max)


def performed_sessions(modality, params, *columns):
    """A select of ``columns`` over the treatments of ``modality`` performed in the report's period, at its location
    when one is chosen."""
    start, end = period(params)
    query = db.select(*columns).where(
        Treatment.modality == modality, Treatment.status == "performed", Treatment.archived_at.is_(None),
        Treatment.performed_at >= start, Treatment.performed_at <= end,
    )
    if params.get("location_id"):
        query = query.where(Treatment.location_id == params["location_id"])
    return query
