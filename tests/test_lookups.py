"""Ajax lookups (the select2 boxes that pick a client or a product) under hostile and careless use.

Each test walks every lookup a form of the app can ask for, so a lookup added later is held to the same promises:
answered by any server process from its start, audited when it returns clients, pages capped, and any term safe.
The app loads every shipped plugin (their record forms hold the per-category product lookups); the tests enumerate
what is loaded, so uninstalling a plugin does not break them.
"""

import concurrent.futures
import sys

import pytest
from flask_admin.model.fields import AjaxSelectField
from flask_wtf import FlaskForm
from shipped_plugins import ALL_SHIPPED

from clinicadmin.extensions import db
from clinicadmin.forms import LOOKUP_LIMIT
from clinicadmin.models import AuditEvent


@pytest.fixture
def app_config():
    """Every shipped plugin: their treatment forms are where the product lookups per category come from."""
    return {"PLUGINS_ENABLED": ALL_SHIPPED}


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _lookup_fields(form):
    for field in form:
        if isinstance(field, AjaxSelectField):
            yield field
        elif hasattr(field, "form"):  # a FormField: the record form's plugin details
            yield from _lookup_fields(field.form)


def lookups_asked_for(app):
    """{(lookup URL, name)} of every lookup a form of ``app`` can ask for: the fields of each core or plugin form
    class and of each modality's record form, at every page that serves the app's lookups, and each model view's
    ``form_ajax_refs`` at that view."""
    from clinicadmin.admin.treatment_forms import record_form_class
    from clinicadmin.plugins import registry

    with app.test_request_context():
        forms = [record_form_class(key)(meta={"csrf": False}) for key in registry().modalities]
        for form_class in set(_subclasses(FlaskForm)):
            if form_class.__module__.startswith(("clinicadmin.", "clinicadmin_")):
                try:
                    forms.append(form_class(meta={"csrf": False}))
                except TypeError:  # a form that needs arguments of its page
                    continue
        names = {field.loader.name for form in forms for field in _lookup_fields(form)}
    pairs = set()
    for view in app.extensions["admin"][0]._views:
        refs = getattr(view, "_form_ajax_refs", None)
        if refs:
            pairs |= {(view.url + "/ajax/lookup/", name) for name in refs}
        elif refs is None and hasattr(view, "ajax_lookup"):
            pairs |= {(view.url + "/ajax/lookup/", name) for name in names}
    return pairs


def test_the_lookups_walked_include_the_client_and_per_category_product_lookups(app):
    """The walk the other tests rely on finds the lookups the issue names (so they cannot pass by finding none)."""
    from clinicadmin.forms import ProductField, product_lookup_name
    from clinicadmin.plugins import registry

    declared = {
        product_lookup_name(field.kwargs.get("categories"))
        for key in registry().modalities
        for answer in registry().pm.hook.treatment_form_fields(modality=key, settings={})
        for field in (answer or {}).values()
        if field.field_class is ProductField
    }
    pairs = lookups_asked_for(app)
    assert {
        ("/admin/desk/ajax/lookup/", "client"),
        ("/admin/consent/ajax/lookup/", "client"),
        ("/admin/course/ajax/lookup/", "client"),
        ("/admin/receive/ajax/lookup/", "product"),
    } <= pairs
    assert {("/admin/desk/ajax/lookup/", name) for name in declared} <= pairs


def _audit_rows():
    db.session.expire_all()
    return (
        db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "client.lookup").order_by(AuditEvent.seq))
        .scalars()
        .all()
    )


@pytest.mark.parametrize("role", ["front_desk", "admin"])
def test_every_lookup_that_returns_clients_is_audited_and_its_pages_capped(app, staff, clinic, login, role):
    for number in range(LOOKUP_LIMIT + 5):
        clinic.client(first="Page", last=f"Aaron{number:02d}")
    http = login(role)
    answered_clients = set()
    for url, name in sorted(lookups_asked_for(app)):
        before = len(_audit_rows())
        response = http.get(url, query_string={"name": name, "query": "aar", "offset": 0, "limit": 1000})
        if response.status_code != 200:
            assert response.status_code == 403, (url, name, response.status_code)
            continue
        labels = [label for _, label in response.get_json()]
        assert len(labels) <= LOOKUP_LIMIT, (url, name, len(labels))
        rows = _audit_rows()
        if any("(b. 1985-05-05)" in label for label in labels):  # it returned clients
            answered_clients.add((url, name))
            assert len(labels) == LOOKUP_LIMIT
            assert len(rows) == before + 1, (url, name)
            row = rows[-1]
            assert row.user_id == staff[role].id and row.object_type == "Client"
            assert row.detail["query"] == "aar" and row.detail["results"] == LOOKUP_LIMIT, row.detail
            assert len(row.detail["clients"]) == LOOKUP_LIMIT
        else:
            assert len(rows) == before, (url, name)
    assert {
        ("/admin/desk/ajax/lookup/", "client"),
        ("/admin/consent/ajax/lookup/", "client"),
        ("/admin/course/ajax/lookup/", "client"),
    } <= answered_clients
    # Paging on: the next page is audited as its own read, with where it started.
    response = http.get(
        "/admin/desk/ajax/lookup/", query_string={"name": "client", "query": "", "offset": 20, "limit": 10}
    )
    assert len(response.get_json()) == 5
    assert _audit_rows()[-1].detail | {"clients": None} == {
        "lookup": "client",
        "query": "",
        "offset": 20,
        "results": 5,
        "clients": None,
    }


