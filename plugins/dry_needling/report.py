"""Dry needling: the muscles treated most often, with sessions, clients and needles."""
from collections import defaultdict

from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import Chart, Report, ReportResult
from clinicadmin.reporting import performed_sessions

from .checks import PREFIX
from .muscles import MUSCLES


def by_muscle(params):
    query = performed_sessions(PREFIX, params, Treatment.client_id, Treatment.details)
    muscles = defaultdict(lambda: {"sessions": 0, "clients": set(), "twitch": 0})
    for client_id, details in db.session.execute(query):
        for muscle in details.get("muscles") or []:
            row = muscles[muscle]
            row["sessions"] += 1
            row["clients"].add(client_id)
            row["twitch"] += bool(details.get("twitch_response"))
    labels = dict(MUSCLES)
    rows = [(labels.get(m, m), muscles[m]["sessions"], len(muscles[m]["clients"]), muscles[m]["twitch"])
            for m in sorted(muscles, key=lambda m: (-muscles[m]["sessions"], m))]
    columns = ("Muscle", "Sessions", "Clients", "With a twitch response")
    return ReportResult(columns, rows, chart=Chart.from_table("bar", columns, rows, "Muscle",
                                                              ("Sessions", "With a twitch response"), "sessions",
                                                              limit=15))


REPORTS = [Report("dry-needling-muscles", "Dry needling: muscles treated", by_muscle,
                  roles=("admin", "manager", "practitioner"),
                  description="How often each muscle was needled, for how many clients, and with a twitch response.",
                  params=("dates", "location", "practitioner"))]
