"""The report framework and the core's reports: parameters, figures, chart, CSV (neutralised, audited) and roles."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from shipped_plugins import ALL_SHIPPED

from clinicadmin.clock import local_today
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Course
from clinicadmin.treatment_flow import record

KEY = "testmod"


def _client(core, first, last, **kwargs):
    """A client whose consent and reviewed history date from before the fixed dates these tests use."""
    client = core.client(first=first, last=last, consents=[KEY], **kwargs)
    client.intake_reviewed_on = date(2025, 12, 1)
    for consent in client.consents:
        consent.signed_on = date(2025, 12, 1)
    db.session.commit()
    return client


def _performed(core, client, when, practitioner="practitioner", course=None):
    treatment = core.booked(client, KEY, practitioner=practitioner, when=when)
    if course is not None:
        treatment.course = course
    record(
        treatment,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=when,
        notes=None,
        user=core.staff[practitioner],
    )
    return treatment


@pytest.fixture
def busy(core):
    """Two months of work: Ann treated in January and again in February (returning), Bob once in February by the
    manager; Ann's course of 3 has 2 sessions done."""
    core.lot(core.supply, "L-MAIN", 50)
    ann = _client(core, "Ann", "Again")
    bob = _client(core, "Bob", "Once")
    course = Course(client=ann, modality=KEY, planned_sessions=3, started_on=datetime(2026, 1, 5, tzinfo=UTC).date())
    db.session.add(course)
    db.session.commit()
    _performed(core, ann, datetime(2026, 1, 5, 10, tzinfo=UTC), course=course)
    _performed(core, ann, datetime(2026, 2, 9, 10, tzinfo=UTC), course=course)
    _performed(core, bob, datetime(2026, 2, 10, 11, tzinfo=UTC), practitioner="manager")
    return core


