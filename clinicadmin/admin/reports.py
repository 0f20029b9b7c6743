"""One view that lists the reports a role may run and renders any of them (core or plugin): its parameters, its
chart, its table, a CSV download and a printable page. Every run and every download is audited."""

from datetime import date

from flask import abort, request
from flask_admin import expose

from ..audit import audit_read
from ..charts import svg
from ..clock import local_today
from ..export import csv_response
from ..extensions import db
from ..models import Location, Role, User
from ..plugins import registry
from ..rate_limits import rate_limited
from ..reporting import date_range
from .base import ALL_ROLES, SecuredView, acting_roles


def _choices(report):
    """The options of the report's select parameters."""
    choices = {}
    if "location" in report.params:
        choices["location_id"] = [
            (loc.id, loc.name) for loc in db.session.execute(db.select(Location).order_by(Location.name)).scalars()
        ]
    if "practitioner" in report.params:
        choices["practitioner_id"] = [
            (u.id, str(u))
            for u in db.session.execute(
                db.select(User).join(User.roles).where(Role.name == "practitioner").order_by(User.full_name)
            )
            .scalars()
            .unique()
        ]
    if "modality" in report.params:
        choices["modality"] = registry().modality_choices()
    return choices


def read_params(report, args, today):
    """The report's parameters from a query string, and the errors to show instead of running it."""
    params, errors = {"today": today}, []
    if "dates" in report.params:
        params["date_from"], params["date_to"], errors = date_range(args, today)
    for name, key in (("location", "location_id"), ("practitioner", "practitioner_id")):
        if name in report.params:
            params[key] = args.get(key, type=int)
    if "modality" in report.params:
        modality = args.get("modality") or None
        if modality is not None and modality not in registry().modalities:
            errors.append("Choose a modality from the list.")
        params["modality"] = modality
    return params, errors


def _audited(params):
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items() if k != "today"}


class ReportsView(SecuredView):
    allowed_roles = ALL_ROLES

    def _visible(self):
        roles = acting_roles()
        return [r for r in registry().reports.values() if roles & set(r.roles)]

    def is_accessible(self):
        return super().is_accessible() and bool(self._visible())

    def _report(self, key):
        report = registry().reports.get(key)
        if report is None:
            abort(404)
        if not acting_roles() & set(report.roles):
            abort(403)
        return report

    @expose("/")
    def index(self):
        return self.render("admin/reports_index.html", reports=sorted(self._visible(), key=lambda r: r.title))

    @expose("/<key>")
    @rate_limited("reports")
    def run(self, key):
        report = self._report(key)
        params, errors = read_params(report, request.args, local_today())
        result = chart = None
        if not errors:
            result = report.run(params)
            chart = svg(result.chart, title=report.title) if result.chart is not None else None
            audit_read(
                "report.run", object_type="Report", object_id=key, detail={**_audited(params), "rows": len(result.rows)}
            )
        return self.render(
            "admin/report.html",
            report=report,
            result=result,
            chart=chart,
            errors=errors,
            params=params,
            choices=_choices(report),
            query=request.query_string.decode(),
        )

    @expose("/<key>.csv")
    @rate_limited("exports")
    def download(self, key):
        """The report's table as CSV (cells neutralised against formulas); the download is audited."""
        report = self._report(key)
        params, errors = read_params(report, request.args, local_today())
        if errors:
            abort(400, description=" ".join(errors))
        result = report.run(params)
        audit_read(
            "report.export", object_type="Report", object_id=key, detail={**_audited(params), "rows": len(result.rows)}
        )
        return csv_response(f"{key}-{params['today'].isoformat()}.csv", result.columns, result.rows)
