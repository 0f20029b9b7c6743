"""Facial massage sessions per month, by technique."""
from collections import Counter, defaultdict

from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import Chart, Report, ReportResult
from clinicadmin.reporting import performed_sessions

from .checks import PREFIX
from .form import TECHNIQUES


def sessions_by_technique(params):
    query = performed_sessions(PREFIX, params, Treatment.performed_at, Treatment.details)
    months = defaultdict(Counter)
    for performed_at, details in db.session.execute(query):
        month = months[performed_at.strftime("%Y-%m")]
        month["sessions"] += 1
        month["minutes"] += int(details.get("duration_minutes") or 0)
        month.update(details.get("techniques") or [])
    rows = [(m, months[m]["sessions"], *(months[m][key] for key, _ in TECHNIQUES), months[m]["minutes"])
            for m in sorted(months)]
    columns = ("Month", "Sessions", *(label for _, label in TECHNIQUES), "Minutes")
    return ReportResult(columns, rows, chart=Chart.from_table("line", columns, rows, "Month",
                                                              tuple(label for _, label in TECHNIQUES), "sessions"))


REPORTS = [Report("facial-massage-techniques", "Facial massage: sessions by technique", sessions_by_technique,
                  roles=("admin", "manager", "practitioner"),
                  description="Sessions per month, how many used each technique, and the minutes worked.",
                  params=("dates", "location", "practitioner"))]
