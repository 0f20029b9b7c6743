"""The audit log is a hash chain that ``clinicadmin check`` verifies; logins are audited and throttled; an idle
session ends."""

import threading
import time

import pytest
from click.testing import CliRunner

from clinicadmin.audit import audit
from clinicadmin.cli import check
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent
from clinicadmin.testing import TEST_PASSWORD


def _check():
    result = CliRunner().invoke(check, catch_exceptions=False)
    return result.exit_code, result.output


def test_each_row_is_chained_to_the_one_before(core, login):
    login("manager").get("/admin/client/")
    rows = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    assert len(rows) >= 2 and [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:], strict=False))
    code, output = _check()
    assert code == 0 and f"the audit chain of {len(rows)} rows is unbroken" in output


@pytest.mark.parametrize(
    "tamper, message",
    [
        ("UPDATE audit_event SET detail = NULL WHERE seq = 2", "audit row 2 (id"),
        ("UPDATE audit_event SET outcome = 'ok' WHERE seq = 2", None),  # same value: nothing changed
        ("DELETE FROM audit_event WHERE seq = 2", "audit row 2 is missing"),
    ],
)
def test_a_changed_or_removed_row_breaks_the_chain(core, login, tamper, message):
    manager = login("manager")
    for page in ("/admin/client/?search=x", "/admin/client/", "/admin/treatment/"):
        manager.get(page)
    with db.engine.begin() as connection:  # beneath the application, as an attacker with database access would
        connection.exec_driver_sql(tamper)
    code, output = _check()
    if message is None:
        assert code == 0
    else:
        assert code == 1 and message in output


def test_concurrent_writers_never_fork_the_chain(core):
    app, errors = core.app, []

    def writer(n):
        try:
            with app.app_context():
                for i in range(10):
                    audit("test.concurrent", object_id=f"{n}-{i}")
                    db.session.commit()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            with app.app_context():
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "test.concurrent")
        ).scalar()
        == 40
    )
    assert _check()[0] == 0


def _attempt(app, email, password):
    from clinicadmin.testing import CSRF_RE

    http = app.test_client()
    with app.app_context():
        token = CSRF_RE.search(http.get("/login").get_data(as_text=True))
        return http.post(
            "/login", data={"email": email, "password": password, "csrf_token": token.group(1) or token.group(2)}
        )


def test_logins_are_audited_and_failures_throttled_per_account(core):
    app, email = core.app, core.staff["practitioner"].email
    assert _attempt(app, email, TEST_PASSWORD).status_code == 302
    unknown = _attempt(app, "nobody@example.com", "wrong-password-123").get_data(as_text=True)
    wrong = _attempt(app, email, "wrong-password-123").get_data(as_text=True)
    assert unknown.count("Invalid") == wrong.count("Invalid")  # the same message for both
    for _ in range(4):
        _attempt(app, email, "wrong-password-123")
    refused = _attempt(app, email, TEST_PASSWORD)  # even the right password, while locked
    assert refused.status_code == 429 and "Too many failed logins" in refused.get_data(as_text=True)
    actions = db.session.execute(
        db.select(AuditEvent.action, AuditEvent.object_id)
        .where(AuditEvent.action.like("login.%"))
        .order_by(AuditEvent.seq)
    ).all()
    assert actions[0] == ("login.success", email) and ("login.failure", "nobody@example.com") in actions
    assert actions.count(("login.failure", email)) == 5 and actions[-1] == ("login.throttled", email)
    assert _attempt(app, core.staff["manager"].email, TEST_PASSWORD).status_code == 302  # others are not locked


def test_an_idle_session_ends(core, login):
    http = login("manager")
    assert http.get("/admin/client/").status_code == 200
    with http.http.session_transaction() as session:
        session["last_seen"] = time.time() - 31 * 60
    response = http.get("/admin/client/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert http.get("/admin/client/").status_code == 302  # logged out for good
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "logout.idle")).first() is not None


def test_a_login_starts_a_new_session(core):
    from clinicadmin.testing import CSRF_RE

    http = core.app.test_client()
    with core.app.app_context():
        match = CSRF_RE.search(http.get("/login").get_data(as_text=True))
        before = match.group(1) or match.group(2)
        with http.session_transaction() as session:
            session["planted"] = "by someone else"
            token_before = session["csrf_token"]
        assert (
            http.post(
                "/login", data={"email": core.staff["manager"].email, "password": TEST_PASSWORD, "csrf_token": before}
            ).status_code
            == 302
        )
        assert http.get("/admin/").status_code == 200
        with http.session_transaction() as session:
            assert "planted" not in session and session.get("csrf_token") != token_before


@pytest.mark.parametrize("proxies, logged", [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_behind_a_trusted_proxy_the_forwarded_address_is_logged(app_factory, proxies, logged):
    from clinicadmin.testing import CSRF_RE

    app = app_factory(TRUSTED_PROXIES=proxies, PLUGINS_ENABLED=[])
    with app.app_context():
        http = app.test_client()
        token = CSRF_RE.search(http.get("/login").get_data(as_text=True))
        http.post(
            "/login",
            data={
                "email": "nobody@example.com",
                "password": "wrong-password-123",
                "csrf_token": token.group(1) or token.group(2),
            },
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert (
            db.session.execute(
                db.select(AuditEvent.remote_addr).where(AuditEvent.action == "login.failure")
            ).scalar_one()
            == logged
        )
