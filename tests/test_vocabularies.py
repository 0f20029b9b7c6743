"""Plugins grow the core's vocabularies (issue 16, item 4): product categories, client fields and shared condition
codes, each with the registry's conflict rules, and what is stored under a removed plugin's words kept as it is."""

import html
import re

import pytest
from fake_modality import KEY, FakeModality
from wtforms.validators import Optional

from clinicadmin.app import create_app
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Client, Product
from clinicadmin.plugin_api import ClientField, ConditionCode, Modality, ProductCategory, hookimpl
from clinicadmin.plugins import PluginError
from clinicadmin.rules import WaitingRule, block, evaluate
from clinicadmin.screening import HealthHistory
from clinicadmin.testing import StaffClient

KEPT_CONFIG = (
    "SQLALCHEMY_DATABASE_URI",
    "TESTING",
    "SECRET_KEY",
    "SECURITY_PASSWORD_SALT",
    "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS",
)


class Registers:
    """A plugin object that registers what it is given."""

    def __init__(self, categories=(), client_fields=(), conditions=()):
        self.categories, self.client_fields, self.conditions = list(categories), list(client_fields), list(conditions)

    @hookimpl
    def register_product_categories(self):
        return self.categories

    @hookimpl
    def register_client_fields(self):
        return self.client_fields

    @hookimpl
    def register_conditions(self):
        return self.conditions


SKIN = ClientField("fitzpatrick_skin_type", "Skin type", choices=(("I", "Type I"), ("VI", "Type VI")))
NOTE = ClientField("skin.note", "Skin note", max_length=20)


def _with(*plugins, **config):
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), *plugins], **config}


@pytest.fixture
def restarted(app):
    """``restarted()``: the same clinic started again on the same database with the fake modality only."""
    made = []

    def start():
        again = create_app(
            {
                **{key: app.config[key] for key in KEPT_CONFIG},
                "INSTANCE_PATH": app.instance_path,
                "PLUGINS_ENABLED": [],
                "EXTRA_PLUGINS": [("fake", FakeModality())],
            }
        )
        made.append(again)
        return again

    yield start
    for again in made:
        with again.app_context():
            db.session.remove()
            db.engine.dispose()


def _selected(page, name):
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {name}"
    options = re.findall(r'<option([^>]*)value="([^"]*)"([^>]*)>(.*?)</option>', select.group(1), re.S)
    chosen = [o for o in options if "selected" in o[0] + o[2]] or options[:1]
    return html.unescape(chosen[0][1]), html.unescape(chosen[0][3])


# --- product categories ---


def test_two_plugins_may_register_a_product_category_only_with_the_same_label(app_factory):
    same = app_factory(
        **_with(
            ("a", Registers([ProductCategory("peel_solution", "Peel solutions")])),
            ("b", Registers([ProductCategory("peel_solution", "Peel solutions")])),
        )
    )
    assert same.extensions["clinicadmin"].product_category_label("peel_solution") == "Peel solutions"
    with pytest.raises(
        PluginError,
        match="plugin 'b' registers product category 'peel_solution' as 'Peels'.*"
        "plugin 'a' registered it as 'Peel solutions'",
    ):
        app_factory(
            **_with(
                ("a", Registers([ProductCategory("peel_solution", "Peel solutions")])),
                ("b", Registers([ProductCategory("peel_solution", "Peels")])),
            )
        )
    with pytest.raises(ValueError, match="product category 'peel solution'"):
        ProductCategory("peel solution", "Peel solutions")


def test_a_product_field_offering_an_unregistered_category_stops_start_up_naming_its_plugin(app_factory):
    from clinicadmin.forms import ProductField

    class Peels:
        @hookimpl
        def register_modality(self):
            return Modality("peel", "Chemical peel")

        @hookimpl
        def treatment_form_fields(self, modality):
            if modality == "peel":
                return {"solution": ProductField("Peel", categories=["peel_solution"], validators=[Optional()])}

    with pytest.raises(PluginError, match=r"plugin 'peels'.*\['peel_solution'\], which no plugin registers"):
        app_factory(**_with(("peels", Peels())))
    app_factory(**_with(("peels", Peels()), ("cats", Registers([ProductCategory("peel_solution", "Peels")]))))


