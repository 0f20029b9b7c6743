"""One test per plugin hook (``test_hook_<name>``), each through the surface a user sees; and a check that every
hook in ``hookspecs.py`` has its section in docs/plugin-hooks.md and its test here."""
import inspect
import re
from datetime import UTC, datetime

import pytest
from flask_admin import expose
from wtforms import StringField
from wtforms.validators import InputRequired

from clinicadmin import hookspecs
from clinicadmin.admin.base import SecuredView
from clinicadmin.config import PROJECT_ROOT
from clinicadmin.extensions import db
from clinicadmin.plugin_api import (Consumption, Finding, Modality, Qualification, Report, ReportResult, ResourceKind,
                                   SettingSpec, hookimpl)
from clinicadmin.treatment_flow import TreatmentRejected, record

from fake_modality import KEY, FakeModality

SPECS = sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "clinicadmin_spec"))


def test_every_hook_is_documented_and_tested():
    docs = (PROJECT_ROOT / "docs" / "plugin-hooks.md").read_text()
    tests = set(re.findall(r"^def (test_hook_\w+)\(", (PROJECT_ROOT / "tests" / "test_hooks.py").read_text(), re.M))
    assert len(SPECS) >= 10
    for name in SPECS:
        assert re.search(rf"^## `?{name}\(", docs, re.M), f"docs/plugin-hooks.md has no section for {name}"
        assert any(t == f"test_hook_{name}" or t.startswith(f"test_hook_{name}_") for t in tests), \
            f"no test_hook_{name} in tests/test_hooks.py"


def _with(*plugins):
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), *plugins]}


def test_hook_register_modality(core, login):
    http = login("manager")
    for url in ("/admin/desk/book", "/admin/consent/new/", "/admin/certification/new/"):
        assert '<option value="testmod">Test modality</option>' in http.get(url).get_data(as_text=True), url


def test_hook_register_conditions(core, login):
    page = login("practitioner").get("/admin/client/new/").get_data(as_text=True)
    # The inline form's template is escaped into the page: the codes arrive grouped by kind, dated ones marked.
    assert ("optgroup label=&#34;Conditions&#34;&gt;&lt;option value=&#34;test_condition&#34;&gt;A test condition"
            in page)
    assert "optgroup label=&#34;Pregnancy and similar states&#34;" in page
    assert "Dermal filler (date it happened)" in page


class Strict:
    @hookimpl
    def register_settings(self):
        return [SettingSpec("strict.max_age", "Strict: oldest client treated (years)", 70, minimum=18, maximum=120)]

    @hookimpl
    def check_contraindications(self, treatment, history, settings):
        if settings["strict.max_age"] < 50:
            return [Finding("strict.age", "warn", f"Limit is {settings['strict.max_age']} years.")]


@pytest.mark.parametrize("app_config", [_with(("strict", Strict()))])
def test_hook_register_settings(core, login):
    http = login("manager")
    page = http.get("/admin/settings/").get_data(as_text=True)
    assert "Strict: oldest client treated (years)" in page and 'value="70"' in page
    assert "must be at most 120" in http.post("/admin/settings/", data={"strict.max_age": "121"}).get_data(as_text=True)
    assert http.post("/admin/settings/", data={"strict.max_age": "40"}).status_code == 302
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    assert [f.message for f in treatment.current_findings()] == ["Limit is 40 years."]


class WithHelp:
    @hookimpl
    def treatment_form_fields(self, modality):
        if modality == KEY:
            return {"site": StringField("Site <b>bold</b>", description="<script>alert(1)</script>",
                                        validators=[InputRequired()])}


@pytest.mark.parametrize("app_config", [_with(("withhelp", WithHelp()))])
def test_hook_treatment_form_fields(core, login):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    http = login("practitioner")
    page = http.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    assert 'name="details-site"' in page and 'name="details-amount"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    core.lot(core.supply, "L", 5)
    data = {"performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"), "details-product": core.supply.id,
            "details-amount": "1", "details-site": ""}
    assert "This field is required." in http.post(f"/admin/desk/{treatment.id}/record", data=data).get_data(as_text=True)
    data["details-site"] = "left cheek"
    assert http.post(f"/admin/desk/{treatment.id}/record", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(treatment), treatment.id).details == {
        "product": core.supply.id, "amount": "1", "site": "left cheek"}


class Seen:
    calls = []

    @hookimpl
    def check_contraindications(self, treatment, history, settings):
        Seen.calls.append((treatment.modality, history.active("diabetes"), settings["testmod.interval_days"]))
        return None


@pytest.mark.parametrize("app_config", [_with(("seen", Seen()))])
def test_hook_check_contraindications(core):
    Seen.calls.clear()
    core.booked(core.client(history=[("diabetes", 10)], consents=[KEY]), KEY)
    assert Seen.calls == [(KEY, True, 7)]


