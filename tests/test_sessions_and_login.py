"""Sessions and ways in under hostile and careless use: a logout ends every copy of the session, "Remember me" is the
clinic's choice and lasts at most 12 hours, https deployments get Secure cookies and HSTS; every way in (form, JSON,
second factor, re-authentication) counts towards one throttle per account and per address, a login refused before
any credential was checked never counts, and passwords up to 128 characters work."""

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from flask_login.utils import encode_cookie

from clinicadmin import sessions
from clinicadmin.deployment_secrets import new_secrets
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, User
from clinicadmin.testing import CSRF_RE, TEST_PASSWORD

WRONG = "wrong-password-123"
EVIL_NEXT = "https://evil.example/phish"


class Browser:
    """An anonymous browser (its own cookies and address) that logs in with the form or with JSON."""

    def __init__(self, app, address="127.0.0.1"):
        self.app, self.http, self.address = app, app.test_client(), address

    def open(self, method, url, **kwargs):
        kwargs.setdefault("environ_base", {"REMOTE_ADDR": self.address})
        with self.app.app_context():
            return self.http.open(url, method=method, **kwargs)

    def token(self, page="/login"):
        match = CSRF_RE.search(self.open("GET", page, follow_redirects=True).get_data(as_text=True))
        return match.group(1) or match.group(2)

    def form_login(self, email, password=TEST_PASSWORD, url="/login", **fields):
        return self.open("POST", url, data={"email": email, "password": password, "csrf_token": self.token(), **fields})

    def json_login(self, email, password=TEST_PASSWORD, url="/login", **fields):
        body = {"email": email, "password": password, **fields}
        return self.open(
            "POST", url, json={k: v for k, v in body.items() if v is not None}, headers={"X-CSRFToken": self.token()}
        )

    def login(self, way, email, password=TEST_PASSWORD, **fields):
        return (self.form_login if way == "form" else self.json_login)(email, password, **fields)

    def in_panel(self):
        return self.open("GET", "/admin/client/").status_code == 200

    def cookie(self, name="session"):
        found = self.http.get_cookie(name)
        return found.value if found else None

    def copy(self):
        """Another browser holding a copy of this one's session cookie (as someone who copied it would)."""
        other = Browser(self.app, self.address)
        other.http.set_cookie("session", self.cookie())
        return other


def _logged_in(way):
    assert way in ("form", "json")
    return lambda response: response.status_code == (302 if way == "form" else 200)


def _actions(account):
    return [
        a
        for (a,) in db.session.execute(
            db.select(AuditEvent.action).where(AuditEvent.object_id == account).order_by(AuditEvent.seq)
        )
    ]


def _set_cookies(response):
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


# --- Logout ends the session everywhere ------------------------------------------------------------------------------


