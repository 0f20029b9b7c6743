"""One input policy for every form and every view, core and plugin: NUL and other control characters, lone
surrogates and text-direction overrides are refused with a message, and change nothing; reasons need real words."""

import re

import pytest
import wtforms
from fake_modality import KEY, FakeModality
from flask_admin.contrib.sqla import ModelView
from wtforms import StringField

from clinicadmin.admin.treatment_forms import details_form_class, record_form_class
from clinicadmin.extensions import db
from clinicadmin.input_policy import MESSAGE, PolicyForm
from clinicadmin.models import (
    AuditEvent,
    Client,
    Location,
    Product,
    ScreeningFinding,
    StockMovement,
    Supplier,
    Treatment,
    User,
)
from clinicadmin.plugin_api import hookimpl

HOSTILE = ["a\x00b", "a\x07b", "a\x1bb", "abc\u202egnp.exe", "\u2066isolated\u2069", "a\x85b", "a\x7fb"]


class RemarksPlugin(FakeModality):
    """The test modality, whose form has a text field of its own."""

    @hookimpl
    def treatment_form_fields(self, modality):
        if modality == KEY:
            return {**super().treatment_form_fields(modality), "remarks": StringField("Remarks")}


@pytest.fixture
def app_config():
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", RemarksPlugin())]}


def _concrete(rule):
    return re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)


def _snapshot():
    db.session.expire_all()
    return {
        t.name: db.session.execute(db.select(db.func.count()).select_from(t)).scalar()
        for t in db.metadata.sorted_tables
        if t.name not in (AuditEvent.__tablename__, "audit_seal")
    }


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _ours(cls):
    module = cls.__module__ or ""
    return module.startswith(("clinicadmin", "plugins", "fake_modality")) and module != "clinicadmin.input_policy"


def test_every_form_class_applies_the_policy(core):
    """Every form class the core and the loaded plugins define, every model view's create and edit form and every
    modality's record form derive from PolicyForm: a new form cannot skip it."""
    admin = core.app.extensions["admin"][0]
    with core.app.test_request_context():
        model_views = [v for v in admin._views if isinstance(v, ModelView)]
        assert len(model_views) > 10
        for view in model_views:
            for form_class in (view.get_create_form(), view.get_edit_form()):
                assert issubclass(form_class, PolicyForm), view
        for modality in core.app.extensions["clinicadmin"].modalities:
            assert issubclass(details_form_class(modality), PolicyForm)
            assert issubclass(record_form_class(modality), PolicyForm)
    defined = [cls for cls in _subclasses(wtforms.Form) if _ours(cls)]
    assert len(defined) > 6
    assert [cls for cls in defined if not issubclass(cls, PolicyForm)] == []


def test_every_view_refuses_a_hostile_query_string_or_body_and_changes_nothing(core, login):
    """Walks the URL map: any hostile value in a query string gets 400; so does any hostile field posted to a view
    that does not validate through a policy form (those name the field instead, tested below)."""
    http = login("admin")
    before = _snapshot()
    rules = [r for r in core.app.url_map.iter_rules() if "logout" not in r.rule]
    posts = 0
    for rule in rules:
        url = _concrete(rule)
        for hostile in ("\x00", "x\u202e"):
            if "GET" in rule.methods:
                response = http.get(url, query_string={"probe": hostile})
                assert response.status_code == 400, (url, response.status_code)
                assert "not allowed" in response.get_data(as_text=True)
            view = core.app.view_functions[rule.endpoint]
            if "POST" in rule.methods and not getattr(view, "validates_with_policy_form", False):
                response = http.post(url, data={"reason": hostile, "note": "fine"})
                assert response.status_code == 400, (url, response.status_code)
                said = response.get_json()["error"] if response.is_json else response.get_data(as_text=True)
                assert "“reason”" in said and "Nothing was saved" in said
                posts += 1
    assert posts > 10
    assert _snapshot() == before


def _model_form_cases(core):
    return [
        (
            "/admin/product/new/",
            {
                "sku": "SKU-1",
                "name": "Gauze",
                "category": "consumable",
                "unit": "piece",
                "pack_size": "10",
                "reorder_level": "0",
            },
            "sku",
            Product,
        ),
        ("/admin/supplier/new/", {"name": "Acme"}, "name", Supplier),
        ("/admin/location/new/", {"name": "Annex", "active": "y"}, "name", Location),
        ("/admin/client/new/", {"first_name": "Ann", "last_name": "Lee"}, "last_name", Client),
    ]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_model_forms_name_the_field_and_save_nothing(core, login, hostile):
    manager = login("manager")
    for url, form, field, model in _model_form_cases(core):
        count = db.session.execute(db.select(db.func.count()).select_from(model)).scalar()
        response = manager.post(url, data={**form, field: hostile})
        assert response.status_code == 200, url
        assert MESSAGE.split(";")[0] in response.get_data(as_text=True), url
        db.session.expire_all()
        assert db.session.execute(db.select(db.func.count()).select_from(model)).scalar() == count, url
        assert manager.post(url, data=form).status_code == 302, url  # the same form without it is saved