class AlsoUses:
    @hookimpl
    def consumables(self, treatment):
        return [Consumption(treatment.details["product"], 2)]


class BrokenUses:
    @hookimpl
    def consumables(self, treatment):
        raise KeyError("cartridge")


@pytest.mark.parametrize("app_config", [_with(("alsouses", AlsoUses()))])
def test_hook_consumables_from_every_plugin_are_merged(core):
    core.lot(core.supply, "L", 10)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    record(treatment, details={"product": core.supply.id, "amount": "1.5"}, performed_at=treatment.scheduled_at,
           notes=None, user=core.staff["practitioner"])
    assert [m.quantity for m in treatment.stock_movements] == [-3.5]


@pytest.mark.parametrize("app_config", [_with(("brokenuses", BrokenUses()))])
def test_hook_consumables_that_fail_reject_the_recording(core):
    core.lot(core.supply, "L", 10)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    with pytest.raises(TreatmentRejected, match="brokenuses"):
        record(treatment, details={"product": core.supply.id, "amount": "1"}, performed_at=treatment.scheduled_at,
               notes=None, user=core.staff["practitioner"])
    db.session.expire_all()
    assert db.session.get(type(treatment), treatment.id).status == "booked"


def test_hook_aftercare(core, login):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    page = login("practitioner").get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert page.index("Rest for a day.") < page.index("Drink water.")


def _rows(params):
    return ReportResult(("Thing", "Count"), [("<b>apples</b>", 3)])


class Reporting:
    @hookimpl
    def register_reports(self):
        return [Report("fruit", "Fruit report", _rows, roles=("manager",), description="Counts fruit.")]


@pytest.mark.parametrize("app_config", [_with(("reporting", Reporting()))])
def test_hook_register_reports(core, login):
    manager = login("manager")
    assert "Fruit report" in manager.get("/admin/reports/").get_data(as_text=True)
    page = manager.get("/admin/reports/fruit").get_data(as_text=True)
    assert "&lt;b&gt;apples&lt;/b&gt;" in page and "<td>3</td>" in page
    assert login("practitioner").get("/admin/reports/fruit").status_code == 403
    assert "Dates must be given as YYYY-MM-DD." in manager.get(
        "/admin/reports/fruit?date_from=2024-99-01").get_data(as_text=True)


class ManagerPage(SecuredView):
    allowed_roles = ("manager",)

    @expose("/")
    def index(self):
        return "plugin page"


class WithPage:
    @hookimpl
    def register_admin_views(self):
        return [ManagerPage(name="Plugin page", endpoint="plugin_page", url="/admin/plugin-page")]


@pytest.mark.parametrize("app_config", [_with(("paged", WithPage()))])
def test_hook_register_admin_views(app, login):
    assert login("manager").get("/admin/plugin-page/").get_data(as_text=True) == "plugin page"
    assert login("stock_clerk").get("/admin/plugin-page/").status_code == 403
    assert "/login" in app.test_client().get("/admin/plugin-page/").headers["Location"]


class Demo:
    @hookimpl
    def demo_data(self, demo):
        product = demo.product("DEMO-1", "Demo product", "consumable", "unit", 5)
        demo.lot(product, "D-LOT", 30, 2)


@pytest.mark.parametrize("app_config", [_with(("demo", Demo()))])
def test_hook_demo_data(app):
    from clinicadmin.demo import load_demo
    from clinicadmin.models import StockLot

    load_demo()
    load_demo()
    lots = db.session.execute(db.select(StockLot).join(StockLot.product).where(
        StockLot.lot_number == "D-LOT")).scalars().all()
    assert [lot.quantity for lot in lots] == [10]


class Injections:
    @hookimpl
    def register_qualifications(self):
        return [Qualification("injections", "Injections (licensed injector)")]


@pytest.mark.parametrize("app_config", [_with(("injections", Injections()))])
def test_hook_register_qualifications(core, login):
    manager = login("manager")
    page = manager.get("/admin/certification/new/").get_data(as_text=True)
    assert '<option value="injections">Injections (licensed injector)</option>' in page
    from datetime import date

    assert manager.post("/admin/certification/new/", data={
        "user": core.staff["practitioner"].id, "scope": "injections", "licence_number": "INJ-7",
        "valid_until": date.today().replace(year=date.today().year + 1).isoformat()}).status_code == 302
    assert "Injections (licensed injector)" in manager.get("/admin/certification/").get_data(as_text=True)


class NeedsALaser:
    """A modality that takes a room and a laser, and the laser kind it registers."""

    @hookimpl
    def register_resource_kinds(self):
        return [ResourceKind("laser", "Laser", "A laser device.")]

    @hookimpl
    def register_modality(self):
        return Modality("lasered", "Laser session", duration_minutes=20, resources=("treatment_room", "laser"))


