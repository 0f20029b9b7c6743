"""One view that lists the reports a role may run and renders any of them (core or plugin)."""
from datetime import date, timedelta

from flask import abort, request
from flask_admin import expose
from flask_security import current_user

from ..audit import audit_read
from ..extensions import db
from ..models import Location
from ..plugins import registry
from .base import ALL_ROLES, SecuredView


def _parse_date(text, default):
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return None


class ReportsView(SecuredView):
    allowed_roles = ALL_ROLES

    def _visible(self):
        roles = current_user.role_names
        return [r for r in registry().reports.values() if roles & set(r.roles)]

    def is_accessible(self):
        return super().is_accessible() and bool(self._visible())

    @expose("/")
    def index(self):
        return self.render("admin/reports_index.html", reports=sorted(self._visible(), key=lambda r: r.title))

    @expose("/<key>")
    def run(self, key):
        report = registry().reports.get(key)
        if report is None:
            abort(404)
        if not current_user.role_names & set(report.roles):
            abort(403)
        today = date.today()
        date_from = _parse_date(request.args.get("date_from"), today - timedelta(days=365))
        date_to = _parse_date(request.args.get("date_to"), today)
        errors = []
        if date_from is None or date_to is None:
            errors.append("Dates must be given as YYYY-MM-DD.")
        elif date_to < date_from:
            errors.append("The end date is before the start date.")
        location_id = request.args.get("location_id", type=int)
        locations = db.session.execute(db.select(Location).order_by(Location.name)).scalars().all()
        result = None
        if not errors:
            result = report.run({"date_from": date_from, "date_to": date_to, "location_id": location_id,
                                 "today": today})
            audit_read("report.run", object_type="Report", object_id=key,
                       detail={"date_from": str(date_from), "date_to": str(date_to), "location_id": location_id,
                               "rows": len(result.rows)})
        return self.render("admin/report.html", report=report, result=result, errors=errors,
                           date_from=date_from, date_to=date_to, location_id=location_id, locations=locations)
