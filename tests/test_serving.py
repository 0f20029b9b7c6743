"""Serving a clinic: ``/healthz`` and ``/readyz`` for a load balancer, the request id that ties a page to its log
lines, structured (JSON) logs, and ``clinicadmin serve`` running gunicorn with the shipped settings."""

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import event, text

from clinicadmin import health
from clinicadmin.deployment_secrets import new_secrets
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent
from clinicadmin.request_log import _ClinicHandler


def _statements(app):
    """A list that fills with every SQL statement the app's engine runs (stop with ``.stop()``)."""
    seen = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", note)


def _audit_rows():
    return db.session.execute(db.select(db.func.count()).select_from(AuditEvent)).scalar()


def _bare(response):
    """What a probe relies on: no cookie, never cached, an id, and a body that says nothing more than it must."""
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert len(response.headers["X-Request-ID"]) >= 16
    assert response.mimetype == "text/plain"


def test_healthz_answers_without_login_session_or_database(app):
    audited = _audit_rows()
    seen, stop = _statements(app)
    try:
        response = app.test_client().get("/healthz")
    finally:
        stop()
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok\n"
    _bare(response)
    assert seen == []
    assert _audit_rows() == audited


def test_readyz_is_ok_when_the_database_answers_at_every_head(app):
    audited = _audit_rows()
    http = app.test_client()
    response = http.get("/readyz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok\n"
    _bare(response)
    assert _audit_rows() == audited
    # a GET without a CSRF token is what a probe sends; a POST is not offered
    assert http.post("/readyz").status_code == 405


def _set_revision(old, new):
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"), {"old": old, "new": new}
        )


def _older(app, head):
    from alembic.script import ScriptDirectory

    state = app.extensions["migrate"]
    script = ScriptDirectory.from_config(state.migrate.get_config(state.directory))
    return script.get_revision(head).down_revision


def test_readyz_is_not_ready_while_the_core_schema_is_behind(app, caplog):
    (head,) = health.expected_heads()  # the core's only: core tests load no plugin with tables
    older = _older(app, head)
    _set_revision(head, older)
    try:
        response = app.test_client().get("/readyz")
    finally:
        _set_revision(older, head)
    assert response.status_code == 503 and response.get_data(as_text=True) == "not ready\n"
    _bare(response)
    assert "clinicadmin db upgrade" in caplog.text and head in caplog.text
    assert app.test_client().get("/readyz").status_code == 200


def test_readyz_is_not_ready_while_a_plugin_branch_is_behind(app_factory, caplog):
    from alembic.script import ScriptDirectory

    every_plugin = app_factory(PLUGINS_ENABLED=None)
    with every_plugin.app_context():
        branches = every_plugin.extensions["clinicadmin"].migrations
        # `make` installs the shipped plugins, and cosmetic acupuncture keeps a table on its own branch
        assert branches, "no installed plugin has a migration branch: run `make install`"
        folder = str(next(iter(branches.values())))
        state = every_plugin.extensions["migrate"]
        script = ScriptDirectory.from_config(state.migrate.get_config(state.directory))
        (branch_head,) = [h for h in health.expected_heads() if script.get_revision(h).path.startswith(folder)]
        with db.engine.begin() as conn:  # the branch never applied, as when a plugin is installed and not migrated
            conn.execute(text("DELETE FROM alembic_version WHERE version_num = :v"), {"v": branch_head})
        try:
            response = every_plugin.test_client().get("/readyz")
        finally:
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": branch_head})
        assert response.status_code == 503 and response.get_data(as_text=True) == "not ready\n"
        assert branch_head in caplog.text
        assert every_plugin.test_client().get("/readyz").status_code == 200


def _refuse(dialect, conn_rec, cargs, cparams):
    raise OSError("connection refused")


def test_readyz_is_not_ready_when_the_database_does_not_answer(app, caplog):
    engine = db.engine
    db.session.remove()
    engine.dispose()
    event.listen(engine, "do_connect", _refuse)
    try:
        response = app.test_client().get("/readyz")
        health_response = app.test_client().get("/healthz")
    finally:
        event.remove(engine, "do_connect", _refuse)
        engine.dispose()
    assert response.status_code == 503 and response.get_data(as_text=True) == "not ready\n"
    _bare(response)
    assert "database_answers" in caplog.text
    assert health_response.status_code == 200  # the process is up: a restart would not help


def test_readyz_is_not_ready_when_a_configured_queue_does_not_answer(app_factory):
    with_queue = app_factory(REDIS_URL="redis://127.0.0.1:1/0")
    with with_queue.app_context():
        assert with_queue.test_client().get("/readyz").status_code == 503


def test_a_registered_readiness_check_decides_and_its_reason_stays_in_the_log(app, monkeypatch, caplog):
    monkeypatch.setattr(health, "READINESS_CHECKS", list(health.READINESS_CHECKS))
    health.readiness_check(lambda: "the mail relay is down (secret detail)")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and "secret" not in response.get_data(as_text=True)
    assert "the mail relay is down (secret detail)" in caplog.text


