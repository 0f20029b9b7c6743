"""Login, roles and CSRF: every URL needs a login, each role reaches only its views, every POST needs a token."""

import re

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import Client

PUBLIC = {"/login", "/static/<path:filename>", "/admin/static/<path:filename>", "/healthz", "/readyz"}


def _concrete(rule):
    return re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)


def test_every_url_sends_anonymous_users_to_login(core):
    core.client(first="Secret", last="Person", consents=["testmod"])
    http = core.app.test_client()
    rules = [r for r in core.app.url_map.iter_rules() if r.rule not in PUBLIC]
    assert len(rules) > 40
    for rule in rules:
        url = _concrete(rule)
        for method in ("GET", "POST"):
            if method not in rule.methods and not (method == "GET" and "HEAD" in rule.methods):
                continue
            with core.app.app_context():
                response = http.open(url, method=method)
            body = response.get_data(as_text=True)
            assert response.status_code in (302, 400, 401, 403, 404, 405), (method, url, response.status_code)
            if response.status_code == 302:
                location = response.headers["Location"]
                assert "/login" in location or location.rstrip("/").endswith("/admin"), (method, url, location)
            assert "Secret" not in body and "Person" not in body, (method, url)


def test_login_page_is_styled_and_offline(core):
    html = core.app.test_client().get("/login").get_data(as_text=True)
    assert "bootstrap.min.css" in html and "http://" not in html and "https://" not in html


# role -> (urls it must reach, urls it must be refused)
MATRIX = {
    "stock_clerk": (
        ["/admin/product/", "/admin/stocklot/", "/admin/ledger/", "/admin/receive/", "/admin/reports/stock-on-hand"],
        [
            "/admin/client/",
            "/admin/client_desk/",
            "/admin/consent/",
            "/admin/health_entry/",
            "/admin/treatment/",
            "/admin/desk/book",
            "/admin/staff/",
            "/admin/audit/",
            "/admin/settings/",
            "/admin/receive/ajax/lookup/?name=client&query=S",
            "/admin/desk/ajax/lookup/?name=client&query=S",
        ],
    ),
    "front_desk": (
        ["/admin/client_desk/", "/admin/consent/", "/admin/treatment/", "/admin/desk/book"],
        [
            "/admin/client/",
            "/admin/health_entry/",
            "/admin/product/",
            "/admin/staff/",
            "/admin/audit/",
            "/admin/settings/",
            "/admin/client_archived/",
        ],
    ),
    "practitioner": (
        ["/admin/client/", "/admin/health_entry/", "/admin/consent/", "/admin/treatment/", "/admin/desk/book"],
        [
            "/admin/client_desk/",
            "/admin/staff/",
            "/admin/audit/",
            "/admin/settings/",
            "/admin/product/",
            "/admin/reports/stock-on-hand",
        ],
    ),
    "manager": (
        [
            "/admin/client/",
            "/admin/client_archived/",
            "/admin/staff/",
            "/admin/audit/",
            "/admin/settings/",
            "/admin/product/",
            "/admin/receive/",
            "/admin/reports/stock-on-hand",
            "/admin/certification/",
        ],
        ["/admin/client_desk/"],
    ),
}


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_each_role_reaches_only_its_views(core, login, role):
    core.client(first="Secret", last="Person", consents=["testmod"])
    http = login(role)
    allowed, refused = MATRIX[role]
    for url in allowed:
        assert http.get(url).status_code == 200, (role, url)
    for url in refused:
        response = http.get(url)
        assert response.status_code == 403, (role, url, response.status_code)
        assert "Secret" not in response.get_data(as_text=True)
    menu = http.get("/admin/").get_data(as_text=True)
    for url in refused:
        assert f'href="{url}"' not in menu, (role, url)


def test_front_desk_sees_contact_details_but_no_clinical_notes(core, login):
    client = core.client(first="Noor", history=[("diabetes", 100)], consents=["testmod"])
    client.clinical_notes = "CONFIDENTIAL-NOTE"
    db.session.commit()
    http = login("front_desk")
    for url in (
        f"/admin/client_desk/details/?id={client.id}",
        f"/admin/client_desk/edit/?id={client.id}",
        "/admin/client_desk/",
    ):
        page = http.get(url).get_data(as_text=True)
        assert "Noor" in page and "CONFIDENTIAL-NOTE" not in page and "Diabetes" not in page