def _csv(http, key, **args):
    query = "&".join(f"{k}={v}" for k, v in {"date_from": "2026-01-01", "date_to": "2026-02-28", **args}.items())
    response = http.get(f"/admin/reports/{key}.csv?{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_treatments_per_modality_counts_sessions_and_clients_per_month(busy, login):
    rows = _csv(login("manager"), "treatments-per-modality")
    assert rows == [
        ["Month", "Modality", "Sessions", "Clients"],
        ["2026-01", "Test modality", "1", "1"],
        ["2026-02", "Test modality", "2", "2"],
    ]


def test_report_filters_narrow_the_rows(busy, login):
    manager = login("manager")
    by_manager = _csv(manager, "treatments-per-modality", practitioner_id=busy.staff["manager"].id)
    assert by_manager[1:] == [["2026-02", "Test modality", "1", "1"]]
    assert _csv(manager, "treatments-per-modality", date_from="2026-02-01")[1:] == [
        ["2026-02", "Test modality", "2", "2"]
    ]


def test_practitioner_activity(busy, login):
    rows = _csv(login("manager"), "practitioner-activity")
    assert rows[1:] == [["Test practitioner", "2", "1", "1"], ["Test manager", "1", "1", "1"]]


def test_client_retention_tells_new_from_returning(busy, login):
    rows = _csv(login("manager"), "client-retention")
    assert rows[1:] == [["2026-01", "1", "1", "0", "0%"], ["2026-02", "2", "1", "1", "50%"]]


def test_course_completion_and_exports_are_neutralised_and_audited(busy, login):
    manager = login("manager")
    rows = _csv(manager, "course-completion")
    assert rows[1] == ["Again, Ann", "Test modality", "2026-01-05", "3", "2", "0", "1", "67%"]
    treated = _client(busy, "Cy", "-2+3")
    db.session.add(Course(client=treated, modality=KEY, planned_sessions=2, started_on=date(2026, 2, 1)))
    db.session.commit()
    cells = [r[0] for r in _csv(manager, "course-completion")]
    assert "'-2+3, Cy" in cells  # a cell that a spreadsheet would compute is shown as text
    exports = db.session.execute(
        db.select(AuditEvent.object_id, AuditEvent.detail).where(AuditEvent.action == "report.export")
    ).all()
    assert "course-completion" in {e.object_id for e in exports} and any(
        e.detail.get("date_from") == "2026-01-01" for e in exports
    )


def test_screening_over_time_counts_current_findings(busy, login):
    client = _client(busy, "Di", "Abetic", history=[("diabetes", 400)])
    busy.booked(client, KEY, when=datetime(2026, 2, 20, 9, tzinfo=UTC))
    today = local_today()
    rows = _csv(login("manager"), "screening-over-time", date_to=today.isoformat())
    assert rows[0] == ["Month", "Blocks", "Warnings", "Acknowledged", "Overridden"]
    this_month = {r[0]: r for r in rows}[f"{today:%Y-%m}"]  # by the month the screening ran
    assert this_month[1:] == ["0", "1", "0", "0"]


def test_stock_value_and_expiring_lots(core, login):
    core.supply.unit_cost = Decimal("2.50")
    db.session.commit()
    core.lot(core.supply, "FRESH", 10, expires_in_days=300)
    core.lot(core.supply, "SOON", 4, expires_in_days=10)
    core.lot(core.supply, "GONE", 3, expires_in_days=-2)
    clerk = login("stock_clerk")
    value = list(csv.reader(io.StringIO(clerk.get("/admin/reports/stock-value.csv").get_data(as_text=True))))
    assert value[1] == ["Test Clinic", "1", "35.00", "0"]  # 14 usable units at 2.50; the expired lot is not counted
    expiring = list(csv.reader(io.StringIO(clerk.get("/admin/reports/lots-expiring.csv").get_data(as_text=True))))
    assert [(r[2], r[6]) for r in expiring[1:]] == [("GONE", "EXPIRED: write off"), ("SOON", "in 10 days")]


def test_a_report_page_draws_its_chart_and_offers_csv_and_print(busy, login):
    page = (
        login("manager")
        .get("/admin/reports/treatments-per-modality?date_from=2026-01-01&date_to=2026-02-28")
        .get_data(as_text=True)
    )
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in page
    assert "<title>Test modality, 2026-02: 2</title>" in page
    assert "treatments-per-modality.csv?date_from=2026-01-01" in page and 'id="print-button"' in page
    assert '<select class="form-control form-control-sm mr-2" id="practitioner_id"' in page


@pytest.mark.parametrize(
    "query, message",
    [
        ("date_from=2026-02-30", "Dates must be given as YYYY-MM-DD."),
        ("date_from=2026-03-01&date_to=2026-02-01", "The end date is before the start date."),
        ("date_from=2020-01-01&date_to=2026-01-01", "Choose a period of at most 3 years."),
        ("modality=nope", "Choose a modality from the list."),
    ],
)
def test_bad_parameters_get_a_message_and_run_nothing(busy, login, query, message):
    manager = login("manager")
    page = manager.get(f"/admin/reports/treatments-per-modality?{query}")
    assert page.status_code == 200 and message in page.get_data(as_text=True)
    assert manager.get(f"/admin/reports/treatments-per-modality.csv?{query}").status_code == 400
    assert not db.session.execute(db.select(AuditEvent).where(AuditEvent.action.like("report.%"))).first()


def test_reports_are_shown_to_their_roles_only(busy, login):
    clerk = login("stock_clerk")
    assert clerk.get("/admin/reports/stock-value").status_code == 200
    for key in ("treatments-per-modality", "course-completion", "client-retention"):
        assert clerk.get(f"/admin/reports/{key}").status_code == 403
        assert clerk.get(f"/admin/reports/{key}.csv").status_code == 403
    assert "Course completion" not in clerk.get("/admin/reports/").get_data(as_text=True)


def test_chart_labels_are_escaped(busy, login):
    busy.staff["manager"].full_name = "<script>alert(1)</script>"
    db.session.commit()
    page = (
        login("manager")
        .get("/admin/reports/practitioner-activity?date_from=2026-01-01&date_to=2026-02-28")
        .get_data(as_text=True)
    )
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_every_report_of_every_shipped_plugin_runs_on_the_demo_clinic(app_factory):
    """Every report registered by the core and the shipped plugins: its page (with a chart where it draws one) and
    its CSV, for the admin, over the demo clinic."""
    from clinicadmin.demo import load_demo
    from clinicadmin.plugins import registry
    from clinicadmin.testing import StaffClient

    app = app_factory(PLUGINS_ENABLED=ALL_SHIPPED)
    with app.app_context():
        logins = load_demo()
        reports = registry().reports
        modality_plugins = {registry().modality_plugin[key] for key in registry().modalities}
        assert len(modality_plugins) >= 5
        admin = StaffClient(app, "admin@example.com", logins["admin@example.com"])
        charted = set()
        for key in reports:
            page = admin.get(f"/admin/reports/{key}")
            assert page.status_code == 200, key
            if 'class="chart"' in page.get_data(as_text=True):
                charted.add(key)
            assert admin.get(f"/admin/reports/{key}.csv").status_code == 200, key
        owners = {
            impl.plugin_name
            for impl in app.extensions["clinicadmin"].pm.hook.register_reports.get_hookimpls()
            if any(r.key in charted for r in (impl.function() or []))
        }
        assert modality_plugins <= owners  # each modality plugin has a report of its own, with a chart
