"""Cosmetic acupuncture reports: the points needled most often, and needles used per month."""

from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import Chart, Report, ReportResult
from clinicadmin.reporting import counts_per, detail_number, month_group, month_key, performed_sessions, period

from .checks import PREFIX
from .models import PointUse
from .points import POINTS


def most_used_points(params):
    """Read from the point uses' own index alone: each use carries its session's client, location and practitioner,
    and archived sessions (a few) are left out by their ids."""
    start, end = period(params)
    archived = db.select(Treatment.id).where(Treatment.archived_at.is_not(None))
    uses = (
        db.select()
        .select_from(PointUse)
        .where(PointUse.performed_at >= start, PointUse.performed_at <= end, PointUse.treatment_id.not_in(archived))
    )
    for column, key in ((PointUse.location_id, "location_id"), (PointUse.practitioner_id, "practitioner_id")):
        if params.get(key):
            uses = uses.where(column == params[key])
    query = counts_per(uses, PointUse.point, PointUse.client_id).subquery()
    query = db.select(query.c.key, query.c.rows, query.c.distinct).order_by(query.c.rows.desc(), query.c.key)
    rows = []
    for code, times, clients in db.session.execute(query):
        point = POINTS.get(code)
        rows.append((code, point.name if point else "", point.region if point else "", times, clients))
    columns = ("Point", "Name", "Region", "Times needled", "Clients")
    return ReportResult(
        columns,
        rows,
        chart=Chart.from_table("bar", columns, rows, "Point", ("Times needled",), "times needled", limit=20),
    )


def needles_by_month(params):
    month, group = month_key(Treatment.performed_at), month_group(Treatment.performed_at)
    query = (
        performed_sessions(
            PREFIX,
            params,
            month,
            db.func.count(),
            db.func.sum(detail_number(Treatment.details, "facial_needles")),
            db.func.sum(detail_number(Treatment.details, "body_needles")),
        )
        .group_by(group)
        .order_by(group)
    )
    columns = ("Month", "Sessions", "Facial needles", "Body needles")
    rows = [(m, sessions, int(facial or 0), int(body or 0)) for m, sessions, facial, body in db.session.execute(query)]
    return ReportResult(
        columns,
        rows,
        chart=Chart.from_table("bar", columns, rows, "Month", ("Facial needles", "Body needles"), "needles"),
    )


REPORTS = [
    Report(
        "cosmetic-acupuncture-points",
        "Cosmetic acupuncture: most-used points",
        most_used_points,
        roles=("admin", "manager", "practitioner"),
        description="How often each point was needled, and for how many clients, in the period.",
        params=("dates", "location", "practitioner"),
    ),
    Report(
        "cosmetic-acupuncture-needles",
        "Cosmetic acupuncture: needles per month",
        needles_by_month,
        roles=("admin", "manager", "stock_clerk"),
        description="Sessions, and facial and body needles used, per month.",
        params=("dates", "location", "practitioner"),
    ),
]