def test_posts_without_a_valid_csrf_token_are_refused_and_change_nothing(core, login):
    http = login("manager")
    form = {"first_name": "Eve", "last_name": "Forged"}
    assert http.post("/admin/client/new/", data=form, csrf=False).status_code == 400
    assert http.post("/admin/client/new/", data={**form, "csrf_token": "forged"}).status_code == 400
    other = login("practitioner")
    assert http.post("/admin/client/new/", data={**form, "csrf_token": other.token()}).status_code == 400
    assert db.session.execute(db.select(Client).where(Client.last_name == "Forged")).first() is None
    assert http.post("/admin/client/new/", data=form).status_code == 302
    assert db.session.execute(db.select(Client).where(Client.last_name == "Forged")).first() is not None


def test_logout_is_a_post_and_ends_the_session(core, login):
    http = login("manager")
    assert http.get("/logout").status_code == 405
    assert http.post("/logout").status_code == 302
    assert "/login" in http.get("/admin/client/").headers["Location"]


def test_inactive_staff_cannot_use_the_panel(core, login):
    http = login("practitioner")
    core.staff["practitioner"].active = False
    db.session.commit()
    assert http.get("/admin/client/").status_code in (302, 403)


def test_fields_not_on_a_form_cannot_be_posted_into_a_record(core, login):
    client = core.client(first="Mass", last="Assign")
    client.clinical_notes = "KEEP-THIS-NOTE"
    db.session.commit()
    response = login("front_desk").post(
        f"/admin/client_desk/edit/?id={client.id}",
        data={
            "first_name": "Mass",
            "last_name": "Assign",
            "phone": "555-0000",
            # not on the front desk's form:
            "clinical_notes": "overwritten",
            "archived_at": "2020-01-01 00:00:00",
            "id": "999",
            "intake_reviewed_on": "2001-01-01",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    kept = db.session.get(Client, client.id)
    assert (kept.phone, kept.clinical_notes, kept.archived_at) == ("555-0000", "KEEP-THIS-NOTE", None)
    assert kept.intake_reviewed_on == core.today - __import__("datetime").timedelta(days=3)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "http:/\\evil.example"])
def test_redirects_stay_on_the_site(core, login, target):
    from clinicadmin.testing import CSRF_RE, TEST_PASSWORD

    http = core.app.test_client()
    with core.app.app_context():
        token = CSRF_RE.search(http.get("/login").get_data(as_text=True))
        response = http.post(
            f"/login?next={target}",
            data={
                "email": core.staff["manager"].email,
                "password": TEST_PASSWORD,
                "csrf_token": token.group(1) or token.group(2),
            },
        )
    # Refused, or sent within the site; never to the other host.
    assert "evil.example" not in response.headers.get("Location", "")
    back = login("manager").post(f"/admin/client/new/?url={target}", data={"first_name": "Red", "last_name": "Irect"})
    assert back.status_code == 302 and "evil.example" not in back.headers["Location"]


def test_no_get_request_changes_anything(core, login):
    """Every GET an admin can make, on every URL of the app, leaves the data (audit log aside) as it was."""
    from clinicadmin.models import AuditEvent

    core.client(first="Stay", last="Same", consents=["testmod"])

    def snapshot():
        db.session.expire_all()
        return {
            t.name: db.session.execute(db.select(db.func.count()).select_from(t)).scalar()
            for t in db.metadata.sorted_tables
            if t.name not in (AuditEvent.__tablename__, "audit_seal")
        }

    before = snapshot()
    http = login("admin")
    for rule in core.app.url_map.iter_rules():
        if "GET" in rule.methods and "logout" not in rule.rule:
            http.get(_concrete(rule))
    assert snapshot() == before


def test_a_new_staff_password_must_be_long_and_not_common(core, login):
    from clinicadmin.models import Role, User

    manager = login("manager")
    role = db.session.execute(db.select(Role).where(Role.name == "practitioner")).scalar_one()
    form = {"email": "new.nurse@example.com", "full_name": "New Nurse", "roles": role.id, "active": "y"}
    for weak, message in (
        ("short", "between 12 and 128 characters"),
        ("password1234", "cannot be used"),
        ("new.nurse@example.com", "cannot be used"),
    ):
        response = manager.post("/admin/staff/new/", data={**form, "new_password": weak})
        assert response.status_code == 200 and message in response.get_data(as_text=True), weak
    assert db.session.execute(db.select(User).where(User.email == "new.nurse@example.com")).first() is None
    assert manager.post("/admin/staff/new/", data={**form, "new_password": "violet-kettle-orbit-95"}).status_code == 302
    created = db.session.execute(db.select(User).where(User.email == "new.nurse@example.com")).scalar_one()
    assert created.password.startswith("$argon2")
