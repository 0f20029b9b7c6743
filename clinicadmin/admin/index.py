"""The admin home page, per role: today's and tomorrow's treatments with their screening status, what needs
attention (blocked bookings waiting for a manager, consents about to expire, low and expiring stock, open stock
exceptions), the last 12
weeks as small charts, and quick actions."""

from datetime import timedelta

from flask import redirect, url_for
from flask_admin import expose
from flask_security import current_user
from sqlalchemy.orm import joinedload

from ..audit import audit_read
from ..charts import svg
from ..clock import day_bounds, local_today
from ..extensions import db
from ..jobs.nightly_check import JOB as NIGHTLY_CHECK
from ..jobs.runs import last_run
from ..models import Client, Consent, StockMovement, Treatment
from ..plugin_api import Chart
from ..plugins import registry
from ..roles import CLINICAL_ROLES, DESK_ROLES, STOCK_ROLES
from ..stock_exceptions import open_count, open_exceptions
from .base import SecuredIndexView, acting_roles, user_has_role

CONSENT_WARNING_DAYS = 30
WEEKS = 12
ALERT_ROWS = 20


def _active(query):
    return query.join(Client, Client.id == Treatment.client_id).where(
        Client.archived_at.is_(None), Treatment.archived_at.is_(None)
    )


def upcoming_treatments(today, location=None):
    """Today's and tomorrow's treatments that are not cancelled (days at ``location``, by default the clinic's),
    with their client and practitioner in one query."""
    start, _ = day_bounds(today, location)
    _, end = day_bounds(today + timedelta(days=1), location)
    return (
        db.session.execute(
            _active(
                db.select(Treatment)
                .options(
                    joinedload(Treatment.client), joinedload(Treatment.practitioner), joinedload(Treatment.location)
                )
                .where(Treatment.scheduled_at >= start, Treatment.scheduled_at < end, Treatment.status != "cancelled")
            )
            .order_by(Treatment.scheduled_at)
            .limit(100)
        )
        .scalars()
        .all()
    )


def blocked_bookings(today, location=None):
    """Booked treatments from today on that screening blocks: they wait for a manager's override (or a change)."""
    return (
        db.session.execute(
            _active(
                db.select(Treatment)
                .options(joinedload(Treatment.client), joinedload(Treatment.location))
                .where(
                    Treatment.status == "booked",
                    Treatment.screening_status == "blocked",
                    Treatment.scheduled_at >= day_bounds(today, location)[0],
                )
            )
            .order_by(Treatment.scheduled_at)
            .limit(ALERT_ROWS)
        )
        .scalars()
        .all()
    )


def consents_expiring(today):
    """Consents in force that expire within the warning window, soonest first."""
    return (
        db.session.execute(
            db.select(Consent)
            .options(joinedload(Consent.client))
            .join(Client, Client.id == Consent.client_id)
            .where(
                Client.archived_at.is_(None),
                Consent.withdrawn_on.is_(None),
                Consent.expires_on >= today,
                Consent.expires_on <= today + timedelta(days=CONSENT_WARNING_DAYS),
            )
            .order_by(Consent.expires_on)
            .limit(ALERT_ROWS)
        )
        .scalars()
        .all()
    )


def weekly(column, where, today, label, location=None):
    """A bar chart of rows per week over the last 12 weeks (weeks start on Monday, days at ``location``).

    Each week is its own range count in one statement, so the database counts entries of the index on ``column``
    instead of grouping every row by a computed day.
    """
    first_monday = today - timedelta(days=today.weekday() + 7 * (WEEKS - 1))
    starts = [day_bounds(first_monday + timedelta(weeks=w), location)[0] for w in range(WEEKS + 1)]
    counts = dict(
        db.session.execute(
            db.union_all(
                *(
                    db.select(db.literal(w), db.func.count()).where(column >= starts[w], column < starts[w + 1], *where)
                    for w in range(WEEKS)
                )
            )
        ).all()
    )
    labels = tuple((first_monday + timedelta(weeks=w)).strftime("%d %b") for w in range(WEEKS))
    return Chart("bar", labels, ((label, tuple(counts.get(w, 0) for w in range(WEEKS))),), y_label=label.lower())


class HomeView(SecuredIndexView):
    @expose("/")
    def index(self):
        if acting_roles() == {"front_desk"}:  # the front desk's home is today's appointment book
            return redirect(url_for("calendar.index"))
        here = current_user.location
        today = local_today(here)
        page = {
            "treatments": [],
            "blocked": [],
            "consents": [],
            "stock_alerts": [],
            "charts": [],
            "exceptions": [],
            "exceptions_open": 0,
            "modality_label": registry().modality_label,
            "heading": "Today and tomorrow" if user_has_role(*DESK_ROLES) else "Stock: what needs attention",
            "nightly_check": None,
            "show_nightly_check": user_has_role("admin"),
        }
        if page["show_nightly_check"]:
            page["nightly_check"] = last_run(NIGHTLY_CHECK)
        if user_has_role(*DESK_ROLES):
            page["treatments"] = upcoming_treatments(today, here)
            page["consents"] = consents_expiring(today)
        if user_has_role(*CLINICAL_ROLES):
            page["blocked"] = blocked_bookings(today, here)
            chart = weekly(
                Treatment.performed_at,
                (Treatment.status == "performed", Treatment.archived_at.is_(None)),
                today,
                "Treatments",
                here,
            )
            page["charts"].append(("Treatments performed per week", svg(chart, 480, 200, "Treatments per week")))
        if user_has_role(*STOCK_ROLES):
            report = registry().reports.get("stock-on-hand")
            if report is not None:
                page["stock_alerts"] = [row for row in report.run({"today": today}).rows if row[-1]]
            page["exceptions"] = open_exceptions(ALERT_ROWS)
            page["exceptions_open"] = open_count() if len(page["exceptions"]) == ALERT_ROWS else len(page["exceptions"])
            chart = weekly(StockMovement.created_at, (StockMovement.reason == "consumption",), today, "Lots used", here)
            page["charts"].append(
                ("Stock taken by treatments (lot movements) per week", svg(chart, 480, 200, "Stock movements per week"))
            )
        shown = {t.client_id for t in page["treatments"] + page["blocked"]} | {c.client_id for c in page["consents"]}
        if shown:
            audit_read(
                "dashboard.view",
                object_type="Client",
                detail={
                    "treatments": len(page["treatments"]),
                    "blocked": len(page["blocked"]),
                    "consents": len(page["consents"]),
                    "clients": sorted(shown),
                },
            )
        return self.render("admin/index.html", **page)
