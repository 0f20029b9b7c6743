"""What the front desk reads (issue 15, item 12): roles by their names, a finding's source by its check's or
modality's name, settings without notes on where a default came from, the stock clerk's home titled for stock, the
clinic's name, address and phone on its paper, a new account active by default, an inactive account told so once its
password is right, and a weekday always with its date."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from shipped_plugins import ALL_SHIPPED

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Role, User
from clinicadmin.models.staff import ROLE_LABELS, ROLES
from clinicadmin.plugins import registry
from clinicadmin.testing import CSRF_RE, TEST_PASSWORD

KEY = "testmod"
WRONG = "wrong-password-123"


def _text(response):
    """The page as a person reads it: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _neutral_names(staff):
    """Staff names that do not contain role codes, so a code on a page can only come from the page itself."""
    for n, user in enumerate(staff.values()):
        user.full_name = f"Person {n}"
    db.session.commit()


# --- Roles by their names ---------------------------------------------------------------------------------------------


def test_every_role_reads_as_its_name_on_every_page_that_shows_roles(core, login, staff):
    _neutral_names(staff)
    manager, admin = login("manager"), login("admin")
    desk = staff["front_desk"]
    roles = {r.name: r.id for r in db.session.execute(db.select(Role)).scalars()}
    assert (
        admin.post(
            f"/admin/staff/edit/?id={desk.id}",
            data={
                "email": desk.email,
                "full_name": desk.full_name,
                "active": "y",
                "roles": [str(roles["front_desk"]), str(roles["stock_clerk"])],
            },
        ).status_code
        == 302
    )
    pages = {
        "staff list": manager.get("/admin/staff/"),
        "staff form": manager.get(f"/admin/staff/edit/?id={staff['practitioner'].id}"),
        "new staff form": manager.get("/admin/staff/new/"),
        "roles list": manager.get("/admin/role/"),
        "audit log": manager.get("/admin/audit/"),
    }
    update = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "user.update")).scalars().one()
    assert update.detail["changes"]["roles"] == [["front_desk"], ["front_desk", "stock_clerk"]]  # stored as codes
    pages["audit entry"] = manager.get(f"/admin/audit/details/?id={update.id}")
    for name, response in pages.items():
        assert response.status_code == 200, name
        text = _text(response)
        for code in ROLES:
            if "_" in code:
                assert code not in text, (name, code)
    for name in ("staff list", "new staff form", "roles list"):
        for label in ROLE_LABELS.values():
            assert label in _text(pages[name]), (name, label)
    audit_entry = _text(pages["audit entry"])
    assert "Front desk" in audit_entry and "Stock clerk" in audit_entry
    assert 'title="Manager"' in manager.get("/admin/").get_data(as_text=True)  # the navbar names the user's role


# --- A finding's source -----------------------------------------------------------------------------------------------


def test_a_findings_source_is_the_name_of_its_check_or_modality(core, login):
    client = core.client(history=[("pregnancy", 30)])  # no consent: the consent check and the modality both find
    treatment = core.booked(client, KEY)
    sources = {f.plugin for f in treatment.current_findings()}
    assert {"core.consent", "fake"} <= sources
    page = _text(login("practitioner").get(f"/admin/desk/{treatment.id}"))
    assert "Client's consent" in page and "Test modality" in page
    assert "core." not in page and not re.search(r"\bfake\b", page)
    record = _text(login("manager").get(f"/admin/client/details/?id={client.id}"))
    assert "core." not in record


def test_every_loaded_check_has_a_name_for_people(app_factory):
    app = app_factory(PLUGINS_ENABLED=ALL_SHIPPED)  # every shipped plugin as well as the core's checks
    with app.app_context():
        reg = registry()
        checks = [impl.plugin_name for impl in reg.pm.hook.check_contraindications.get_hookimpls()]
        assert len(checks) >= 8
        for name in [*checks, "core"]:
            label = reg.plugin_label(name)
            assert label and label[0].isupper() and "_" not in label and "." not in label, (name, label)


# --- Settings and generated wording -----------------------------------------------------------------------------------

# a registered name whose sound its first letter does not give would go here
_VOWEL_SOUND_BY_SPELLING: dict[str, str] = {}


def _article_problems(text):
    """Every "a"/"an" before a word that takes the other one (by its first letter, initialisms by their sound)."""
    problems = []
    for article, word in re.findall(r"\b(a|an|A|An)\s+([A-Za-z][\w-]*)", text):
        if word.isupper() and len(word) > 1:
            wanted = "an" if word[0] in "AEFHILMNORSX" else "a"
        else:
            wanted = _VOWEL_SOUND_BY_SPELLING.get(word.lower(), "an" if word[0].lower() in "aeiou" else "a")
        if article.lower() != wanted:
            problems.append(f"{article} {word}")
    return problems


