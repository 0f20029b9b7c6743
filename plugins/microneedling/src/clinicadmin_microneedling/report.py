"""Microneedling sessions by month: how many, for how many clients, how deep, and how much serum."""

from decimal import Decimal

from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import Chart, Report, ReportResult
from clinicadmin.reporting import detail_number, month_group, month_key, performed_sessions

DEEP_MM = Decimal("1.5")


def sessions_by_month(params):
    month, group = month_key(Treatment.performed_at), month_group(Treatment.performed_at)
    depth = detail_number(Treatment.details, "needle_depth_mm")
    query = (
        performed_sessions(
            "microneedling",
            params,
            month,
            db.func.count(),
            db.func.count(db.distinct(Treatment.client_id)),
            db.func.avg(depth),
            db.func.count(db.case((depth > DEEP_MM, 1))),
            db.func.sum(detail_number(Treatment.details, "serum_ml")),
        )
        .group_by(group)
        .order_by(group)
    )
    rows = [
        (m, sessions, clients, "" if average is None else f"{Decimal(average):.2f}", deep, f"{Decimal(serum or 0):.2f}")
        for m, sessions, clients, average, deep, serum in db.session.execute(query)
    ]
    columns = ("Month", "Sessions", "Clients", "Average depth (mm)", f"Deeper than {DEEP_MM} mm", "Serum used (mL)")
    return ReportResult(
        columns,
        rows,
        chart=Chart.from_table("bar", columns, rows, "Month", ("Sessions", f"Deeper than {DEEP_MM} mm"), "sessions"),
    )


REPORTS = [
    Report(
        "microneedling-sessions",
        "Microneedling sessions by month",
        sessions_by_month,
        roles=("admin", "manager", "practitioner"),
        description="Sessions, clients, average needle depth, deep sessions and serum used, per month.",
        params=("dates", "location", "practitioner"),
    )
]
