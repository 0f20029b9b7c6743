"""Rate limits on every sensitive endpoint (logins in every form, lookups, exports, reports): past its limit a request
is refused with 429 and Retry-After, as HTML for a page and JSON for a script, audited; it is let through again once
the window has passed; the counts are shared by every app on one Redis; a server in production mode will not keep
them per process unless told to; and the login lockout, counted in the database, holds across apps."""

import json
import os
import time
import uuid

import pytest
from fake_modality import FakeModality

from clinicadmin.app import create_app
from clinicadmin.deployment_secrets import new_secrets
from clinicadmin.extensions import db
from clinicadmin.login_guard import LOGIN_STEPS, REAUTHENTICATION
from clinicadmin.models import AuditEvent
from clinicadmin.testing import CSRF_RE, TEST_PASSWORD

WRONG = "wrong-password-123"
WINDOW = 3  # seconds: short, so that a test sees a limit recover
SHORT = f"3 per {WINDOW} seconds"


@pytest.fixture
def app_config():
    return {
        "PLUGINS_ENABLED": [],
        "EXTRA_PLUGINS": [("fake", FakeModality())],
        "RATELIMIT_ENABLED": True,
        **dict.fromkeys(
            (
                "RATE_LIMIT_LOGIN_PER_ADDRESS",
                "RATE_LIMIT_LOGIN_PER_ACCOUNT",
                "RATE_LIMIT_LOOKUPS",
                "RATE_LIMIT_EXPORTS",
                "RATE_LIMIT_REPORTS",
            ),
            SHORT,
        ),
    }


class Browser:
    """An anonymous browser at an address of its own, that logs in with the form."""

    def __init__(self, app, address):
        self.app, self.http, self.address = app, app.test_client(), address

    def open(self, method, url, **kwargs):
        with self.app.app_context():
            return self.http.open(url, method=method, environ_base={"REMOTE_ADDR": self.address}, **kwargs)

    def login(self, email, password=WRONG):
        match = CSRF_RE.search(self.open("GET", "/login").get_data(as_text=True))
        token = match.group(1) or match.group(2)
        return self.open("POST", "/login", data={"email": email, "password": password, "csrf_token": token})


def _refused(response, window=WINDOW):
    """The seconds a refusal asks to wait, after checking it is a rate limit's 429 that says so."""
    assert response.status_code == 429, response.status_code
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= window + 1
    assert f"Try again in {retry_after} seconds" in response.get_data(as_text=True)
    return retry_after


def test_each_sensitive_kind_is_refused_past_its_limit_and_let_through_after_the_window(core, login):
    manager = login("manager")  # (its login is one attempt from 127.0.0.1)
    account = core.staff["practitioner"].email
    addresses = iter(f"198.51.100.{n}" for n in range(1, 50))
    kinds = {
        "login per address": lambda n: Browser(core.app, "203.0.113.9").login(f"guess{n}@example.com"),
        "login per account": lambda n: Browser(core.app, next(addresses)).login(account),
        "lookups": lambda n: manager.get("/admin/desk/ajax/lookup/?name=client&query=a"),
        "exports": lambda n: manager.get("/admin/reports/stock-value.csv"),
        "reports": lambda n: manager.get("/admin/reports/stock-value"),
    }
    waits = {}
    for kind, ask in kinds.items():
        for n in range(3):
            assert ask(n).status_code != 429, (kind, n)
        refused = ask(3)
        waits[kind] = _refused(refused)
        if kind == "lookups":  # a script reads the reason from JSON
            assert "Too many searches" in refused.get_json()["error"]
        else:
            assert refused.mimetype == "text/html"
    assert Browser(core.app, "203.0.113.10").login("someone@example.com").status_code == 200  # another address
    assert manager.get("/admin/reports/").status_code == 200  # the list of reports is not a report

    audited = db.session.execute(
        db.select(AuditEvent.object_id).where(AuditEvent.action == "rate_limit.refused")
    ).scalars()
    assert sorted(audited) == ["exports", "login", "login", "lookups", "reports"]
    assert (
        db.session.execute(  # a refusal checks no password, so it is no failure towards the lockout
            db.select(db.func.count(AuditEvent.id)).where(
                AuditEvent.action == "login.failure", AuditEvent.object_id == account
            )
        ).scalar_one()
        == 3
    )

    time.sleep(max(waits.values()) + 0.2)
    for kind, ask in kinds.items():
        assert ask(4).status_code != 429, kind
    assert Browser(core.app, next(addresses)).login(account, TEST_PASSWORD).status_code == 302


def test_limits_are_off_under_testing_unless_turned_on(app_factory):
    plain = app_factory()
    assert plain.config["RATELIMIT_ENABLED"] is False
    browser = Browser(plain, "203.0.113.11")
    assert all(browser.login(f"guess{n}@example.com").status_code == 200 for n in range(12))


