"""Microneedling sessions by month: how many, for how many clients, how deep, and how much serum."""
from collections import defaultdict
from decimal import Decimal

from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import Chart, Report, ReportResult
from clinicadmin.reporting import performed_sessions

DEEP_MM = Decimal("1.5")


def sessions_by_month(params):
    query = performed_sessions("microneedling", params, Treatment.performed_at, Treatment.client_id,
                               Treatment.details)
    months = defaultdict(lambda: {"sessions": 0, "clients": set(), "depths": [], "deep": 0, "serum": Decimal(0)})
    for performed_at, client_id, details in db.session.execute(query):
        m = months[performed_at.strftime("%Y-%m")]
        m["sessions"] += 1
        m["clients"].add(client_id)
        if details.get("needle_depth_mm"):
            depth = Decimal(str(details["needle_depth_mm"]))
            m["depths"].append(depth)
            m["deep"] += depth > DEEP_MM
        if details.get("serum_ml"):
            m["serum"] += Decimal(str(details["serum_ml"]))
    rows = []
    for month in sorted(months):
        m = months[month]
        average = sum(m["depths"]) / len(m["depths"]) if m["depths"] else None
        rows.append((month, m["sessions"], len(m["clients"]),
                     f"{average:.2f}" if average is not None else "", m["deep"], f"{m['serum']:.2f}"))
    columns = ("Month", "Sessions", "Clients", "Average depth (mm)", f"Deeper than {DEEP_MM} mm", "Serum used (mL)")
    return ReportResult(columns, rows, chart=Chart.from_table("bar", columns, rows, "Month",
                                                              ("Sessions", f"Deeper than {DEEP_MM} mm"), "sessions"))


REPORTS = [Report("microneedling-sessions", "Microneedling sessions by month", sessions_by_month,
                  roles=("admin", "manager", "practitioner"),
                  description="Sessions, clients, average needle depth, deep sessions and serum used, per month.",
                  params=("dates", "location", "practitioner"))]