def test_the_clinic_configuration_adds_product_categories(app_factory):
    app = app_factory(**_with(PRODUCT_CATEGORIES=["gift_card", "needle"]))
    reg = app.extensions["clinicadmin"]
    assert reg.product_category_label("gift_card") == "gift card"
    assert reg.product_category_label("needle") == "Needles"  # a registered key keeps its plugin's label


def test_a_product_whose_category_is_no_longer_registered_shows_and_saves_as_stored(core, staff, restarted):
    """ "cartridge" is a category only a plugin registers; with that plugin gone the product keeps it."""
    product = core.product("CART-1", category="cartridge", unit="cartridge")
    http = StaffClient(restarted(), staff["stock_clerk"].email)
    listed = http.get("/admin/product/")
    assert listed.status_code == 200 and "cartridge (plugin not loaded)" in listed.get_data(as_text=True)
    page = http.get(f"/admin/product/edit/?id={product.id}").get_data(as_text=True)
    assert _selected(page, "category") == ("cartridge", "cartridge (plugin not loaded)")
    form = {
        "sku": "CART-1",
        "name": "Cartridges, renamed",
        "category": "cartridge",
        "unit": "cartridge",
        "pack_size": "1",
        "reorder_level": "0",
        "active": "y",
    }
    assert http.post(f"/admin/product/edit/?id={product.id}", data=form).status_code == 302
    db.session.expire_all()
    assert (db.session.get(Product, product.id).name, db.session.get(Product, product.id).category) == (
        "Cartridges, renamed",
        "cartridge",
    )
    # no other unregistered category is accepted, and a new product cannot take the orphaned one
    refused = http.post(f"/admin/product/edit/?id={product.id}", data={**form, "category": "roller"})
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)
    refused = http.post("/admin/product/new/", data={**form, "sku": "CART-2"})
    assert refused.status_code == 200
    assert db.session.execute(db.select(Product).where(Product.sku == "CART-2")).scalar() is None


# --- client fields ---


def _client_form(**extra):
    return {
        "first_name": "Lena",
        "last_name": "Berg",
        "date_of_birth": "1980-03-04",
        "intake_reviewed_on": "2020-01-01",
        **extra,
    }


@pytest.mark.parametrize("app_config", [_with(("skin", Registers(client_fields=[SKIN, NOTE])))])
def test_client_fields_are_edited_validated_and_audited(core, login):
    http = login("practitioner")
    assert (
        http.post(
            "/admin/client/new/",
            data=_client_form(**{"client_field-fitzpatrick_skin_type": "VI", "client_field-skin.note": "thin"}),
        ).status_code
        == 302
    )
    client = db.session.execute(db.select(Client)).scalar_one()
    assert client.plugin_fields == {"fitzpatrick_skin_type": "VI", "skin.note": "thin"}
    page = http.get(f"/admin/client/edit/?id={client.id}").get_data(as_text=True)
    assert _selected(page, "client_field-fitzpatrick_skin_type") == ("VI", "Type VI")

    # a value outside the choices, text too long or with a control character: refused, nothing changes
    for bad in (
        {"client_field-fitzpatrick_skin_type": "VII"},
        {"client_field-skin.note": "x" * 21},
        {"client_field-skin.note": "a\x00b"},
    ):
        response = http.post(f"/admin/client/edit/?id={client.id}", data=_client_form(**bad))
        assert response.status_code in (200, 400)
        db.session.expire_all()
        assert db.session.get(Client, client.id).plugin_fields == {"fitzpatrick_skin_type": "VI", "skin.note": "thin"}

    # a field left out of the form keeps its value; "Not recorded" removes it; both audited with before and after
    assert (
        http.post(
            f"/admin/client/edit/?id={client.id}", data=_client_form(**{"client_field-fitzpatrick_skin_type": ""})
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Client, client.id).plugin_fields == {"skin.note": "thin"}
    update = (
        db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "client.update").order_by(AuditEvent.id.desc())
        )
        .scalars()
        .first()
    )
    before, after = update.detail["changes"]["plugin_fields"]
    assert "'fitzpatrick_skin_type': 'VI'" in before and "fitzpatrick_skin_type" not in after