def _served_env(monkeypatch, tmp_path, **settings):
    for key in [k for k in os.environ if k.startswith("CLINICADMIN_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CLINICADMIN_INSTANCE_PATH", str(tmp_path / "served"))
    monkeypatch.setenv("CLINICADMIN_DATABASE_URL", f"sqlite:///{tmp_path / 'served.sqlite'}")
    monkeypatch.setenv("CLINICADMIN_HTTPS", "false")
    monkeypatch.setenv("CLINICADMIN_PLUGINS_ENABLED", "[]")
    # a production server starts only with the deployment's secrets (tests/test_deployment_secrets.py)
    secrets_file = tmp_path / "secrets.json"
    if not secrets_file.exists():
        secrets_file.write_text(json.dumps(new_secrets()))
    monkeypatch.setenv("CLINICADMIN_SECRETS_FILE", str(secrets_file))
    for key, value in settings.items():
        monkeypatch.setenv(f"CLINICADMIN_{key}", value)


def test_a_server_in_production_refuses_limits_kept_per_process_unless_told(monkeypatch, tmp_path):
    _served_env(monkeypatch, tmp_path)
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        create_app()
    _served_env(monkeypatch, tmp_path, RATELIMIT_STORAGE_URI="memory://")
    assert create_app().config["RATELIMIT_STORAGE_URI"] == "memory://"
    _served_env(monkeypatch, tmp_path, REDIS_URL="redis://127.0.0.1:6379/0")
    assert create_app().config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url():
    """A Redis for the test (``CLINICADMIN_TEST_REDIS_URL``, default redis://127.0.0.1:6379/0); skipped when it is
    unreachable, except in CI (``CLINICADMIN_REQUIRE_POSTGRES``), where it fails."""
    import redis

    url = os.environ.get("CLINICADMIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:  # any failure to connect is a reason to skip
        if os.environ.get("CLINICADMIN_REQUIRE_POSTGRES"):
            pytest.fail(f"Redis not reachable at {url} ({exc}); CI requires it")
        pytest.skip(f"Redis not reachable at {url} ({exc}); set CLINICADMIN_TEST_REDIS_URL")
    return url


def test_two_apps_on_one_redis_share_the_counts_and_apps_in_memory_do_not(app_factory, redis_url):
    import redis

    prefix = f"clinicadmin-test-{uuid.uuid4().hex}"  # this run's keys only, whoever else uses the Redis
    shared = {"RATELIMIT_ENABLED": True, "RATE_LIMIT_LOGIN_PER_ADDRESS": "2 per 30 seconds"}
    try:
        one, other = (
            app_factory(**shared, RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix) for _ in range(2)
        )
        assert Browser(one, "203.0.113.20").login("a@example.com").status_code == 200
        assert Browser(other, "203.0.113.20").login("b@example.com").status_code == 200
        assert _refused(Browser(one, "203.0.113.20").login("c@example.com"), window=30) > WINDOW
        assert Browser(other, "203.0.113.20").login("d@example.com").status_code == 429
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)

    apart = [app_factory(**shared, RATELIMIT_STORAGE_URI="memory://") for _ in range(2)]
    for n in range(2):
        assert Browser(apart[0], "203.0.113.21").login(f"e{n}@example.com").status_code == 200
    assert Browser(apart[1], "203.0.113.21").login("f@example.com").status_code == 200  # its own count


def test_the_login_lockout_holds_in_every_app_on_the_database(core):
    """The lockout counts failures in the database, so a failure through one process counts in every other."""
    app = core.app
    twin = create_app(
        {
            "INSTANCE_PATH": app.instance_path,  # the same secrets
            "PLUGINS_ENABLED": [],
            "EXTRA_PLUGINS": [("fake", FakeModality())],
            **{
                key: app.config[key]
                for key in (
                    "SQLALCHEMY_DATABASE_URI",
                    "TESTING",
                    "SECRET_KEY",
                    "SECURITY_PASSWORD_SALT",
                    "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS",
                )
            },
        }
    )
    try:
        email = core.staff["practitioner"].email
        for n in range(app.config["LOGIN_MAX_FAILURES"]):
            assert Browser(app if n % 2 else twin, "192.0.2.60").login(email).status_code == 200
        for either in (app, twin):
            locked = Browser(either, "192.0.2.61").login(email, TEST_PASSWORD)
            assert locked.status_code == 429 and "Too many failed logins" in locked.get_data(as_text=True)
    finally:
        with twin.app_context():
            db.session.remove()
            db.engine.dispose()


def test_an_unreachable_redis_leaves_each_process_counting_in_memory(app_factory):
    """Redis gone while serving: no 500, and the limits still hold (per process) until it is back."""
    gone = app_factory(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",  # nothing listens on port 1
        RATE_LIMIT_LOGIN_PER_ADDRESS="2 per 30 seconds",
    )
    browser = Browser(gone, "203.0.113.30")
    assert [browser.login(f"g{n}@example.com").status_code for n in range(2)] == [200, 200]
    _refused(browser.login("g3@example.com"), window=30)


def test_every_way_in_counts_towards_the_same_login_limits(core, login):
    """The login form, re-authentication and the JSON login share the account's limit; the JSON login hears why in
    Flask-Security's JSON shape. Every way in the login guard knows (second factor, recovery code ...) is limited."""
    manager = login("manager")  # the account's first attempt
    for _ in range(2):
        assert manager.post("/verify", data={"password": WRONG}).status_code == 200
    browser = Browser(core.app, "198.51.100.77")
    with core.app.app_context():
        token = CSRF_RE.search(browser.open("GET", "/login").get_data(as_text=True))
    refused = browser.open(
        "POST",
        "/login",
        json={"email": core.staff["manager"].email, "password": TEST_PASSWORD},
        headers={"X-CSRFToken": token.group(1) or token.group(2)},
    )
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= WINDOW + 1
    assert "Too many login attempts" in refused.get_json()["response"]["errors"][0]
    ways_in = set(LOGIN_STEPS) | set(REAUTHENTICATION)
    served = [e for e in core.app.view_functions if e in ways_in]
    assert "security.two_factor_token_validation" in served and "security.mf_recovery" in served
    assert all(core.app.view_functions[e].__name__ == f"limited[{e}]" for e in served), served