@pytest.mark.parametrize("way", ["form", "json"])
def test_logout_ends_every_copy_of_the_session(core, way):
    email = core.staff["manager"].email
    browser = Browser(core.app)
    assert _logged_in(way)(browser.login(way, email)) and browser.in_panel()
    copied = browser.copy()
    elsewhere = Browser(core.app, "198.51.100.7")  # the same person on another computer
    assert elsewhere.form_login(email).status_code == 302
    assert copied.in_panel() and elsewhere.in_panel()

    if way == "form":
        assert browser.open("POST", "/logout", data={"csrf_token": browser.token("/admin/")}).status_code == 302
    else:
        assert (
            browser.open("POST", "/logout", json={}, headers={"X-CSRFToken": browser.token("/admin/")}).status_code
            == 200
        )
    for after in (browser, copied, elsewhere):
        response = after.open("GET", "/admin/client/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "logout" in _actions(email)
    assert Browser(core.app).form_login(email).status_code == 302  # logging in again works


def test_a_session_cannot_be_opened_with_an_authentication_token(core):
    browser = Browser(core.app)
    response = browser.json_login(core.staff["manager"].email, url="/login?include_auth_token")
    assert response.status_code == 200
    token = response.get_json()["response"]["user"].get("authentication_token")
    assert token  # Flask-Security still hands one out; it opens nothing
    stranger = Browser(core.app)
    for request in ({"headers": {"Authentication-Token": token}}, {"query_string": {"auth_token": token}}):
        opened = stranger.open("GET", "/admin/client/", **request)
        assert opened.status_code == 302 and "/login" in opened.headers["Location"]


# --- Remember me ---------------------------------------------------------------------------------------------------


def _remember_hours(core, login, hours):
    response = login("manager").post("/admin/settings/", data={sessions.REMEMBER_SETTING: str(hours)})
    return response


@pytest.mark.parametrize("way", ["form", "json"])
def test_remember_me_is_off_unless_the_clinic_offers_it(core, way):
    email = core.staff["practitioner"].email
    page = Browser(core.app).open("GET", "/login").get_data(as_text=True)
    assert 'name="remember"' not in page
    browser = Browser(core.app)
    response = browser.login(way, email, remember="y" if way == "form" else True)
    assert _logged_in(way)(response)
    cookies = _set_cookies(response)
    assert "remember_token" not in cookies
    assert "Expires" not in cookies["session"]  # the browser forgets it when it closes


def test_an_old_remember_cookie_opens_nothing(core):
    """Earlier versions issued Flask-Login's remember cookie for a year; one copied then is refused and removed."""
    user = core.staff["manager"]
    stranger = Browser(core.app)
    with core.app.test_request_context():
        stranger.http.set_cookie("remember_token", encode_cookie(user.fs_uniquifier))
    response = stranger.open("GET", "/admin/client/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "remember_token=;" in _set_cookies(response).get("remember_token", "")


@pytest.mark.parametrize("way", ["form", "json"])
def test_a_manager_offers_remember_me_for_at_most_12_hours(core, login, way, monkeypatch):
    refused = _remember_hours(core, login, 13)
    assert refused.status_code == 200 and "must be at most 12" in refused.get_data(as_text=True)
    assert sessions.REMEMBER_SETTING not in [
        a for (a,) in db.session.execute(db.select(AuditEvent.object_id).where(AuditEvent.action == "setting.change"))
    ]
    assert _remember_hours(core, login, 8).status_code == 302

    page = Browser(core.app).open("GET", "/login").get_data(as_text=True)
    assert 'name="remember"' in page and "for 8 hours" in page
    browser = Browser(core.app)
    before = datetime.now(UTC)
    response = browser.login(way, core.staff["practitioner"].email, remember="y" if way == "form" else True)
    assert _logged_in(way)(response)
    cookies = _set_cookies(response)
    assert "remember_token" not in cookies
    expires = parsedate_to_datetime(cookies["session"].split("Expires=")[1].split(";")[0])
    assert abs((expires - before).total_seconds() - 8 * 3600) < 120
    assert browser.in_panel()

    # Eight hours later the server ends it, even for a copy that a browser would have thrown away.
    copied = browser.copy()
    later = time.time() + 8 * 3600 + 60
    monkeypatch.setattr(sessions, "time", type("Later", (), {"time": staticmethod(lambda: later)}))
    for holder in (copied, browser):
        ended = holder.open("GET", "/admin/client/")
        assert ended.status_code == 302 and "/login" in ended.headers["Location"]
        assert not holder.in_panel()
    assert "logout.remember_expired" in _actions(core.staff["practitioner"].email)


def test_a_remembered_session_still_ends_at_logout(core, login):
    _remember_hours(core, login, 12)
    browser = Browser(core.app)
    assert browser.form_login(core.staff["practitioner"].email, remember="y").status_code == 302
    copied = browser.copy()
    assert copied.in_panel()
    browser.open("POST", "/logout", data={"csrf_token": browser.token("/admin/")})
    assert not copied.in_panel() and not browser.in_panel()


# --- HTTPS -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("https", [True, False])
def test_over_https_cookies_are_secure_and_hsts_is_sent(app_factory, https):
    app = app_factory(HTTPS=https, PLUGINS_ENABLED=[])
    with app.app_context():
        response = Browser(app).open("GET", "/login")
    assert ("Secure" in _set_cookies(response)["session"]) is https
    assert ("Strict-Transport-Security" in response.headers) is https
    if https:
        assert int(response.headers["Strict-Transport-Security"].split("max-age=")[1]) >= 365 * 24 * 3600
        assert app.config["REMEMBER_COOKIE_SECURE"] and app.config["PREFERRED_URL_SCHEME"] == "https"


@pytest.fixture
def deployment(database_url, tmp_path, monkeypatch):
    """The environment of a deployment: the app is built from it alone, as a WSGI server builds it."""
    for name, value in {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "PLUGINS_ENABLED": "[]",
        "RATELIMIT_STORAGE_URI": "memory://",  # rate limits per process, explicitly (tests/test_rate_limits.py)
    }.items():
        monkeypatch.setenv(f"CLINICADMIN_{name}", value)
    for name, value in new_secrets().items():  # the deployment's secrets (test_deployment_secrets: without them)
        monkeypatch.setenv(f"CLINICADMIN_{name}", value if isinstance(value, str) else json.dumps(value))
    monkeypatch.delenv("CLINICADMIN_HTTPS", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    return monkeypatch


def test_a_server_in_production_refuses_to_start_without_the_https_setting(deployment):
    from clinicadmin import create_app

    with pytest.raises(RuntimeError, match="Set HTTPS"):
        create_app()
    deployment.setenv("CLINICADMIN_HTTPS", "false")  # the explicit opt-out: plain http
    assert create_app().config["SESSION_COOKIE_SECURE"] is False
    deployment.setenv("CLINICADMIN_HTTPS", "true")
    assert create_app().config["SESSION_COOKIE_SECURE"] is True
    deployment.delenv("CLINICADMIN_HTTPS")
    deployment.setenv("FLASK_DEBUG", "1")  # development
    assert create_app().debug


def test_clinicadmin_run_refuses_to_serve_without_the_https_setting_but_chores_run(deployment, cli):
    deployment.delenv("CLINICADMIN_HTTPS", raising=False)
    served = subprocess.run(
        [sys.executable, "-c", "from clinicadmin.cli import main; main()", "run", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode != 0 and "Set HTTPS" in served.stderr
    assert cli("check").exit_code == 0  # chores serve nothing: they run before the setting is decided


# --- One throttle for every way in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["form", "json", "both"])
def test_every_way_in_counts_towards_one_lock_per_account(core, failing):
    email = core.staff["practitioner"].email
    limit = core.app.config["LOGIN_MAX_FAILURES"]
    browser = Browser(core.app)
    for n in range(limit):
        way = failing if failing != "both" else ("form", "json")[n % 2]
        assert browser.login(way, email, WRONG).status_code in (200, 400)
    for way in ("form", "json"):
        refused = Browser(core.app, "192.0.2.44").login(way, email)  # the right password, from elsewhere
        assert refused.status_code == 429
        if way == "json":
            assert "Too many failed logins" in refused.get_json()["response"]["errors"][0]
    assert _actions(email).count("login.failure") == limit
    assert _logged_in("json")(Browser(core.app).json_login(core.staff["manager"].email))  # others are not locked


def test_any_spelling_of_an_e_mail_counts_towards_its_account(core):
    email = core.staff["practitioner"].email
    spellings = [email.upper(), email.title(), email.capitalize(), email.replace("@test", "@TEST")]
    browser = Browser(core.app)
    for n, typed in enumerate(spellings + [email]):
        browser.login(("form", "json")[n % 2], typed, WRONG)
    assert _actions(email).count("login.failure") == len(spellings) + 1
    assert Browser(core.app, "192.0.2.45").json_login(email.upper()).status_code == 429


def test_failures_from_one_address_lock_that_address_whatever_the_way(core):
    """Spraying guesses from one address, by form, JSON and a logged-in session's re-authentication, locks it."""
    limit = core.app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    spraying, signed_in = Browser(core.app, "203.0.113.66"), Browser(core.app, "203.0.113.66")
    assert signed_in.form_login(core.staff["front_desk"].email).status_code == 302
    for n in range(limit):
        way = "verify" if n < 3 else ("form", "json")[n % 2]  # (fewer than lock the signed-in account itself)
        if way == "verify":
            signed_in.open("POST", "/verify", data={"password": WRONG, "csrf_token": signed_in.token("/verify")})
        else:
            spraying.login(way, f"guess{n}@example.com", WRONG)
    assert spraying.json_login(core.staff["manager"].email).status_code == 429
    assert spraying.form_login(core.staff["manager"].email).status_code == 429
    assert Browser(core.app, "203.0.113.67").form_login(core.staff["manager"].email).status_code == 302


@pytest.mark.parametrize("way", ["form", "json"])
def test_wrong_passwords_at_re_authentication_count_towards_the_lock(core, login, way):
    email = core.staff["manager"].email
    browser = Browser(core.app)
    assert browser.form_login(email).status_code == 302
    for _ in range(core.app.config["LOGIN_MAX_FAILURES"]):
        if way == "form":
            browser.open("POST", "/verify", data={"password": WRONG, "csrf_token": browser.token("/verify")})
        else:
            browser.open("POST", "/verify", json={"password": WRONG}, headers={"X-CSRFToken": browser.token("/verify")})
    assert _actions(email).count("login.failure") == core.app.config["LOGIN_MAX_FAILURES"]
    assert Browser(core.app, "192.0.2.46").form_login(email).status_code == 429


def test_every_flask_security_endpoint_is_known_to_the_throttle(app_factory):
    """A way in turned on later (unified sign-in, password change ...) stops start-up until it is throttled."""
    for feature in (
        {"SECURITY_UNIFIED_SIGNIN": True, "SECURITY_US_ENABLED_METHODS": ["password", "authenticator"]},
        {"SECURITY_CHANGEABLE": True},
    ):
        with pytest.raises(RuntimeError, match="login_guard does not know"):
            app_factory(PLUGINS_ENABLED=[], **feature)


@pytest.mark.parametrize(
    "fields",
    [
        {"next": EVIL_NEXT},  # a crafted link, with the right password
        {"next": EVIL_NEXT, "password": WRONG},  # ... or a wrong one: not checked either, so nothing is learnt
        {"password": ""},  # no password
        {"email": "not an e-mail"},
    ],
)
@pytest.mark.parametrize("way", ["form", "json"])
def test_a_login_refused_before_any_credential_is_checked_never_counts(core, way, fields):
    email = core.staff["practitioner"].email
    typed, password = fields.get("email", email), fields.get("password", TEST_PASSWORD)
    extra = {k: v for k, v in fields.items() if k not in ("email", "password")}
    url = "/login"
    if way == "form" and "next" in extra:  # as a link would carry it
        url = "/login?next=" + extra.pop("next")
    browser = Browser(core.app)
    for _ in range(core.app.config["LOGIN_MAX_FAILURES"] + 1):
        response = browser.login(way, typed, password, url=url, **extra)
        assert response.status_code in (200, 400) and not browser.in_panel()
    assert "login.failure" not in _actions(email) and "login.refused" in _actions(_canonical(typed))
    assert Browser(core.app).form_login(email).status_code == 302  # not locked out


def _canonical(typed):
    return typed.strip().lower()


# --- Passwords up to 128 characters ----------------------------------------------------------------------------------

LONG = "amber-otter-juggles-seven-quartz-lanterns-beneath-a-drowsy-harbor-while-nine-kites-drift-over-brass!"
assert len(LONG) == 100


def test_a_password_of_up_to_128_characters_is_accepted_and_logs_in(core, login):
    from clinicadmin.models import Role

    manager = login("manager")
    role = db.session.execute(db.select(Role).where(Role.name == "practitioner")).scalar_one()
    form = {"email": "long.pass@example.com", "full_name": "Long Pass", "roles": role.id, "active": "y"}
    too_long = manager.post("/admin/staff/new/", data={**form, "new_password": LONG + "x" * 29})
    assert too_long.status_code == 200 and "between 12 and 128 characters" in too_long.get_data(as_text=True)
    assert db.session.execute(db.select(User).where(User.email == form["email"])).first() is None
    assert manager.post("/admin/staff/new/", data={**form, "new_password": LONG + "x" * 28}).status_code == 302
    assert Browser(core.app).form_login(form["email"], LONG + "x" * 28).status_code == 302
    assert _logged_in("json")(Browser(core.app).json_login(form["email"], LONG + "x" * 28))


def test_the_command_line_accepts_a_long_password(cli):
    result = cli("create-user", "long@example.com", "--role", "manager", "--password-stdin", input=LONG + "\n")
    assert result.exit_code == 0, result.output
    assert db.session.execute(db.select(User).where(User.email == "long@example.com")).scalar_one().password


def test_guesses_sent_all_at_once_are_checked_one_at_a_time(app, staff):
    """A burst of 20 JSON logins (19 wrong, the right one last) from separate browsers: at most the allowed number of
    passwords are checked; the rest are refused with 429 before any check, so the right one cannot slip through."""
    import threading

    email, limit = staff["practitioner"].email, app.config["LOGIN_MAX_FAILURES"]
    browsers = [Browser(app, address=f"10.0.{i}.1") for i in range(20)]
    prepared = [(b, b.token()) for b in browsers]
    start, statuses, refused_enough = threading.Barrier(len(prepared)), {}, threading.Event()
    last = len(prepared) - 1

    def guess(i, browser, token):
        start.wait()
        if i == last:
            # The right password comes once the account has met its limit, while other guesses are still in flight
            # (not after a fixed delay: on a busy machine the limit may not be met by then, and it is not a guess).
            refused_enough.wait(60)
        statuses[i] = browser.open(
            "POST",
            "/login",
            json={"email": email, "password": TEST_PASSWORD if i == last else WRONG},
            headers={"X-CSRFToken": token},
        ).status_code
        if sum(status == 400 for status in list(statuses.values())) >= limit:
            refused_enough.set()

    threads = [threading.Thread(target=guess, args=(i, b, t)) for i, (b, t) in enumerate(prepared)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    checked = [s for i, s in statuses.items() if s != 429]
    assert len(checked) <= limit, statuses
    assert statuses[last] == 429, statuses
    db.session.expire_all()
    failures = db.session.execute(
        db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "login.failure")
    ).scalar()
    assert failures <= limit
    assert statuses[len(prepared) - 1] == 429
