"""No input produces a 500, and every wrong input is refused clearly: search terms at the edges of Unicode, page
cursors that decode to impossible numbers or text, bookings centuries away, fractions of a needle, settings beyond
their bounds, a dead database under the error page, and a plugin that fails while writing aftercare."""

import base64
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from fake_modality import KEY, FakeModality
from sqlalchemy import event

from clinicadmin.admin.keyset import KeysetPagerMixin
from clinicadmin.extensions import db
from clinicadmin.models import Location, Product, Setting, StockLot, StockMovement, Treatment
from clinicadmin.plugin_api import SettingSpec, hookimpl
from clinicadmin.plugins import PluginError
from clinicadmin.treatment_flow import TreatmentRejected, book

STALE_CURSOR = "That page link no longer fits this list"


def _views(app, kind):
    return [v for v in app.extensions["admin"][0]._views if isinstance(v, kind)]


# Search boxes


@pytest.mark.parametrize(
    "last, term",
    [
        ("Kim\ud7ff", "kim\ud7ff"),
        ("Zed\U0010ffff", "zed\U0010ffff"),
        ("\U0010ffff", "\U0010ffff"),
        ("Ee\ue000", "ee\ue000"),
    ],
)
def test_every_search_box_takes_terms_at_the_edges_of_unicode(core, login, last, term):
    """A term ending in U+D7FF (the next character is past the surrogates) or in U+10FFFF (there is no next
    character) searches like any other, on every list that has a search box."""
    core.client(first="Ann", last=last)
    core.client(first="Bob", last="Other")
    admin = login("admin")
    searchable = [v for v in _views(core.app, object) if getattr(v, "column_searchable_list", None)]
    assert len(searchable) >= 6
    for view in searchable:
        response = admin.get(f"{view.url}/", query_string={"search": term})
        assert response.status_code in (200, 403), (view.url, response.status_code)
    found = login("practitioner").get("/admin/client/", query_string={"search": term}).get_data(as_text=True)
    assert "Ann" in found and "Bob" not in found


def test_a_nul_in_a_search_box_or_a_recall_is_refused_with_a_message(core, login):
    manager = login("manager")
    for url in (
        "/admin/client/?search=%00",
        "/admin/recall/?lot=%00",
        "/admin/recall/csv?lot=a%00",
        "/admin/product/?search=a%00b",
    ):
        response = manager.get(url)
        assert response.status_code == 400 and "not allowed" in response.get_data(as_text=True), url


# Keyset cursors


def _cursor(values):
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _good(column):
    python_type = column.type.python_type
    return {datetime: "2026-01-01T10:00:00+00:00", str: "a", int: 1}.get(python_type, "2026-01-01")


HOSTILE_VALUES = [
    float("inf"),
    float("-inf"),
    float("nan"),
    2**70,
    -(2**70),
    1e300,
    "\x00",
    "a\ud800",
    True,
    [1],
    {"a": 1},
]


def test_every_keyset_list_shows_the_first_page_for_a_cursor_that_decodes_to_nonsense(core, login):
    client = core.client(consents=[KEY])
    core.booked(client, KEY)
    clients = {}
    views = _views(core.app, KeysetPagerMixin)
    assert len(views) >= 6
    for view in views:
        role = view.allowed_roles[0]
        if role not in clients:
            clients[role] = login(role)
        http = clients[role]
        with core.app.test_request_context():
            keyset = view._keyset_for(None, None)
        good = [_good(c) for c in keyset.columns]
        cursors = ["[" * 5000 + "]" * 5000, "A" * 10000, _cursor(good[:-1])]
        cursors = [base64.urlsafe_b64encode(c.encode()).decode() if c.startswith("[") else c for c in cursors]
        for position in range(len(good)):
            for value in HOSTILE_VALUES:
                cursors.append(_cursor(good[:position] + [value] + good[position + 1 :]))
        for cursor in cursors:
            for name in ("after", "before"):
                response = http.get(f"{view.url}/?{name}={cursor}")
                assert response.status_code == 200, (view.url, cursor[:40], response.status_code)
                assert STALE_CURSOR in response.get_data(as_text=True), (view.url, cursor[:40])
        response = http.get(f"{view.url}/?after={_cursor(good)}")
        assert response.status_code == 200 and STALE_CURSOR not in response.get_data(as_text=True), view.url


# The booking window