def _waiting_rules():
    """Every waiting rule of the loaded plugins (from their modules' rule lists)."""
    import sys

    from clinicadmin.rules import WaitingRule

    found = []
    for module in list(sys.modules.values()):
        for value in list(vars(module).values()) if module else []:
            if isinstance(value, list):
                found.extend(v for v in value if isinstance(v, WaitingRule))
    return set(found)


def test_every_generated_sentence_is_grammatical_for_every_registered_condition(app_factory):
    from clinicadmin import wording

    app = app_factory(PLUGINS_ENABLED=ALL_SHIPPED)
    with app.app_context():
        reg = registry()
        assert len(reg.conditions) > 30
        for condition in reg.conditions.values():
            sentences = [
                wording.waiting_label("Microneedling", condition.label, condition.kind),
                *(wording.waiting_help(condition.label, condition.kind, s) for s in ("block", "warn")),
                wording.waiting_message(condition.label, condition.kind, 1, 180),
                wording.waiting_message(condition.label, condition.kind, 30, 1),
                wording.waiting_message(condition.label, condition.kind, 0, 30),
            ]
            for sentence in sentences:
                assert not _article_problems(sentence), sentence
                assert not re.search(r"\b1 days\b|\bwarn finding\b|\bblock finding\b", sentence), sentence
                assert sentence[0].isupper(), sentence
        rules = _waiting_rules()
        assert {r.code for r in rules} >= {"isotretinoin", "dermal_filler", "fracture"}
        for rule in rules:
            if rule.code in reg.conditions:
                assert rule.kind == reg.conditions[rule.code].kind, rule  # the words follow what the code is
        for spec in reg.settings.values():
            assert not _article_problems(f"{spec.label}. {spec.help}"), spec.key
            assert not re.search(r"\b(seed|source|default)s?\b", f"{spec.label} {spec.help}", re.I), spec.key
        isotretinoin = next(r for r in rules if r.code == "isotretinoin")
        assert (
            wording.waiting_message(isotretinoin.label, isotretinoin.kind, 30, 180)
            == "An isotretinoin course ended 30 days ago; the clinic waits 180 days."
        )


def test_the_cores_own_findings_count_days_in_words(core, login):
    client = core.client(consents=[KEY])
    first = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    core.booked(client, KEY, when=first)
    second = core.booked(client, KEY, when=first + timedelta(days=1))
    page = _text(login("practitioner").get(f"/admin/desk/{second.id}"))
    assert "Another test modality session is 1 day before this one" in page and "1 days" not in page
    assert "Course and interval" in page  # the check's name, as its source


@pytest.mark.parametrize(
    "phrase, article",
    [
        ("isotretinoin course", "an"),
        ("dermal filler", "a"),
        ("hour", "an"),
        ("unit", "a"),
        ("MRI scan", "an"),
        ("PRP injection", "a"),
        ("European peel", "a"),
        ("one-off peel", "a"),
        ("uncontrolled hypertension", "an"),
    ],
)
def test_the_article_follows_the_sound_of_the_name(phrase, article):
    from clinicadmin.wording import article as chosen

    assert chosen(phrase) == article


def test_the_settings_page_speaks_in_words(staff_factory_login):
    page = staff_factory_login("manager").get("/admin/settings/")
    text = _text(page)
    assert "Microneedling: days to wait after an isotretinoin course" in text
    assert "Screening gives a warning when an isotretinoin course ended fewer than this many days" in text
    assert "plugin's default" not in text and "microneedling.wait_after" not in text and "Seed" not in text


@pytest.fixture
def staff_factory_login(app_factory, database_url):
    """A logged-in client of an app with every shipped plugin loaded."""
    from flask_security import hash_password

    from clinicadmin.demo import _role, ensure_roles
    from clinicadmin.testing import StaffClient

    app = app_factory(PLUGINS_ENABLED=ALL_SHIPPED)

    def as_role(role):
        with app.app_context():
            ensure_roles()
            email = f"{role}.all@test.example.com"
            if app.security.datastore.find_user(email=email) is None:
                app.security.datastore.create_user(
                    email=email, full_name="All Plugins", roles=[_role(role)], password=hash_password(TEST_PASSWORD)
                )
                db.session.commit()
        return StaffClient(app, email)

    return as_role


# --- The stock clerk's home -------------------------------------------------------------------------------------------


def test_the_stock_clerks_home_is_titled_for_stock(core, login):
    clerk = _text(login("stock_clerk").get("/admin/"))
    assert "Stock: what needs attention" in clerk and "Today and tomorrow" not in clerk
    assert "Today and tomorrow" in _text(login("manager").get("/admin/"))


# --- The clinic on its paper ------------------------------------------------------------------------------------------