@pytest.mark.parametrize("app_config", [_with(("skin", Registers(client_fields=[SKIN])))])
def test_a_client_field_whose_plugin_is_gone_is_kept_shown_and_not_editable(core, login, staff, restarted):
    http = login("practitioner")
    http.post("/admin/client/new/", data=_client_form(**{"client_field-fitzpatrick_skin_type": "I"}))
    client = db.session.execute(db.select(Client)).scalar_one()

    again = StaffClient(restarted(), staff["practitioner"].email)
    details = again.get(f"/admin/client/details/?id={client.id}")
    assert details.status_code == 200
    assert "fitzpatrick_skin_type: I (plugin not loaded)" in details.get_data(as_text=True)
    page = again.get(f"/admin/client/edit/?id={client.id}").get_data(as_text=True)
    assert "client_field-" not in page
    posted = _client_form(last_name="Renamed", **{"client_field-fitzpatrick_skin_type": "VI"})
    assert again.post(f"/admin/client/edit/?id={client.id}", data=posted).status_code == 302
    db.session.expire_all()
    kept = db.session.get(Client, client.id)
    assert (kept.last_name, kept.plugin_fields) == ("Renamed", {"fitzpatrick_skin_type": "I"})


def test_two_plugins_may_register_a_client_field_only_alike(app_factory):
    app_factory(**_with(("a", Registers(client_fields=[SKIN])), ("b", Registers(client_fields=[SKIN]))))
    other = ClientField(SKIN.key, SKIN.label, choices=(("I", "Type I"),))
    with pytest.raises(
        PluginError, match="plugin 'b' registers client field 'fitzpatrick_skin_type' differently from plugin 'a'"
    ):
        app_factory(**_with(("a", Registers(client_fields=[SKIN])), ("b", Registers(client_fields=[other]))))
    with pytest.raises(ValueError, match="choices must be a tuple of"):
        ClientField("x", "X", choices=("I", "II"))


@pytest.mark.parametrize("app_config", [_with(("skin", Registers(client_fields=[SKIN])))])
def test_the_record_form_shows_the_clients_fields(core, login):
    client = core.client(consents=[KEY])
    client.plugin_fields = {"fitzpatrick_skin_type": "VI", "gone.plugin": "not-for-this-form"}
    db.session.commit()
    treatment = core.booked(client, KEY)
    page = login("practitioner").get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    assert "Skin type: <strong>Type VI</strong>" in page
    assert "not-for-this-form" not in page


class Reads:
    """Records what its check read of the client's skin type."""

    seen: list[str | None] = []

    @hookimpl
    def check_contraindications(self, treatment, history):
        Reads.seen.append(history.client_field("fitzpatrick_skin_type"))


@pytest.mark.parametrize("app_config", [_with(("reads", Reads()))])
def test_checks_read_client_fields_from_the_history(core):
    client = core.client(consents=[KEY])
    client.plugin_fields = {"fitzpatrick_skin_type": "V", "gone.plugin": "kept"}
    db.session.commit()
    Reads.seen.clear()
    core.booked(client, KEY)
    assert Reads.seen == ["V"]
    assert client.field_value("gone.plugin") == "kept" and client.field_value("absent") is None
    assert HealthHistory([], core.today).client_field("fitzpatrick_skin_type") is None


# --- shared condition codes ---

ISO = ConditionCode("isotretinoin", "Isotretinoin (oral retinoid)", "medication", dated=True, shared=True)


def test_a_shared_condition_code_may_be_registered_by_several_plugins_meaning_the_same(app_factory):
    app = app_factory(**_with(("a", Registers(conditions=[ISO])), ("b", Registers(conditions=[ISO]))))
    reg = app.extensions["clinicadmin"]
    assert reg.condition_plugins["isotretinoin"] == ["core.conditions", "a", "b"]
    assert reg.condition_label("isotretinoin") == "Isotretinoin (oral retinoid)"


@pytest.mark.parametrize(
    "other, message",
    [
        (
            ConditionCode("isotretinoin", "Isotretinoin", "medication", dated=True, shared=True),
            "plugin 'a' registers shared condition 'isotretinoin' as 'Isotretinoin'"
            ".*plugin 'core.conditions' registered",
        ),
        (
            ConditionCode("isotretinoin", "Isotretinoin (oral retinoid)", "procedure", dated=True, shared=True),
            r"as 'Isotretinoin \(oral retinoid\)' \(procedure, dated\).*\(medication, dated\)",
        ),
        (
            ConditionCode("isotretinoin", "Isotretinoin (oral retinoid)", "medication", dated=True),
            "plugins 'core.conditions' and 'a' both register condition 'isotretinoin', but 'a' registers it as its own",
        ),
    ],
)
def test_conflicting_condition_codes_stop_start_up_naming_both_plugins(app_factory, other, message):
    with pytest.raises(PluginError, match=message):
        app_factory(**_with(("a", Registers(conditions=[other]))))