def _book(http, client, practitioner, location, when):
    return http.post(
        "/admin/desk/book",
        data={
            "client": str(client.id),
            "modality": KEY,
            "practitioner": str(practitioner.id),
            "location": str(location.id),
            "scheduled_at": when.replace(tzinfo=None).isoformat(timespec="minutes"),
        },
    )


def _treatments():
    return db.session.execute(db.select(db.func.count()).select_from(Treatment)).scalar()


def test_bookings_outside_the_clinics_window_are_refused(core, login):
    client = core.client(consents=[KEY])
    practitioner, location = core.staff["practitioner"], core.location
    core.certify(practitioner, KEY, valid_days=800)  # certified on every day the window allows, so only it decides
    http = login("practitioner")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for when in (
        datetime(9999, 12, 31, 10, tzinfo=UTC),
        datetime(1, 1, 1, 10, tzinfo=UTC),
        now + timedelta(days=731),
        now - timedelta(days=731),
    ):
        response = _book(http, client, practitioner, location, when)
        assert response.status_code == 200 and "booking window" in response.get_data(as_text=True), when
        with pytest.raises(TreatmentRejected, match="booking window"):
            book(
                client=client,
                modality=KEY,
                practitioner=practitioner,
                location=location,
                scheduled_at=when,
                user=core.staff["manager"],
            )
        db.session.rollback()
    assert _treatments() == 0
    for when in (now + timedelta(days=729), now - timedelta(days=729), now):
        assert _book(http, client, practitioner, location, when).status_code == 302, when
    assert _treatments() == 3


def test_the_booking_window_is_a_bounded_clinic_setting(core, login):
    client = core.client(consents=[KEY])
    manager = login("manager")
    assert manager.post("/admin/settings/", data={"core.booking_days_ahead": "10"}).status_code == 302
    soon = datetime.now(UTC).replace(second=0, microsecond=0)
    refused = _book(manager, client, core.staff["practitioner"], core.location, soon + timedelta(days=30))
    assert "10 days ahead" in refused.get_data(as_text=True)
    assert (
        _book(manager, client, core.staff["practitioner"], core.location, soon + timedelta(days=5)).status_code == 302
    )


# Settings


def test_every_numeric_setting_has_bounds_that_the_settings_page_enforces(core, login):
    specs = core.app.extensions["clinicadmin"].settings
    numeric = [s for s in specs.values() if s.type is int]
    assert len(numeric) >= 4
    manager = login("manager")
    for saved, spec in enumerate(numeric):
        assert spec.minimum is not None and spec.maximum is not None, spec.key
        for value, message in (
            (spec.maximum + 1, "at most"),
            (spec.minimum - 1, "at least"),
            (10**30, "at most"),
            ("1e9", "whole number"),
            ("nan", "whole number"),
        ):
            response = manager.post("/admin/settings/", data={spec.key: str(value)})
            assert response.status_code == 200 and message in response.get_data(as_text=True), (spec.key, value)
        assert db.session.execute(db.select(db.func.count()).select_from(Setting)).scalar() == saved
        assert manager.post("/admin/settings/", data={spec.key: str(spec.maximum)}).status_code == 302


@pytest.mark.parametrize("bounds", [{"maximum": None}, {"minimum": None}, {"minimum": 10, "maximum": 5}])
def test_a_plugin_setting_without_bounds_stops_start_up(app_factory, bounds):
    class Unbounded:
        @hookimpl
        def register_settings(self):
            return [SettingSpec("unbounded.days", "Unbounded", 7, **bounds)]

    with pytest.raises(PluginError, match="'unbounded'.*needs a minimum and a maximum"):
        app_factory(PLUGINS_ENABLED=[], EXTRA_PLUGINS=[("fake", FakeModality()), ("unbounded", Unbounded())])


# Whole units


@pytest.fixture
def needles(core):
    product = core.product("NDL-1", category="needle", unit="needle", pack_size=100)
    product.whole_units = True
    db.session.commit()
    annex = Location(name="Annex")
    db.session.add(annex)
    db.session.commit()
    core.annex = annex
    return core.lot(product, "N1", 10)


def _ledger():
    db.session.expire_all()
    return [
        (m.reason, m.quantity)
        for m in db.session.execute(db.select(StockMovement).order_by(StockMovement.id)).scalars()
    ]


