"""Facial massage sessions per month, by technique."""

from collections import Counter

from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import Chart, Report, ReportResult
from clinicadmin.reporting import detail_items, detail_number, month_group, month_key, performed_sessions

from .checks import PREFIX
from .form import TECHNIQUES


def sessions_by_technique(params):
    month, group = month_key(Treatment.performed_at), month_group(Treatment.performed_at)
    sessions = {
        m: (count, minutes)
        for m, count, minutes in db.session.execute(
            performed_sessions(
                PREFIX,
                params,
                month,
                db.func.count(),
                db.func.sum(detail_number(Treatment.details, "duration_minutes")),
            ).group_by(group)
        )
    }
    technique = detail_items(Treatment.details, "techniques")
    used = Counter(
        {
            (m, key): count
            for m, key, count in db.session.execute(
                performed_sessions(PREFIX, params, month, technique.c.value, db.func.count())
                .join(technique, db.true())
                .group_by(group, technique.c.value)
            )
        }
    )
    rows = [
        (m, sessions[m][0], *(used[m, key] for key, _ in TECHNIQUES), int(sessions[m][1] or 0))
        for m in sorted(sessions)
    ]
    columns = ("Month", "Sessions", *(label for _, label in TECHNIQUES), "Minutes")
    return ReportResult(
        columns,
        rows,
        chart=Chart.from_table("line", columns, rows, "Month", tuple(label for _, label in TECHNIQUES), "sessions"),
    )


REPORTS = [
    Report(
        "facial-massage-techniques",
        "Facial massage: sessions by technique",
        sessions_by_technique,
        roles=("admin", "manager", "practitioner"),
        description="Sessions per month, how many used each technique, and the minutes worked.",
        params=("dates", "location", "practitioner"),
    )
]
