"""Dry needling: the muscles treated most often, with sessions, clients and needles."""

from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import Chart, Report, ReportResult
from clinicadmin.reporting import detail_flag, detail_items, performed_sessions

from .checks import PREFIX
from .muscles import MUSCLES


def by_muscle(params):
    muscle = detail_items(Treatment.details, "muscles")
    query = (
        performed_sessions(
            PREFIX,
            params,
            muscle.c.value,
            db.func.count(),
            db.func.count(db.distinct(Treatment.client_id)),
            db.func.sum(detail_flag(Treatment.details, "twitch_response")),
        )
        .join(muscle, db.true())
        .group_by(muscle.c.value)
    )
    labels = dict(MUSCLES)
    found = sorted(db.session.execute(query), key=lambda r: (-r[1], r[0]))
    rows = [(labels.get(m, m), sessions, clients, int(twitch or 0)) for m, sessions, clients, twitch in found]
    columns = ("Muscle", "Sessions", "Clients", "With a twitch response")
    return ReportResult(
        columns,
        rows,
        chart=Chart.from_table(
            "bar", columns, rows, "Muscle", ("Sessions", "With a twitch response"), "sessions", limit=15
        ),
    )


REPORTS = [
    Report(
        "dry-needling-muscles",
        "Dry needling: muscles treated",
        by_muscle,
        roles=("admin", "manager", "practitioner"),
        description="How often each muscle was needled, for how many clients, and with a twitch response.",
        params=("dates", "location", "practitioner"),
    )
]
