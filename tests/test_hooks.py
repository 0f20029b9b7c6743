"""One test per plugin hook (``test_hook_<name>``), each through the surface a user sees; and a check that every
hook in ``hookspecs.py`` has its test here (its section in docs/plugin-hooks.md, with its exact signature, is held
by tests/test_plugin_reference.py)."""

import inspect
import re
from datetime import UTC, datetime, timedelta

import pytest
from fake_modality import KEY, FakeModality
from flask_admin import expose
from test_diagrams import CHARTED, Charted
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Optional

from clinicadmin import hookspecs
from clinicadmin.admin.base import SecuredView
from clinicadmin.clock import local_today
from clinicadmin.config import PROJECT_ROOT
from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import (
    ClientField,
    Consumption,
    Finding,
    Modality,
    ProductCategory,
    Qualification,
    Report,
    ReportResult,
    ResourceKind,
    SettingSpec,
    hookimpl,
)
from clinicadmin.treatment_flow import TreatmentRejected, record

SPECS = sorted(
    name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "clinicadmin_spec")
)


def test_every_hook_is_tested():
    tests = set(re.findall(r"^def (test_hook_\w+)\(", (PROJECT_ROOT / "tests" / "test_hooks.py").read_text(), re.M))
    assert len(SPECS) >= 10
    for name in SPECS:
        assert any(t == f"test_hook_{name}" or t.startswith(f"test_hook_{name}_") for t in tests), (
            f"no test_hook_{name} in tests/test_hooks.py"
        )


def _with(*plugins):
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), *plugins]}


def test_hook_register_modality(core, login):
    http = login("manager")
    for url in ("/admin/desk/book", "/admin/consent/new/", "/admin/certification/new/"):
        assert '<option value="testmod">Test modality</option>' in http.get(url).get_data(as_text=True), url


def test_hook_register_conditions(core, login):
    page = login("practitioner").get("/admin/client/new/").get_data(as_text=True)
    # The inline form's template is escaped into the page: the codes arrive grouped by kind, dated ones marked.
    assert (
        "optgroup label=&#34;Conditions&#34;&gt;&lt;option value=&#34;test_condition&#34;&gt;A test condition" in page
    )
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


def _owned_by(owner, *plugins):
    """The test modality owned by ``owner`` (a FakeModality with form fields of its own), with ``plugins``."""
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", owner), *plugins]}


class WithHelp(FakeModality):
    @hookimpl
    def treatment_form_fields(self, modality):
        if modality == KEY:
            return {
                **super().treatment_form_fields(modality),
                "site": StringField(
                    "Site <b>bold</b>", description="<script>alert(1)</script>", validators=[InputRequired()]
                ),
            }


@pytest.mark.parametrize("app_config", [_owned_by(WithHelp())])
def test_hook_treatment_form_fields(core, login):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    http = login("practitioner")
    page = http.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    assert 'name="details-site"' in page and 'name="details-amount"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    core.lot(core.supply, "L", 5)
    data = {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-product": core.supply.id,
        "details-amount": "1",
        "details-site": "",
    }
    page = http.post(f"/admin/desk/{treatment.id}/record", data=data).get_data(as_text=True)
    assert "This field is required." in page
    data["details-site"] = "left cheek"
    assert http.post(f"/admin/desk/{treatment.id}/record", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(treatment), treatment.id).details == {
        "product": core.supply.id,
        "amount": "1",
        "site": "left cheek",
    }


class Seen:
    calls: list[tuple[str, bool, int]] = []

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
    record(
        treatment,
        details={"product": core.supply.id, "amount": "1.5"},
        performed_at=treatment.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    assert [m.quantity for m in treatment.stock_movements] == [-3.5]


@pytest.mark.parametrize("app_config", [_with(("brokenuses", BrokenUses()))])
def test_hook_consumables_that_fail_reject_the_recording(core):
    core.lot(core.supply, "L", 10)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    with pytest.raises(TreatmentRejected, match="brokenuses"):
        record(
            treatment,
            details={"product": core.supply.id, "amount": "1"},
            performed_at=treatment.scheduled_at,
            notes=None,
            user=core.staff["practitioner"],
        )
    db.session.expire_all()
    assert db.session.get(type(treatment), treatment.id).status == "booked"


def test_hook_aftercare(core, login):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    page = login("practitioner").get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert page.index("Rest for a day.") < page.index("Drink water.")


class Spacing(FakeModality):
    """Aftercare and a recording field that follow the clinic's interval setting."""

    @hookimpl(tryfirst=True)
    def aftercare(self, treatment, settings):
        if treatment.modality == KEY:
            return [f"Book the next session in {settings['testmod.interval_days']} days or more."]

    @hookimpl
    def treatment_form_fields(self, modality, settings):
        if modality == KEY:
            return {
                **super().treatment_form_fields(modality),
                "next_in_days": IntegerField(
                    "Next session in (days)", default=settings["testmod.interval_days"], validators=[Optional()]
                ),
            }


@pytest.mark.parametrize("app_config", [_owned_by(Spacing())])
def test_hook_aftercare_and_treatment_form_fields_receive_the_clinics_settings(core, login):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    http = login("practitioner")
    assert "in 7 days or more." in http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert re.search(
        r'name="details-next_in_days"[^>]*value="7"',
        http.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True),
    )
    assert login("manager").post("/admin/settings/", data={"testmod.interval_days": "21"}).status_code == 302
    assert "in 21 days or more." in http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert re.search(
        r'name="details-next_in_days"[^>]*value="21"',
        http.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True),
    )


