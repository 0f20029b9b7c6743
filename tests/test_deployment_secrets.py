"""Secrets belong to the deployment: servers given the same environment accept each other's sessions, CSRF tokens,
passwords and two-factor codes; a production server without them refuses to start and names them; keys rotate."""

import json
import re

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from passlib.totp import TOTP

from clinicadmin.cli import main
from clinicadmin.config import SECRET_KEYS
from clinicadmin.deployment_secrets import MissingSecrets, as_env_lines, new_secrets
from clinicadmin.extensions import db
from clinicadmin.models import User
from clinicadmin.testing import CSRF_RE, TEST_PASSWORD

EMAIL = "nurse@example.com"
KEY_RE = re.compile(r'<code id="authr-key">([^<]+)</code>')


def _token(html):
    match = CSRF_RE.search(html)
    return match.group(1) or match.group(2)


class Browser:
    """One browser (one cookie jar) that can be pointed at another server of the same clinic."""

    def __init__(self, app):
        self.app, self.http = app, app.test_client()

    def to(self, app):
        """The same browser, its cookies kept, now talking to ``app``."""
        moved = Browser(app)
        cookie = self.http.get_cookie(app.config["SESSION_COOKIE_NAME"])  # the sign-in and the CSRF secret
        if cookie is not None:
            moved.http.set_cookie(cookie.key, cookie.value)
        return moved

    def open(self, method, url, **kwargs):
        with self.app.app_context():
            return self.http.open(url, method=method, **kwargs)

    def page(self, url):
        return self.open("GET", url, follow_redirects=True).get_data(as_text=True)

    def post(self, url, data, token=None, page=None):
        """POST with the CSRF token of ``page`` (default ``url``), or the ``token`` given."""
        token = token or _token(self.page(page or url))
        return self.open("POST", url, data={**data, "csrf_token": token})

    def in_panel(self):
        return self.open("GET", "/admin/client/").status_code == 200


def _as_env(values):
    return {f"CLINICADMIN_{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


@pytest.fixture
def deployment(database_url, tmp_path, monkeypatch, cli):
    cli_fixture = cli
    """A clinic chain's environment: its database, no secrets yet (``deployment.secrets(...)`` sets them), and
    ``deployment.server(name)``: a server with an instance folder of its own, built from that environment."""
    for name in (*SECRET_KEYS, "SECRET_KEY_FALLBACKS", "SECRETS_FILE", "HTTPS"):
        monkeypatch.delenv(f"CLINICADMIN_{name}", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    from clinicadmin.app import create_app

    made = []

    class Deployment:
        cli = staticmethod(lambda *args, **kw: cli_fixture(*args, **kw))

        def secrets(self, values):
            for name, value in _as_env(values).items():
                monkeypatch.setenv(name, value)

        def server(self, name):
            app = create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": database_url,
                    "INSTANCE_PATH": str(tmp_path / name),
                    "TESTING": True,
                    "PLUGINS_ENABLED": [],
                }
            )
            made.append(app)
            return app

        def staff_member(self):
            """A manager made with ``clinicadmin create-user`` (the deployment's password salt)."""
            made = cli("create-user", EMAIL, "--role", "manager", "--password-stdin", input=TEST_PASSWORD + "\n")
            assert made.exit_code == 0, made.output

    yield Deployment()
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _log_in(browser, code=None):
    """Password, then (when given) the authenticator code; True when the panel opens."""
    browser.post("/login", {"email": EMAIL, "password": TEST_PASSWORD})
    if code is not None:
        browser.post("/tf-validate", {"code": code()})
    return browser.in_panel()


def _enrol(browser):
    """Turn on two-factor sign-in for the logged-in ``browser``; returns a function giving the next code."""
    page = browser.open(
        "POST", "/tf-setup", data={"setup": "authenticator", "csrf_token": _token(browser.page("/tf-setup"))}
    )
    page = page.get_data(as_text=True)
    phone = TOTP(key=KEY_RE.search(page).group(1).replace(" ", ""), format="base32")
    steps = iter(range(100))
    action = re.search(r'action="(/tf-setup/[^"]+|/tf-validate)"', page).group(1)

    def code():
        return phone.generate(phone.now() + 30 * next(steps)).token  # a later time step each login, no replay

    done = browser.open("POST", action, data={"code": code(), "csrf_token": _token(page)})
    assert done.status_code in (200, 302)
    db.session.expire_all()
    assert db.session.execute(db.select(User).filter_by(email=EMAIL)).scalar_one().tf_primary_method
    return code


def test_two_servers_with_the_deployments_secrets_accept_each_others_sessions_csrf_logins_and_codes(
    deployment, tmp_path
):
    deployment.secrets(new_secrets())
    deployment.staff_member()
    first, second = deployment.server("first"), deployment.server("second")
    assert first.instance_path != second.instance_path

    # a login form from one server is posted to the other: its session cookie and CSRF token hold there
    browser = Browser(first)
    token = _token(browser.page("/login"))
    browser = browser.to(second)
    assert browser.post("/login", {"email": EMAIL, "password": TEST_PASSWORD}, token=token).status_code == 302
    assert browser.to(first).in_panel()  # and the signed-in session back on the first

    code = _enrol(browser)  # two-factor set up on the second server ...
    assert _log_in(Browser(first), code)  # ... signs in on the first
    assert not (tmp_path / "first" / "secrets.json").exists()  # nothing of the machine's own


