"""One test per plugin hook (``test_hook_<name>``), each through the surface a user sees; and a check that every
hook in ``hookspecs.py`` has its section in docs/plugin-hooks.md and its test here."""
import inspect
import re
from datetime import datetime

import pytest
from flask_admin import expose
from wtforms import StringField
from wtforms.validators import InputRequired

from clinicadmin import hookspecs
from clinicadmin.admin.base import SecuredView
from clinicadmin.config import PROJECT_ROOT
from clinicadmin.extensions import db
from clinicadmin.plugin_api import Consumption, Finding, Report, ReportResult, SettingSpec, hookimpl
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
    assert "optgroup label=&#34;Conditions&#34;&gt;&lt;option value=&#34;test_condition&#34;&gt;A test condition" in page
    assert "optgroup label=&#34;Pregnancy and similar states&#34;" in page and "Dermal filler (date it happened)" in page


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
    data = {"performed_at": datetime.now().strftime("%Y-%m-%dT%H:%M"), "details-product": core.supply.id,
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