class Sided(FakeModality):
    """Asks at booking which side is treated, and blocks the left; the question's help follows a setting."""

    @hookimpl
    def booking_form_fields(self, modality, settings):
        if modality == KEY:
            return {
                "side": SelectField(
                    "Side to treat",
                    choices=[("left", "Left"), ("right", "Right")],
                    validators=[InputRequired()],
                    description=f"<b>Asked</b> {settings['testmod.interval_days']} days ahead",
                )
            }

    @hookimpl
    def check_contraindications(self, treatment, history, settings):
        found = super().check_contraindications(treatment, history, settings) or []
        if treatment.modality == KEY and (treatment.details or {}).get("side") == "left":
            found.append(Finding("sided.left", "block", "The left side is not treated here."))
        return found


def _book_sided(core, http, hour=11, **extra):
    when = (datetime.now(UTC) + timedelta(days=2)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return http.post(
        "/admin/desk/book",
        data={
            "client": str(core.client(consents=[KEY]).id),
            "modality": KEY,
            "practitioner": str(core.staff["practitioner"].id),
            "location": str(core.location.id),
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
            "questions_for": KEY,  # as the page showing the booking questions sends it
            **extra,
        },
    )


@pytest.mark.parametrize("app_config", [_owned_by(Sided())])
def test_hook_booking_form_fields(core, login):
    desk = login("front_desk")
    page = desk.get(f"/admin/desk/book?modality={KEY}").get_data(as_text=True)
    assert 'name="details-side"' in page and "&lt;b&gt;Asked&lt;/b&gt; 7 days ahead" in page
    refused = _book_sided(core, desk, **{"details-side": "up"})
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count()).select_from(Treatment)).scalar() == 0
    assert _book_sided(core, desk, **{"details-side": "left"}).status_code == 302
    assert _book_sided(core, desk, hour=14, **{"details-side": "right"}).status_code == 302
    db.session.expire_all()
    left, right = db.session.execute(db.select(Treatment).order_by(Treatment.id)).scalars().all()
    assert (left.screening_status, left.details) == ("blocked", {"side": "left"})
    assert (right.screening_status, right.details) == ("clear", {"side": "right"})
    http = login("practitioner")
    assert "The left side is not treated here." in http.get(f"/admin/desk/{left.id}").get_data(as_text=True)
    # The recording form has the booking field (the plugin's recording fields do not repeat it), pre-filled and kept.
    form = http.get(f"/admin/desk/{right.id}/record").get_data(as_text=True)
    assert re.search(r'<option selected value="right">Right</option>', form)
    core.lot(core.supply, "L", 5)
    data = {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-product": core.supply.id,
        "details-amount": "1",
        "details-side": "right",
    }
    assert http.post(f"/admin/desk/{right.id}/record", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Treatment, right.id).details == {"product": core.supply.id, "amount": "1", "side": "right"}


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
    assert "Dates must be given as YYYY-MM-DD." in manager.get("/admin/reports/fruit?date_from=2024-99-01").get_data(
        as_text=True
    )


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
    lots = (
        db.session.execute(db.select(StockLot).join(StockLot.product).where(StockLot.lot_number == "D-LOT"))
        .scalars()
        .all()
    )
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

    assert (
        manager.post(
            "/admin/certification/new/",
            data={
                "user": core.staff["practitioner"].id,
                "scope": "injections",
                "licence_number": "INJ-7",
                "valid_until": local_today().replace(year=local_today().year + 1).isoformat(),
            },
        ).status_code
        == 302
    )
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
    refused = manager.post(
        "/admin/desk/book",
        data={
            "client": client.id,
            "modality": "lasered",
            "practitioner": core.staff["practitioner"].id,
            "location": core.location.id,
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
        },
    ).get_data(as_text=True)
    assert "Test Clinic has no laser on file" in refused
    assert (
        manager.post(
            "/admin/resource/new/",
            data={"location": core.location.id, "kind": "laser", "name": "Laser 2", "active": "y"},
        ).status_code
        == 302
    )
    booked = core.booked(client, "lasered", when=when)
    assert sorted((r.kind, r.resource.name) for r in booked.resources) == [
        ("laser", "Laser 2"),
        ("treatment_room", "Test treatment room"),
    ]
    assert (booked.ends_at - booked.busy_from).total_seconds() == 20 * 60


