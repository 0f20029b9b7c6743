"""Two-factor sign-in: each person may turn it on, a manager may require it of all staff; a code is accepted once,
wrong codes lock the account like wrong passwords, and a lost phone is a recovery code or a manager's reset."""

import json
import re
import time

from passlib.totp import TOTP

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, User
from clinicadmin.testing import CSRF_RE, TEST_PASSWORD

KEY_RE = re.compile(r'<code id="authr-key">([^<]+)</code>')


class Phone:
    """An authenticator app: holds the key shown at set-up and makes codes, one time step after another."""

    def __init__(self, key):
        self.totp = TOTP(key=key.replace("-", "").replace(" ", ""), format="base32")
        self.step = 0

    def code(self):
        self.step += 1  # each login uses a later time step, as a person logging in again a minute later would
        return self.totp.generate(time.time() + 30 * (self.step - 1)).token

    def same_code_again(self):
        return self.totp.generate(time.time() + 30 * (self.step - 1)).token


def _token(html):
    match = CSRF_RE.search(html)
    return match.group(1) or match.group(2)


def _turn_on(http):
    """Set up an authenticator from the account page; returns the phone."""
    page = http.post("/tf-setup", data={"setup": "authenticator"}).get_data(as_text=True)
    phone = Phone(KEY_RE.search(page).group(1))
    action = re.search(r'action="(/tf-setup/[^"]+|/tf-validate)"', page).group(1)
    done = http.post(action, data={"code": phone.code(), "csrf_token": _token(page)}, follow_redirects=True)
    assert "two-factor" in done.get_data(as_text=True).lower()
    db.session.expire_all()
    return phone


class Visitor:
    """An anonymous browser at the login page."""

    def __init__(self, app):
        self.app, self.http = app, app.test_client()

    def open(self, method, url, **kwargs):
        with self.app.app_context():
            return self.http.open(url, method=method, **kwargs)

    def post(self, url, data, page="/login"):
        html = self.open("GET", page, follow_redirects=True).get_data(as_text=True)
        return self.open("POST", url, data={**data, "csrf_token": _token(html)})

    def password(self, email, password=TEST_PASSWORD):
        return self.post("/login", {"email": email, "password": password})

    def code(self, code):
        return self.post("/tf-validate", {"code": code}, page="/tf-validate")

    def in_panel(self):
        return self.open("GET", "/admin/client/").status_code == 200


def _actions(email):
    return [
        a
        for (a,) in db.session.execute(
            db.select(AuditEvent.action).where(AuditEvent.object_id == email).order_by(AuditEvent.seq)
        )
    ]


def test_a_person_turns_on_two_factor_and_then_logs_in_with_a_code(core, login):
    email = core.staff["practitioner"].email
    phone = _turn_on(login("practitioner"))
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
    assert user.tf_primary_method == "authenticator" and user.tf_totp_secret
    assert phone.totp.base32_key not in user.tf_totp_secret  # stored encrypted with the instance's key
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "user.two_factor_enabled")).first()

    visitor = Visitor(core.app)
    after_password = visitor.password(email)
    assert after_password.status_code == 302 and "/tf-validate" in after_password.headers["Location"]
    assert not visitor.in_panel()  # the password alone does not log in
    wrong = visitor.code("000000")
    assert wrong.status_code == 200 and not visitor.in_panel()
    assert visitor.code(phone.code()).status_code == 302 and visitor.in_panel()
    assert _actions(email)[-3:] == ["login.second_factor_required", "login.failure", "login.success"]


def test_a_code_is_accepted_only_once(core, login):
    email = core.staff["manager"].email
    phone = _turn_on(login("manager"))
    first = Visitor(core.app)
    first.password(email)
    used = phone.code()
    assert first.code(used).status_code == 302 and first.in_panel()
    replay = Visitor(core.app)
    replay.password(email)
    assert replay.code(used).status_code == 200 and not replay.in_panel()
    assert replay.code(phone.code()).status_code == 302 and replay.in_panel()


def test_wrong_codes_lock_the_account_like_wrong_passwords(core, login):
    email = core.staff["practitioner"].email
    phone = _turn_on(login("practitioner"))
    visitor = Visitor(core.app)
    visitor.password(email)
    for _ in range(core.app.config["LOGIN_MAX_FAILURES"]):
        assert visitor.code("123456").status_code == 200
    locked = visitor.code(phone.code())
    assert locked.status_code == 429 and not visitor.in_panel()
    assert _actions(email)[-1] == "login.throttled"
    assert Visitor(core.app).password(email).status_code == 429  # the password step is locked too