def test_inline_and_plugin_fields_are_under_the_policy_too(core, login):
    core.lot(core.supply, "L1", 10)
    client = core.client(consents=[KEY])
    treatment = core.booked(client, KEY)
    practitioner = login("practitioner")
    performed = treatment.scheduled_at.strftime("%Y-%m-%dT%H:%M")
    base = {"performed_at": performed, "details-product": core.supply.id, "details-amount": "1"}
    for field in ("details-remarks", "notes"):
        response = practitioner.post(f"/admin/desk/{treatment.id}/record", data={**base, field: "ok\x00"})
        assert response.status_code == 200 and MESSAGE.split(";")[0] in response.get_data(as_text=True), field
        db.session.expire_all()
        assert db.session.get(Treatment, treatment.id).status == "booked"
    manager = login("manager")
    edit = manager.post(
        f"/admin/client/edit/?id={client.id}",
        data={
            "first_name": "Test",
            "last_name": "Client",
            "health_entries-0-code": "test_condition",
            "health_entries-0-notes": "x\u202ey",
        },
    )
    assert edit.status_code == 200 and MESSAGE.split(";")[0] in edit.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Client, client.id).health_entries == []
    assert (
        practitioner.post(f"/admin/desk/{treatment.id}/record", data={**base, "details-remarks": "fine"}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).details["remarks"] == "fine"


@pytest.mark.parametrize("empty", ["\u200b" * 12, " \t " * 5, "\u00a0" * 12, "\u200d\ufeff" * 6])
def test_reasons_need_real_words(core, login, empty):
    """Override, archive and write-off reasons that hold only whitespace or invisible characters are refused."""
    manager = login("manager")
    client = core.client(consents=[KEY], history=[("pregnancy", None)])
    treatment = core.booked(client, KEY)
    finding = (
        db.session.execute(
            db.select(ScreeningFinding).where(
                ScreeningFinding.treatment_id == treatment.id, ScreeningFinding.severity == "block"
            )
        )
        .scalars()
        .first()
    )
    manager.post(f"/admin/desk/{treatment.id}/override", data={"finding_id": finding.id, "reason": empty})
    manager.post(f"/admin/desk/{treatment.id}/archive", data={"reason": empty})
    manager.post("/admin/client/archive/", data={"ids": str(client.id), "reason": empty})
    lot = core.lot(core.supply, "L1", 10)
    write_off = login("stock_clerk").post(f"/admin/lot/{lot.id}/write-off", data={"quantity": "1", "note": empty})
    assert re.search("Say why|Write the reason in words", write_off.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(ScreeningFinding, finding.id).overridden_at is None
    assert db.session.get(Treatment, treatment.id).archived_at is None
    assert db.session.get(Client, client.id).archived_at is None
    assert db.session.execute(db.select(db.func.count()).select_from(StockMovement)).scalar() == 1


def test_staff_e_mail_addresses_are_validated(core, login):
    from clinicadmin.models import Role

    manager = login("manager")
    role = db.session.execute(db.select(Role).where(Role.name == "practitioner")).scalar_one()
    form = {"full_name": "New Nurse", "roles": role.id, "active": "y", "new_password": "violet-kettle-orbit-95"}
    for bad, message in (
        ("not-an-email", "valid e-mail address"),
        ("a@b", "valid e-mail address"),
        ("two@@example.com", "valid e-mail address"),
        ("nurse@exa mple.com", "valid e-mail address"),
        ("nurse@example.com\x00", MESSAGE.split(";")[0]),
    ):
        response = manager.post("/admin/staff/new/", data={**form, "email": bad})
        assert response.status_code == 200 and message in response.get_data(as_text=True), bad
    assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar() == 5
    assert manager.post("/admin/staff/new/", data={**form, "email": "new.nurse@example.com"}).status_code == 302


def test_create_user_refuses_a_name_or_address_the_policy_refuses(cli):
    for args in (
        ("nurse@example.com", "--name", "Nurse\x00Joy"),
        ("nurse\x00@example.com",),
        ("nurse@example.com", "--name", "\u202eyoJ"),
    ):
        result = cli(
            "create-user", *args, "--role", "practitioner", "--password-stdin", input="violet-kettle-orbit-95\n"
        )
        assert result.exit_code != 0 and "Traceback" not in result.output, args
    assert (
        cli(
            "create-user",
            "nurse@example.com",
            "--role",
            "practitioner",
            "--name",
            "Nurse Joy",
            "--password-stdin",
            input="violet-kettle-orbit-95\n",
        ).exit_code
        == 0
    )