class Peels:
    """A peel modality whose solutions are a category of their own, so that its picker never offers another's."""

    @hookimpl
    def register_product_categories(self):
        return [ProductCategory("peel_solution", "Peel solutions", "Acids applied in a chemical peel.")]

    @hookimpl
    def register_modality(self):
        return Modality("peel", "Chemical peel")

    @hookimpl
    def treatment_form_fields(self, modality):
        from clinicadmin.forms import ProductField

        if modality == "peel":
            return {
                "solution": ProductField("Peel solution", categories=["peel_solution"], validators=[InputRequired()])
            }


@pytest.mark.parametrize("app_config", [_with(("peels", Peels()))])
def test_hook_register_product_categories(core, login):
    clerk = login("stock_clerk")
    page = clerk.get("/admin/product/new/").get_data(as_text=True)
    assert '<option value="peel_solution">Peel solutions</option>' in page
    assert '<option value="solution">Solutions</option>' in page  # the core's general categories stay
    assert (
        clerk.post(
            "/admin/product/new/",
            data={
                "sku": "PEEL-30",
                "name": "Product glycolic peel 30%",
                "category": "peel_solution",
                "unit": "mL",
                "pack_size": "30",
                "reorder_level": "0",
                "active": "y",
            },
        ).status_code
        == 302
    )
    dextrose = core.product("DEX-1", category="solution", unit="mL")  # "Product DEX-1"
    assert "Peel solutions" in clerk.get("/admin/product/").get_data(as_text=True)
    # the peel's picker offers the peel solution only, though another solution's name starts the same
    practitioner = login("practitioner")

    def offered(name):
        return sorted(
            label.split(" [")[0]
            for _, label in practitioner.get(
                "/admin/desk/ajax/lookup/", query_string={"name": name, "query": "Product"}
            ).get_json()
        )

    assert offered("product-peel_solution") == ["Product glycolic peel 30%"]
    assert dextrose.name in offered("product")


class SkinType:
    """Keeps the client's skin type on the client and warns, when it is dark, from its check."""

    @hookimpl
    def register_client_fields(self):
        return [
            ClientField(
                "skin_type", "Skin type", choices=(("light", "Light"), ("dark", "Dark")), help="Decides the depth."
            )
        ]

    @hookimpl
    def check_contraindications(self, treatment, history):
        if treatment.modality == KEY and history.client_field("skin_type") == "dark":
            return [Finding("skin.dark", "warn", "Dark skin: pigmentation risk.")]


@pytest.mark.parametrize("app_config", [_with(("skin", SkinType()))])
def test_hook_register_client_fields(core, login):
    http = login("practitioner")
    page = http.get("/admin/client/new/").get_data(as_text=True)
    assert '<option value="dark">Dark</option>' in page and "Decides the depth." in page
    assert (
        http.post(
            "/admin/client/new/",
            data={
                "first_name": "Ada",
                "last_name": "Skin",
                "date_of_birth": "1980-01-01",
                "client_field-skin_type": "dark",
                "intake_reviewed_on": core.today.isoformat(),
            },
        ).status_code
        == 302
    )
    from clinicadmin.models import Client

    client = db.session.execute(db.select(Client).where(Client.last_name == "Skin")).scalar_one()
    assert client.plugin_fields == {"skin_type": "dark"} and client.field_value("skin_type") == "dark"
    assert "Skin type: Dark" in http.get(f"/admin/client/details/?id={client.id}").get_data(as_text=True)
    from clinicadmin.models import Consent

    db.session.add(Consent(client=client, modality=KEY, signed_on=core.today))
    db.session.commit()
    treatment = core.booked(client, KEY)
    assert [(f.code, f.message) for f in treatment.current_findings() if f.plugin == "skin"] == [
        ("skin.dark", "Dark skin: pigmentation risk.")
    ]


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
    record(
        treatment,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=treatment.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    db.session.expire_all()
    assert db.session.execute(
        db.select(AuditEvent.object_id).where(AuditEvent.action == "keeps.recorded")
    ).scalars().all() == [str(treatment.id)]


@pytest.mark.parametrize("app_config", [_with(("keeps", Keeps()), ("refuses", Refuses()))])
def test_hook_treatment_recorded_that_fails_refuses_the_recording(core):
    from clinicadmin.models import AuditEvent, StockLot

    core.lot(core.supply, "L", 10)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    with pytest.raises(TreatmentRejected, match="refuses .*disk full"):
        record(
            treatment,
            details={"product": core.supply.id, "amount": "1"},
            performed_at=treatment.scheduled_at,
            notes=None,
            user=core.staff["practitioner"],
        )
    db.session.expire_all()
    assert db.session.get(type(treatment), treatment.id).status == "booked"
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 10
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "keeps.recorded")).first() is None