def test_a_stock_clerk_gets_no_client_lookup_anywhere(app, staff, clinic, login):
    clinic.client(first="Hidden", last="Person")
    http = login("stock_clerk")
    for url, name in lookups_asked_for(app):
        if name == "client":
            assert http.get(url, query_string={"name": name, "query": "h"}).status_code == 403, url
    assert _audit_rows() == []


HOSTILE_TERMS = [
    "\U0010ffff",
    "ab\U0010ffff",
    "\U0010ffff" * 150,
    "ab\ud7ff",
    "\ud7ff",
    "\ue000",
    "a\x00b",
    "\x00",
    "%\\_",
    " " * 50,
    "x" * 10000,
]
HOSTILE_PAGES = [
    {"offset": -1},
    {"offset": 10**30},
    {"offset": "abc"},
    {"limit": -5},
    {"limit": 0},
    {"limit": 10**30},
    {"offset": 10**6},
]


def test_no_term_or_page_makes_a_lookup_fail(app, staff, clinic, login):
    """Terms at the edges of Unicode, NUL, and absurd pages: a result or a 400 with a message, never a 500."""
    top = clinic.client(first="Top", last="Ab\U0010ffff")
    clinic.client(first="Private", last="Ab\ue000")
    http = login("admin")
    for url, name in sorted(lookups_asked_for(app)):
        for term in HOSTILE_TERMS:
            response = http.get(url, query_string={"name": name, "query": term})
            if "\x00" in term:
                assert response.status_code == 400, (url, name, repr(term))
                assert "control character" in response.get_json()["error"]
            else:
                assert response.status_code == 200, (url, name, repr(term), response.status_code)
        for page in HOSTILE_PAGES:
            response = http.get(url, query_string={"name": name, "query": "a", **page})
            assert response.status_code in (200, 400), (url, name, page, response.status_code)
            if response.status_code == 400:
                assert response.get_json()["error"], (url, name, page)
            else:
                assert len(response.get_json()) <= LOOKUP_LIMIT

    # The range search still finds what it should next to the top of Unicode, and nothing it should not.
    def found(term):
        response = http.get("/admin/desk/ajax/lookup/", query_string={"name": "client", "query": term})
        return sorted(label for _, label in response.get_json())

    assert found("ab\U0010ffff") == [str(top)]
    assert found("ab\ud7ff") == []
    assert len(found("ab")) == 2


def _lookup_ok(server_session, url, name):
    response = server_session.get(url, name=name, query="")
    return url, name, response.status, response.body[:200]


def test_a_fresh_multi_process_server_answers_every_lookup_in_every_worker(app, staff, clinic, live_server):
    """After a (re)start no worker has built a form; every lookup any form can ask for must still answer, in
    whichever of the workers takes the request."""
    clinic.product("SKU-1", category="serum")
    clinic.client(first="Lou", last="Kup")
    pairs = sorted(lookups_asked_for(app))
    server = live_server(workers=4)
    http = server.session("admin")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda pair: _lookup_ok(http, *pair), pairs * 5))
    failed = [answer for answer in answers if answer[2] != 200]
    assert not failed, failed
    assert http.get("/admin/desk/ajax/lookup/", name="client", query="ku").json()[0][1].startswith("Kup, Lou")
    print(f"{len(answers)} lookups of {len(pairs)} kinds through 4 workers", file=sys.stderr)


def test_a_record_form_field_whose_lookup_was_not_registered_at_start_up_is_refused(app_factory):
    """A plugin whose form fields change after start-up would get a lookup only the process that built it could
    answer; the field refuses to be built instead."""
    from wtforms.validators import Optional

    from clinicadmin.admin.treatment_forms import record_form_class
    from clinicadmin.forms import ProductField
    from clinicadmin.plugin_api import Modality, ProductCategory, hookimpl

    class Shifting:
        calls = 0

        @hookimpl
        def register_modality(self):
            return Modality("shifting", "Shifting", consent_text="I agree.")

        @hookimpl
        def register_product_categories(self):
            return [ProductCategory("kind1", "Kind 1"), ProductCategory("kind2", "Kind 2")]

        @hookimpl
        def treatment_form_fields(self, modality):
            if modality == "shifting":
                Shifting.calls += 1
                return {
                    "product": ProductField("Product", categories=[f"kind{Shifting.calls}"], validators=[Optional()])
                }

    shifting = app_factory(PLUGINS_ENABLED=[], EXTRA_PLUGINS=[("shifting", Shifting())])
    with shifting.test_request_context():
        with pytest.raises(LookupError, match="product-kind2"):
            record_form_class("shifting")(meta={"csrf": False})


def test_a_plugin_whose_form_fields_fail_at_start_up_is_named(app_factory):
    from clinicadmin.plugin_api import Modality, hookimpl
    from clinicadmin.plugins import PluginError

    class Broken:
        @hookimpl
        def register_modality(self):
            return Modality("broken", "Broken", consent_text="I agree.")

        @hookimpl
        def treatment_form_fields(self, modality):
            raise RuntimeError("no fields today")

    with pytest.raises(PluginError, match="'broken'.*treatment_form_fields.*no fields today"):
        app_factory(PLUGINS_ENABLED=[], EXTRA_PLUGINS=[("broken", Broken())])