def test_a_manager_can_require_two_factor_of_all_staff(core, login):
    practitioner = login("practitioner")
    assert practitioner.get("/admin/client/").status_code == 200
    manager = login("manager")
    manager.post("/admin/settings/", data={"security.require_two_factor": "1"})
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "setting.change")).first()

    sent = practitioner.get("/admin/client/")  # a session already open goes to the set-up at its next page
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/tf-setup")
    assert "requires two-factor" in practitioner.get("/tf-setup").get_data(as_text=True)

    visitor = Visitor(core.app)  # a new login must set it up before reaching anything
    to_setup = visitor.password(core.staff["front_desk"].email)
    assert to_setup.status_code == 302 and "/tf-setup" in to_setup.headers["Location"]
    assert not visitor.in_panel()
    page = visitor.post("/tf-setup", {"setup": "authenticator"}, page="/tf-setup").get_data(as_text=True)
    assert "disable" not in page  # nobody may turn it off while the clinic requires it
    phone = Phone(KEY_RE.search(page).group(1))
    assert visitor.post("/tf-validate", {"code": phone.code()}, page="/tf-setup").status_code == 302
    assert visitor.open("GET", "/admin/client_desk/").status_code == 200
    refused = visitor.post("/tf-setup", {"setup": "disable"}, page="/tf-setup")
    assert refused.status_code == 200
    db.session.expire_all()
    assert (
        db.session.execute(
            db.select(User.tf_primary_method).where(User.email == core.staff["front_desk"].email)
        ).scalar_one()
        == "authenticator"
    )


def test_a_recovery_code_logs_in_once_without_the_phone(core, login):
    email = core.staff["practitioner"].email
    http = login("practitioner")
    _turn_on(http)
    page = http.post("/mf-recovery-codes", data={"generate_new_codes": "1"}).get_data(as_text=True)
    codes = re.findall(r'<li class="fs-div">([^<]+)</li>', page)
    assert len(codes) == 5
    visitor = Visitor(core.app)
    visitor.password(email)
    assert visitor.post("/mf-recovery", {"code": codes[0]}, page="/mf-recovery").status_code == 302
    assert visitor.in_panel()
    again = Visitor(core.app)
    again.password(email)
    assert again.post("/mf-recovery", {"code": codes[0]}, page="/mf-recovery").status_code == 200
    assert not again.in_panel()
    assert _actions(email)[-1] == "login.failure"


def test_the_rescue_page_sends_no_mail_and_points_to_recovery_codes(core, login):
    _turn_on(login("practitioner"))
    visitor = Visitor(core.app)
    visitor.password(core.staff["practitioner"].email)
    rescue = visitor.post("/tf-rescue", {"help_setup": "help"}, page="/tf-validate")
    assert rescue.status_code == 302
    assert "recovery code" in visitor.open("GET", "/mf-recovery").get_data(as_text=True).lower()
    assert not visitor.in_panel()


def test_a_manager_resets_the_two_factor_of_someone_who_lost_their_phone(core, login):
    email = core.staff["practitioner"].email
    practitioner = login("practitioner")
    _turn_on(practitioner)
    target = core.staff["practitioner"].id
    manager = login("manager")
    assert "Reset two-factor sign-in" in manager.get("/admin/staff/").get_data(as_text=True)
    manager.post("/admin/staff/action/", data={"action": "reset_two_factor", "rowid": [target]})
    db.session.expire_all()
    user = db.session.get(User, target)
    assert user.tf_primary_method is None and user.tf_totp_secret is None and not user.mf_recovery_codes
    assert practitioner.get("/admin/client/").status_code == 302  # the old session has ended
    assert "user.two_factor_reset" in [a for (a,) in db.session.execute(db.select(AuditEvent.action))]
    visitor = Visitor(core.app)
    assert visitor.password(email).status_code == 302 and visitor.in_panel()  # the password alone again

    # a manager cannot reset an administrator's, nor their own (that is done on their own account page)
    admin_id, manager_id = core.staff["admin"].id, core.staff["manager"].id
    _turn_on(login("admin"))
    for rowid in (admin_id, manager_id):
        manager.post("/admin/staff/action/", data={"action": "reset_two_factor", "rowid": [rowid]})
    db.session.expire_all()
    assert db.session.get(User, admin_id).tf_primary_method == "authenticator"
    practitioner_again = login("practitioner")
    practitioner_again.post("/admin/staff/action/", data={"action": "reset_two_factor", "rowid": [admin_id]})
    db.session.expire_all()
    assert db.session.get(User, admin_id).tf_primary_method == "authenticator"


def test_the_keys_that_encrypt_two_factor_secrets_are_generated_into_the_instance(tmp_path, database_url):
    from clinicadmin.app import create_app

    (tmp_path / "secrets.json").write_text(json.dumps({"SECRET_KEY": "kept", "SECURITY_PASSWORD_SALT": "salt"}))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path)})
    stored = json.loads((tmp_path / "secrets.json").read_text())
    assert stored["SECRET_KEY"] == "kept" == app.config["SECRET_KEY"]  # what existed is kept
    assert stored["SECURITY_TOTP_SECRETS"] == app.config["SECURITY_TOTP_SECRETS"] and stored["SECURITY_TOTP_SECRETS"]
    assert stored["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"]
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    again = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path)})
    assert again.config["SECURITY_TOTP_SECRETS"] == stored["SECURITY_TOTP_SECRETS"]  # generated once, then read