def test_the_clinics_name_address_and_phone_are_settings_printed_on_its_paper(core, login):
    client = core.client(consents=[KEY])
    treatment = core.booked(client, KEY)
    manager = login("manager")
    consent_form = f"/admin/consent-form/{KEY}?client_id={client.id}"
    aftercare = f"/admin/desk/{treatment.id}/aftercare"
    before = _text(manager.get(consent_form))
    assert core.app.config["CLINIC_NAME"] in before  # until the clinic names itself
    assert (
        manager.post(
            "/admin/settings/",
            data={
                "core.clinic_name": "Lotus Skin Studio",
                "core.clinic_address": "12 Harbour Street, Bristol BS1 4XY",
                "core.clinic_phone": "+44 117 496 0123",
            },
        ).status_code
        == 302
    )
    for url in (consent_form, aftercare):
        text = _text(manager.get(url))
        assert "Lotus Skin Studio" in text and "12 Harbour Street, Bristol BS1 4XY" in text, url
        assert "+44 117 496 0123" in text, url
    refused = manager.post("/admin/settings/", data={"core.clinic_phone": "x" * 501})
    assert refused.status_code == 200 and "at most 500 characters" in _text(refused)
    assert "+44 117 496 0123" in _text(manager.get(aftercare))  # nothing was saved


# --- Staff accounts and signing in ------------------------------------------------------------------------------------


def test_a_new_staff_account_is_active_unless_the_manager_says_otherwise(core, login):
    manager = login("manager")
    form = manager.get("/admin/staff/new/").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*id="active"|<input[^>]*id="active"[^>]*checked', form)
    role = db.session.execute(db.select(Role).where(Role.name == "front_desk")).scalar_one()
    posted = {
        "email": "new.desk@example.com",
        "full_name": "New Desk",
        "roles": role.id,
        "active": "y",
        "new_password": "violet-kettle-orbit-95",
    }
    assert manager.post("/admin/staff/new/", data=posted).status_code == 302
    unticked = {**posted, "email": "away@example.com", "full_name": "Away"}
    del unticked["active"]
    assert manager.post("/admin/staff/new/", data=unticked).status_code == 302
    accounts = dict(
        db.session.execute(
            db.select(User.email, User.active).where(User.email.in_(["new.desk@example.com", "away@example.com"]))
        ).all()
    )
    assert accounts == {"new.desk@example.com": True, "away@example.com": False}


class _Browser:
    def __init__(self, app, address="127.0.0.1"):
        self.app, self.http, self.address = app, app.test_client(), address

    def login(self, email, password):
        with self.app.app_context():
            page = self.http.get("/login", environ_base={"REMOTE_ADDR": self.address}).get_data(as_text=True)
            match = CSRF_RE.search(page)
            return self.http.post(
                "/login",
                environ_base={"REMOTE_ADDR": self.address},
                data={"email": email, "password": password, "csrf_token": match.group(1) or match.group(2)},
            )


def test_an_inactive_account_is_told_so_only_with_the_right_password(core):
    person = core.staff["practitioner"]
    person.active = False
    db.session.commit()
    limit = core.app.config["LOGIN_MAX_FAILURES"]
    right = _Browser(core.app).login(person.email, TEST_PASSWORD)
    assert right.status_code == 200 and "This account is not active" in _text(right)
    wrong = _Browser(core.app).login(person.email, WRONG)
    nobody = _Browser(core.app).login("nobody@test.example.com", WRONG)
    assert "not active" not in _text(wrong)
    generic = lambda response: re.sub(r"\s+", " ", _text(response).split("Log in", 2)[-1])  # noqa: E731
    assert "Invalid" in _text(wrong) or "invalid" in _text(wrong)
    assert generic(wrong).replace(person.email, "") == generic(nobody).replace("nobody@test.example.com", "")
    failures = db.session.execute(
        db.select(db.func.count(AuditEvent.id)).where(
            AuditEvent.action == "login.failure", AuditEvent.object_id == person.email
        )
    ).scalar_one()
    assert failures == 2  # the inactive attempt counts as a failure like the wrong password
    for _ in range(limit - failures):
        _Browser(core.app).login(person.email, WRONG)
    assert _Browser(core.app, "192.0.2.50").login(person.email, TEST_PASSWORD).status_code == 429
    person.active = True
    db.session.commit()
    assert _Browser(core.app, "192.0.2.51").login(person.email, TEST_PASSWORD).status_code == 429  # still locked


# --- A weekday with its date ------------------------------------------------------------------------------------------


def test_rows_that_show_a_weekday_also_show_the_date(core, login):
    client = core.client(consents=[KEY])
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=30, second=0, microsecond=0)
    core.booked(client, KEY, when=tomorrow)
    for role in ("manager", "practitioner"):  # the front desk's home is the appointment book (its own test)
        page = login(role).get("/admin/").get_data(as_text=True)
        table = page[page.index('id="upcoming"') : page.index("</table>", page.index('id="upcoming"'))]
        cells = re.findall(r"<td>(.*?)</td>", table, re.S)
        weekday_cells = [c for c in cells if re.search(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b", _plain(c))]
        assert weekday_cells, role
        for cell in weekday_cells:
            assert re.search(r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b", _plain(cell)), cell
        assert tomorrow.strftime("%a %d %b 10:30") in page


def _plain(fragment):
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))
