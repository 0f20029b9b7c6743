"""Prolotherapy per injection site: sessions, clients and dextrose solution injected in the period."""
from collections import defaultdict
from decimal import Decimal

from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import Chart, Report, ReportResult
from clinicadmin.reporting import performed_sessions

from .checks import PREFIX
from .form import SITES


def by_site(params):
    query = performed_sessions(PREFIX, params, Treatment.client_id, Treatment.details)
    sites = defaultdict(lambda: {"sessions": 0, "clients": set(), "ml": Decimal(0)})
    for client_id, details in db.session.execute(query):
        chosen = details.get("sites") or []
        for site in chosen:
            row = sites[site]
            row["sessions"] += 1
            row["clients"].add(client_id)
            row["ml"] += Decimal(str(details.get("volume_ml") or 0)) / len(chosen)
    labels = dict(SITES)
    rows = [(labels.get(site, site), sites[site]["sessions"], len(sites[site]["clients"]), f"{sites[site]['ml']:.1f}")
            for site in sorted(sites, key=lambda s: -sites[s]["sessions"])]
    columns = ("Site", "Sessions", "Clients", "Solution (mL)")
    return ReportResult(columns, rows, notes=("A session's volume is shared equally among the sites it treated.",),
                        chart=Chart.from_table("bar", columns, rows, "Site", ("Sessions",), "sessions", limit=15))


REPORTS = [Report("prolotherapy-sites", "Prolotherapy: injections by site", by_site,
                  roles=("admin", "manager", "practitioner"),
                  description="Sessions, clients and dextrose solution injected per site in the period.",
                  params=("dates", "location", "practitioner"))]