NOTES_PLUGIN = """
from pathlib import Path
from clinicadmin.plugin_api import hookimpl

@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"
"""

NOTES_REVISION = """
import sqlalchemy as sa
from alembic import op
from clinicadmin.clock import local_today

revision = "notes0001"
down_revision = None
branch_labels = ("notes",)
depends_on = "b542b2e3a88c"

def upgrade():
    op.create_table("notes_note", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("treatment_id", sa.Integer, sa.ForeignKey("treatment.id"), nullable=False))

def downgrade():
    op.drop_table("notes_note")
"""


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
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINICADMIN_")},
        "CLINICADMIN_INSTANCE_PATH": str(tmp_path / "instance"),
        "CLINICADMIN_PLUGINS_DIR": str(tmp_path / "plugins"),
        "CLINICADMIN_PLUGINS_ENABLED": '["notes"]',
    }

    def clinicadmin(*args):
        return subprocess.run(
            [sys.executable, "-c", "from clinicadmin.cli import main; main()", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout

    clinicadmin("db", "upgrade")
    tables = {
        r[0]
        for r in sqlite3.connect(tmp_path / "instance" / "clinicadmin.sqlite").execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert {"notes_note", "treatment", "client"} <= tables
    heads = clinicadmin("db", "heads")
    assert "notes0001 (notes) (head)" in heads and heads.count("(head)") == 2


class TextGateway:
    """A text-message gateway: the sms channel, sent through send_message."""

    def __init__(self):
        self.sent = []

    @hookimpl
    def register_message_channels(self):
        from clinicadmin.plugin_api import MessageChannel

        return [MessageChannel("sms", "Text message (SMS)", address="phone")]

    @hookimpl
    def send_message(self, channel, recipient, subject, text, message_id):
        if channel != "sms":
            return None
        self.sent.append((recipient, text, message_id))
        return True


@pytest.mark.parametrize("app_config", [_with(("gateway", TextGateway()))])
def test_hook_register_message_channels(core, login):
    page = login("front_desk").get("/admin/client_desk/new/").get_data(as_text=True)
    assert '<option value="sms">Text message (SMS)</option>' in page
    assert '<option value="email">E-mail</option>' in page


@pytest.mark.parametrize("app_config", [_with(("gateway", TextGateway()))])
def test_hook_send_message(core, app_config):
    from clinicadmin.models import ClientMessage
    from clinicadmin.reminders import send_due_reminders

    [_, (_, gateway)] = app_config["EXTRA_PLUGINS"]
    gateway.sent.clear()
    client = core.client(consents=[KEY])
    client.phone, client.contact_consent, client.contact_channel = "07700 900123", True, "sms"
    db.session.commit()
    booking = core.booked(client, KEY, when=datetime.now(UTC).replace(microsecond=0) + timedelta(hours=30))
    send_due_reminders(at=booking.scheduled_at - timedelta(hours=24))
    [(recipient, text, message_id)] = gateway.sent
    assert recipient == "07700 900123" and "reminder of your appointment" in text
    assert db.session.get(ClientMessage, message_id).status == "sent"


@pytest.mark.parametrize(
    "app_config", [{"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), ("charted", Charted())]}]
)
def test_hook_diagram_marks(core, login):
    """What a plugin marks for the booked client is drawn on its chart as forbidden, with the reason, escaped."""
    Charted.failing = False
    core.certify("practitioner", CHARTED)
    http = login("practitioner")
    treatment = core.booked(core.client(consents=[CHARTED, KEY]), CHARTED)
    page = http.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    assert 'class="diagram-shape diagram-point forbidden" data-code="neck"' in page
    assert "Neck: not after a &lt;b&gt;peel&lt;/b&gt;" in page
    assert 'class="diagram-shape diagram-point forbidden" data-code="face"' not in page
