"""The admin home page: today's treatments with their screening status, and what needs attention."""
from datetime import date, datetime, time, timedelta

from flask_admin import expose

from ..audit import audit_read
from ..extensions import db
from ..models import Treatment
from ..plugins import registry
from .base import SecuredIndexView, user_has_role


class HomeView(SecuredIndexView):
    @expose("/")
    def index(self):
        treatments = []
        stock_alerts = []
        if user_has_role("admin", "manager", "practitioner", "front_desk"):
            start = datetime.combine(date.today(), time.min)
            treatments = db.session.execute(
                db.select(Treatment).where(
                    Treatment.scheduled_at >= start, Treatment.scheduled_at < start + timedelta(days=2),
                    Treatment.status != "cancelled", Treatment.archived_at.is_(None),
                ).order_by(Treatment.scheduled_at).limit(100)
            ).scalars().all()
            if treatments:
                audit_read("dashboard.view", object_type="Treatment", detail={"treatments": len(treatments)})
        report = registry().reports.get("stock-on-hand")
        if report is not None and user_has_role("admin", "manager", "stock_clerk"):
            result = report.run({"today": date.today()})
            stock_alerts = [row for row in result.rows if row[-1]]
        return self.render("admin/index.html", treatments=treatments, stock_alerts=stock_alerts,
                           modality_label=registry().modality_label)