def test_a_plugins_own_condition_code_is_not_taken_by_another(app_factory):
    own = ConditionCode("a.sensitive", "Sensitive skin")
    with pytest.raises(PluginError, match="plugins 'a' and 'b' both register condition 'a.sensitive', but 'a'"):
        app_factory(**_with(("a", Registers(conditions=[own])), ("b", Registers(conditions=[own]))))
    with pytest.raises(ValueError, match="a shared code has no plugin prefix"):
        ConditionCode("a.sensitive", "Sensitive skin", shared=True)


def test_finding_codes_of_a_plugins_own_prefixed_codes_carry_the_prefix_once():
    rules = [
        block("cupping.skin_fragility", "Fragile skin."),
        block("diabetes", "Diabetes."),
        WaitingRule("cupping.scraping", "cupping.wait_after_scraping_days", 7, "warn", "Scraping"),
    ]
    history = HealthHistory([], None)
    history.active = lambda *codes: True
    history.within = lambda code, days: True
    history.days_since = lambda code: 1
    found = evaluate("cupping", rules, history, {"cupping.wait_after_scraping_days": 7})
    assert [f.code for f in found] == ["cupping.skin_fragility", "cupping.diabetes", "cupping.recent_scraping"]


def test_the_migration_spells_doubled_finding_codes_once_and_keeps_others(core):
    """Findings stored before the fix as ``<plugin>.<plugin>.<code>`` read ``<plugin>.<code>`` after the upgrade, so
    that an acknowledgement carries over to the next run; other codes are left as stored."""
    import importlib.util

    from clinicadmin.config import PROJECT_ROOT
    from clinicadmin.models import ScreeningFinding

    path = PROJECT_ROOT / "clinicadmin" / "migrations" / "versions" / "c7d2a9e4f1b6_client_fields_and_finding_codes.py"
    spec = importlib.util.spec_from_file_location("revision_c7d2a9e4f1b6", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)

    treatment = core.booked(core.client(consents=[KEY]), KEY)
    db.session.add_all(
        [
            ScreeningFinding(
                treatment=treatment,
                run=1,
                stage="booking",
                screened_at=treatment.scheduled_at,
                plugin="fake",
                code=code,
                severity="warn",
                message="m",
            )
            for code in ("fake.fake.skin_fragility", "fake.recent_fake", "fake_other.x", "other.other.x")
        ]
    )
    db.session.commit()
    db.session.execute(db.text(revision.SPELL_ONCE))  # the revision's data step, on this database's dialect
    db.session.commit()
    codes = db.session.execute(db.select(ScreeningFinding.code).where(ScreeningFinding.message == "m")).scalars()
    assert sorted(codes) == ["fake.recent_fake", "fake.skin_fragility", "fake_other.x", "other.other.x"]


def test_a_merge_gives_the_kept_record_the_client_fields_it_lacks(core, login):
    keep = core.client(first="Ada", last="Lovelace")
    duplicate = core.client(first="Ada", last="Lovelace")
    keep.plugin_fields = {"skin.note": "thin"}
    duplicate.plugin_fields = {"skin.note": "thick", "fitzpatrick_skin_type": "V"}
    db.session.commit()
    assert (
        login("manager")
        .post(
            "/admin/client-merge/", data={"keep": keep.id, "merge": duplicate.id, "reason": "Same person: booked twice"}
        )
        .status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Client, keep.id).plugin_fields == {"skin.note": "thin", "fitzpatrick_skin_type": "V"}
    assert db.session.get(Client, duplicate.id).plugin_fields == {"skin.note": "thick", "fitzpatrick_skin_type": "V"}
    merge = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "client.merge")).scalar_one()
    assert merge.detail["client_fields_taken"] == {"fitzpatrick_skin_type": "V"}