def test_a_product_counted_in_whole_units_refuses_fractions_everywhere(core, login, needles):
    clerk = login("stock_clerk")
    before = _ledger()
    for url, data in (
        (f"/admin/lot/{needles.id}/write-off", {"quantity": "1.5", "note": "dropped"}),
        (f"/admin/lot/{needles.id}/adjust", {"delta": "-0.5", "note": "miscounted"}),
        (f"/admin/lot/{needles.id}/adjust", {"delta": "0.001", "note": "found"}),
        (f"/admin/lot/{needles.id}/transfer", {"to_location": core.annex.id, "quantity": "1.5"}),
        (
            f"/admin/stocktake/new?location_id={core.location.id}",
            {f"counted-{needles.id}": "2.5", f"expected-{needles.id}": "10"},
        ),
    ):
        page = clerk.post(url, data=data).get_data(as_text=True)
        assert "counted in whole needle" in page, url
    assert _ledger() == before
    product = {
        "sku": "NDL-2",
        "name": "Needles 2",
        "category": "needle",
        "unit": "needle",
        "whole_units": "y",
        "reorder_level": "0",
    }
    for field, value in (("pack_size", "1.5"), ("reorder_level", "2.5")):
        response = clerk.post("/admin/product/new/", data={"pack_size": "100", **product, field: value})
        assert "counted in whole units" in response.get_data(as_text=True), field
    assert db.session.execute(db.select(Product).where(Product.sku == "NDL-2")).first() is None
    assert (
        clerk.post(f"/admin/lot/{needles.id}/write-off", data={"quantity": "2", "note": "dropped"}).status_code == 302
    )
    serum = core.lot(core.supply, "S1", 10)  # counted in mL: fractions are fine
    assert clerk.post(f"/admin/lot/{serum.id}/write-off", data={"quantity": "1.5", "note": "spilt"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(StockLot, needles.id).quantity == 8
    assert db.session.get(StockLot, serum.id).quantity == Decimal("8.5")


# The error pages


def _dead(exception):
    def refuse(dialect, conn_rec, cargs, cparams):
        raise exception

    return refuse


def test_the_error_page_renders_when_the_database_is_down(core, login, database_url):
    """Every connection is refused (as when the server is down): the page is the clinic's 500, not a traceback,
    although the user of the session can no longer be loaded."""
    http = login("manager")
    core.app.config["PROPAGATE_EXCEPTIONS"] = False
    error = (
        sqlite3.OperationalError("unable to open database file")
        if database_url.startswith("sqlite")
        else psycopg.OperationalError("connection refused")
    )
    engine = db.engine
    refuse = _dead(error)
    db.session.remove()
    engine.dispose()
    event.listen(engine, "do_connect", refuse)
    try:
        for url in ("/admin/", "/admin/client/", "/admin/settings/"):
            response = http.get(url)
            body = response.get_data(as_text=True)
            assert response.status_code == 500, url
            assert "Something went wrong; nothing was saved. Reference:" in body and "Traceback" not in body, url
    finally:
        event.remove(engine, "do_connect", refuse)
        engine.dispose()
        core.app.config["PROPAGATE_EXCEPTIONS"] = None


@pytest.mark.parametrize("answer", [RuntimeError, "Rest.", [1, 2]])
def test_an_aftercare_plugin_that_fails_gets_a_page_naming_it(app_factory, answer):
    from clinicadmin.testing import Clinic, StaffClient

    class Broken:
        @hookimpl
        def aftercare(self, treatment):
            if answer is RuntimeError:
                raise RuntimeError("leaflet template missing")
            return answer

    app = app_factory(PLUGINS_ENABLED=[], EXTRA_PLUGINS=[("fake", FakeModality()), ("leaflets", Broken())])
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        from flask_security import hash_password

        from clinicadmin.demo import _role, ensure_roles

        ensure_roles()
        location = Location(name="Test Clinic")
        db.session.add(location)
        manager = app.security.datastore.create_user(
            email="m@test.example.com",
            full_name="M",
            password=hash_password("correct-horse-battery-staple"),
            roles=[_role("manager")],
            location=location,
        )
        db.session.commit()
        clinic = Clinic(app, {"manager": manager, "practitioner": manager})
        clinic.certify("manager", KEY)
        treatment = clinic.booked(clinic.client(consents=[KEY]), KEY, practitioner="manager")
        treatment_id = treatment.id
        http = StaffClient(app, "m@test.example.com")
        response = http.get(f"/admin/desk/{treatment_id}/aftercare")
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Aftercare could not be produced: leaflets (" in body and "Rest for a day" not in body
        assert 'id="print-button"' not in body