@pytest.fixture
def json_log(app_factory):
    """An app with ``LOG_FORMAT="json"`` and the lines its log handler writes (a StringIO); the handler is removed
    afterwards so that no other test logs through it."""
    root = logging.getLogger()
    level = root.level
    app = app_factory(LOG_FORMAT="json")
    (handler,) = [h for h in root.handlers if isinstance(h, _ClinicHandler)]
    lines = io.StringIO()
    handler.setStream(lines)
    try:
        with app.app_context():
            yield app, lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _records(lines):
    return [json.loads(line) for line in lines.getvalue().splitlines()]


def test_an_unhandled_error_is_logged_as_json_with_the_id_the_page_and_header_show(json_log):
    app, lines = json_log
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/test-boom")
    def boom():
        raise RuntimeError("the failure")

    response = app.test_client().get("/test-boom")
    rid = response.headers["X-Request-ID"]
    assert response.status_code == 500 and f"Reference: {rid}." in response.get_data(as_text=True)
    errors = [r for r in _records(lines) if r["level"] == "ERROR"]  # Flask's own line and the clinic's reference
    assert errors and all(r["request_id"] == rid and "RuntimeError: the failure" in r["exception"] for r in errors)
    assert [r for r in errors if r["message"] == f"error reference {rid}"]
    assert errors[0]["logger"] == "clinicadmin.app" and errors[0]["time"].endswith("+00:00")


def test_every_error_page_shows_the_request_id_of_its_response(app, login):
    front_desk = login("front_desk")
    shown = set()
    for url, code in (("/no-such-page", 404), ("/admin/audit/", 403), ("/no-such-page", 404)):
        response = front_desk.get(url)
        assert response.status_code == code, url
        assert f"Reference: {response.headers['X-Request-ID']}" in response.get_data(as_text=True), url
        shown.add(response.headers["X-Request-ID"])
    assert len(shown) == 3  # one id per request


def test_a_log_line_written_during_a_request_carries_its_id(json_log, monkeypatch):
    app, lines = json_log
    monkeypatch.setattr(health, "READINESS_CHECKS", [lambda: "held back for the test"])
    response = app.test_client().get("/readyz", headers={"X-Request-ID": "from-the-browser"})
    rid = response.headers["X-Request-ID"]
    assert rid != "from-the-browser"  # a browser's id is not taken unless REQUEST_ID_TRUSTED
    logging.getLogger("clinicadmin.test").warning("outside any request")
    *during, outside = _records(lines)
    (warning,) = [r for r in during if "held back for the test" in r["message"]]
    assert warning["request_id"] == rid and warning["level"] == "WARNING" and warning["logger"] == "clinicadmin.health"
    assert outside["message"] == "outside any request" and outside["request_id"] is None


@pytest.mark.parametrize(
    ("offered", "trusted", "kept"),
    [("lb-1234abcd", True, True), ("lb-1234abcd", False, False), ("<script>", True, False), ("x" * 65, True, False)],
)
def test_a_proxys_request_id_is_kept_only_when_trusted_and_well_formed(app_factory, offered, trusted, kept):
    configured = app_factory(REQUEST_ID_TRUSTED=trusted)
    with configured.app_context():
        response = configured.test_client().get("/healthz", headers={"X-Request-ID": offered})
    assert (response.headers["X-Request-ID"] == offered) is kept


@pytest.mark.xdist_group("live")
def test_clinicadmin_serve_runs_gunicorn_answering_health_and_readiness(app, database_url, tmp_path):
    """The command a clinic runs: gunicorn with the shipped settings, on a free port, JSON logs with request ids."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CLINICADMIN_", "WEB_CONCURRENCY"))}
    env.update(
        CLINICADMIN_INSTANCE_PATH=str(tmp_path / "instance"),
        CLINICADMIN_DATABASE_URL=database_url,
        CLINICADMIN_PLUGINS_ENABLED="[]",
        CLINICADMIN_HTTPS="false",
        CLINICADMIN_LOG_FORMAT="json",
        # what any production server needs: the deployment's secrets, and where the rate limits are counted
        CLINICADMIN_RATELIMIT_STORAGE_URI="memory://",
        CLINICADMIN_SECRETS_FILE=str(tmp_path / "secrets.json"),
    )
    (tmp_path / "secrets.json").write_text(json.dumps(new_secrets()))
    log_path = tmp_path / "serve.log"
    clinicadmin = Path(sys.executable).with_name("clinicadmin")
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(clinicadmin), "serve", "--bind", "127.0.0.1:0", "--workers", "1", "--", "--graceful-timeout", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url, deadline = None, time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            text_so_far = log_path.read_text(errors="replace")
            if url is None and "Listening at: " in text_so_far:
                url = text_so_far.split("Listening at: ", 1)[1].split()[0]
            if url and "Booting worker" in text_so_far:
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=30) as answer:
                        healthz = (answer.status, answer.read(), answer.headers["X-Request-ID"])
                    break
                except OSError:
                    pass
            time.sleep(0.2)
        else:
            pytest.fail(f"clinicadmin serve did not answer:\n{log_path.read_text(errors='replace')}")
        assert healthz[:2] == (200, b"ok\n")
        with urllib.request.urlopen(url + "/readyz", timeout=10) as answer:
            assert (answer.status, answer.read()) == (200, b"ok\n")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(10)
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [r for r in records if r["logger"] == "gunicorn.access" and "/healthz" in r["message"]]
    # A loaded machine may have answered an earlier try after the client gave up: the answer read carries its line's id.
    assert healthz[2] in [r["request_id"] for r in access]