@pytest.mark.parametrize("app_config", [_with(("laser", NeedsALaser()))])
def test_hook_register_resource_kinds(core, login):
    manager = login("manager")
    assert '<option value="laser">Laser</option>' in manager.get("/admin/resource/new/").get_data(as_text=True)
    from clinicadmin.models import Resource

    db.session.execute(db.update(Resource).where(Resource.kind == "laser").values(active=False))  # out of use
    db.session.commit()
    client = core.client(consents=["lasered"])
    core.certify("practitioner", "lasered")  # the booking form offers only certified practitioners
    when = datetime.now(UTC).replace(second=0, microsecond=0)
    refused = manager.post("/admin/desk/book", data={
        "client": client.id, "modality": "lasered", "practitioner": core.staff["practitioner"].id,
        "location": core.location.id, "scheduled_at": when.strftime("%Y-%m-%dT%H:%M")}).get_data(as_text=True)
    assert "Test Clinic has no laser on file" in refused
    assert manager.post("/admin/resource/new/", data={"location": core.location.id, "kind": "laser",
                                                      "name": "Laser 2", "active": "y"}).status_code == 302
    booked = core.booked(client, "lasered", when=when)
    assert sorted((r.kind, r.resource.name) for r in booked.resources) == [
        ("laser", "Laser 2"), ("treatment_room", "Test treatment room")]
    assert (booked.ends_at - booked.busy_from).total_seconds() == 20 * 60


class Keeps:
    """Keeps a row about each recorded treatment (in the audit table, which every test database has)."""

    @hookimpl
    def treatment_recorded(self, treatment):
        from clinicadmin.models import AuditEvent

        db.session.add(AuditEvent(action="keeps.recorded", object_type="Treatment", object_id=str(treatment.id)))


class Refuses:
    @hookimpl
    def treatment_recorded(self, treatment):
        raise ValueError("disk full")


@pytest.mark.parametrize("app_config", [_with(("keeps", Keeps()))])
def test_hook_treatment_recorded_rows_commit_with_the_treatment(core):
    from clinicadmin.models import AuditEvent

    core.lot(core.supply, "L", 10)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    record(treatment, details={"product": core.supply.id, "amount": "1"}, performed_at=treatment.scheduled_at,
           notes=None, user=core.staff["practitioner"])
    db.session.expire_all()
    assert db.session.execute(db.select(AuditEvent.object_id).where(AuditEvent.action == "keeps.recorded")
                              ).scalars().all() == [str(treatment.id)]


@pytest.mark.parametrize("app_config", [_with(("keeps", Keeps()), ("refuses", Refuses()))])
def test_hook_treatment_recorded_that_fails_refuses_the_recording(core):
    from clinicadmin.models import AuditEvent, StockLot

    core.lot(core.supply, "L", 10)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    with pytest.raises(TreatmentRejected, match="refuses .*disk full"):
        record(treatment, details={"product": core.supply.id, "amount": "1"}, performed_at=treatment.scheduled_at,
               notes=None, user=core.staff["practitioner"])
    db.session.expire_all()
    assert db.session.get(type(treatment), treatment.id).status == "booked"
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 10
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "keeps.recorded")).first() is None


NOTES_PLUGIN = '''
from pathlib import Path
from clinicadmin.plugin_api import hookimpl

@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"
'''

NOTES_REVISION = '''
import sqlalchemy as sa
from alembic import op

revision = "notes0001"
down_revision = None
branch_labels = ("notes",)
depends_on = "b542b2e3a88c"

def upgrade():
    op.create_table("notes_note", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("treatment_id", sa.Integer, sa.ForeignKey("treatment.id"), nullable=False))

def downgrade():
    op.drop_table("notes_note")
'''


def test_hook_register_migrations(tmp_path):
    """``clinicadmin db upgrade``, run as a person would, applies the core's revisions and the plugin's branch."""
    import os
    import sqlite3
    import subprocess
    import sys

    package = tmp_path / "plugins" / "notes"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text(NOTES_PLUGIN)
    (package / "migrations" / "notes0001_notes.py").write_text(NOTES_REVISION)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLINICADMIN_")},
           "CLINICADMIN_INSTANCE_PATH": str(tmp_path / "instance"),
           "CLINICADMIN_PLUGINS_DIR": str(tmp_path / "plugins"), "CLINICADMIN_PLUGINS_ENABLED": '["notes"]'}

    def clinicadmin(*args):
        return subprocess.run([sys.executable, "-c", "from clinicadmin.cli import main; main()", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=True).stdout

    clinicadmin("db", "upgrade")
    tables = {r[0] for r in sqlite3.connect(tmp_path / "instance" / "clinicadmin.sqlite").execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"notes_note", "treatment", "client"} <= tables
    heads = clinicadmin("db", "heads")
    assert "notes0001 (notes) (head)" in heads and heads.count("(head)") == 2
