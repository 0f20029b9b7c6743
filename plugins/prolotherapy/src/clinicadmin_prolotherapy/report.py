"""Prolotherapy per injection site: sessions, clients and dextrose solution injected in the period."""

from decimal import Decimal

from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import Chart, Report, ReportResult
from clinicadmin.reporting import detail_count, detail_items, detail_number, performed_sessions

from .checks import PREFIX
from .form import SITES


def by_site(params):
    site = detail_items(Treatment.details, "sites")
    share = detail_number(Treatment.details, "volume_ml") / db.cast(detail_count(Treatment.details, "sites"), db.Float)
    query = (
        performed_sessions(
            PREFIX,
            params,
            site.c.value,
            db.func.count(),
            db.func.count(db.distinct(Treatment.client_id)),
            db.func.sum(share),
        )
        .join(site, db.true())
        .group_by(site.c.value)
    )
    labels = dict(SITES)
    found = sorted(db.session.execute(query), key=lambda r: (-r[1], r[0]))
    rows = [(labels.get(s, s), sessions, clients, f"{Decimal(ml or 0):.1f}") for s, sessions, clients, ml in found]
    columns = ("Site", "Sessions", "Clients", "Solution (mL)")
    return ReportResult(
        columns,
        rows,
        notes=("A session's volume is shared equally among the sites it treated.",),
        chart=Chart.from_table("bar", columns, rows, "Site", ("Sessions",), "sessions", limit=15),
    )


REPORTS = [
    Report(
        "prolotherapy-sites",
        "Prolotherapy: injections by site",
        by_site,
        roles=("admin", "manager", "practitioner"),
        description="Sessions, clients and dextrose solution injected per site in the period.",
        params=("dates", "location", "practitioner"),
    )
]