def test_a_production_server_without_its_secrets_refuses_to_start_and_names_them(deployment, monkeypatch, tmp_path):
    from clinicadmin.app import create_app

    monkeypatch.setenv("CLINICADMIN_HTTPS", "false")
    monkeypatch.setenv("CLINICADMIN_INSTANCE_PATH", str(tmp_path / "served"))
    with pytest.raises(MissingSecrets) as refused:
        create_app()
    assert all(name in str(refused.value) for name in SECRET_KEYS)
    assert not (tmp_path / "served" / "secrets.json").exists()  # nothing generated for it

    served = deployment.cli("run", "--port", "0")
    assert served.exit_code == 1 and "missing: SECRET_KEY, SECURITY_PASSWORD_SALT" in served.output
    assert "Traceback" not in served.output

    # a deployment that gives some of its secrets gives them all, even to a chore
    monkeypatch.setenv("CLINICADMIN_SECRET_KEY", "only-this-one")
    checked = deployment.cli("check")
    assert checked.exit_code == 1 and "missing: SECURITY_PASSWORD_SALT, SECURITY_TOTP_SECRETS" in checked.output


@pytest.mark.parametrize("form", ["json", "env"])
def test_clinicadmin_secrets_generate_writes_a_private_file_a_production_server_starts_from(
    deployment, monkeypatch, tmp_path, form
):
    from clinicadmin.app import create_app

    file = tmp_path / f"clinic-secrets.{form}"
    made = CliRunner().invoke(main, ["secrets", "generate", str(file), "--format", form])
    assert made.exit_code == 0, made.output
    assert file.stat().st_mode & 0o777 == 0o600
    again = CliRunner().invoke(main, ["secrets", "generate", str(file)])
    assert again.exit_code == 1 and "never overwritten" in again.output

    monkeypatch.setenv("CLINICADMIN_HTTPS", "false")
    monkeypatch.setenv("CLINICADMIN_RATELIMIT_STORAGE_URI", "memory://")  # one process (tests/test_rate_limits.py)
    monkeypatch.setenv("CLINICADMIN_INSTANCE_PATH", str(tmp_path / "served"))
    monkeypatch.setenv("CLINICADMIN_SECRETS_FILE", str(file))
    app = create_app()
    values = json.loads(file.read_text()) if form == "json" else None
    if values:
        assert {name: app.config[name] for name in SECRET_KEYS} == values
    assert all(app.config[name] for name in SECRET_KEYS)
    monkeypatch.setenv("CLINICADMIN_SECRET_KEY", "from-the-environment")  # a variable wins over the file
    assert create_app().config["SECRET_KEY"] == "from-the-environment"

    printed = CliRunner().invoke(main, ["secrets", "generate"]).output
    assert sorted(re.findall(r"^CLINICADMIN_(\w+)=", printed, re.M)) == sorted(SECRET_KEYS)


def test_rotated_keys_still_accept_what_the_old_ones_signed_and_encrypted(deployment, monkeypatch):
    old = new_secrets()
    deployment.secrets(old)
    deployment.staff_member()
    before = deployment.server("before")
    signed_in = Browser(before)
    assert _log_in(signed_in)
    code = _enrol(signed_in)
    generated = signed_in.post("/mf-recovery-codes", {"generate_new_codes": "1"}).get_data(as_text=True)
    assert len(re.findall(r'<li class="fs-div">([^<]+)</li>', generated)) == 5
    login_form = Browser(before)
    token = _token(login_form.page("/login"))

    fresh = new_secrets()
    rotated = {
        **old,
        "SECRET_KEY": fresh["SECRET_KEY"],
        "SECRET_KEY_FALLBACKS": [old["SECRET_KEY"]],
        "SECURITY_TOTP_SECRETS": {"1": old["SECURITY_TOTP_SECRETS"]["1"], "2": fresh["SECURITY_TOTP_SECRETS"]["1"]},
        "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS": [
            fresh["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"][0],
            old["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"][0],
        ],
    }
    deployment.secrets(rotated)
    after = deployment.server("after")
    assert signed_in.to(after).in_panel()  # a session signed with the old key
    posted = login_form.to(after).post("/login", {"email": EMAIL, "password": TEST_PASSWORD}, token=token)
    assert posted.status_code == 302  # a CSRF token signed with the old key
    assert _log_in(Browser(after), code)  # a two-factor secret encrypted with the old key

    # that login re-encrypted the secret and the recovery codes with the new keys: the old ones can go
    user = db.session.execute(db.select(User).filter_by(email=EMAIL)).scalar_one()
    db.session.refresh(user)
    assert '"2"' in user.tf_totp_secret
    newest = Fernet(fresh["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"][0])
    assert user.mf_recovery_codes and all(newest.decrypt(c.encode()) for c in user.mf_recovery_codes)
    # the old keys dropped (the password salt stays: it cannot rotate)
    deployment.secrets(
        {
            "SECURITY_TOTP_SECRETS": {"2": fresh["SECURITY_TOTP_SECRETS"]["1"]},
            "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS": fresh["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"],
        }
    )
    monkeypatch.delenv("CLINICADMIN_SECRET_KEY_FALLBACKS")
    new_only = deployment.server("new-only")
    assert not signed_in.to(new_only).in_panel()  # without the fallback, the old session no longer holds
    assert _log_in(Browser(new_only), code)


def test_env_lines_round_trip_through_a_shell_style_secrets_file(tmp_path):
    from clinicadmin.deployment_secrets import read_secrets_file

    values = new_secrets()
    file = tmp_path / "secrets.env"
    file.write_text("# the clinic chain's secrets\n" + as_env_lines(values))
    assert read_secrets_file(file) == values
