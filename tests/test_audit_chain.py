"""The audit log: each row carries a keyed digest, seals chain the rows in order, and ``clinicadmin check`` names any
row or seal changed, removed or inserted beneath the application, even one rewritten with recomputed plain SHA-256
hashes; writers in several processes, and sealers running at once, never fork or break it. Logins are audited and
throttled; an idle session ends."""

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_rate_limits import redis_url  # noqa: F401  (the Redis of the test, skipped or required as there)

from clinicadmin.audit import audit
from clinicadmin.audit_seal import seal_pending
from clinicadmin.cli import audit_seal, check
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, AuditSeal
from clinicadmin.testing import TEST_PASSWORD


def _check():
    result = CliRunner().invoke(check, catch_exceptions=False)
    return result.exit_code, result.output


def _seal(settle=0):
    """Seal everything written so far (``settle``: AUDIT_SEAL_SETTLE_SECONDS)."""
    from flask import current_app

    current_app.config["AUDIT_SEAL_SETTLE_SECONDS"] = settle
    return seal_pending()


def _rows():
    db.session.expire_all()
    return db.session.execute(db.select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()


def _write(count, action="test.row"):
    for i in range(count):
        audit(action, object_id=i)
        db.session.commit()


def _beneath(sql, **params):
    """Run ``sql`` beneath the application, as an attacker with database access (but not the audit key) would."""
    with db.engine.begin() as connection:
        connection.execute(db.text(sql), params)


def test_each_row_carries_its_place_and_keyed_digest(core, login):
    login("manager").get("/admin/client/")
    rows = _rows()
    assert len(rows) >= 2 and [r.seq for r in rows] == sorted({r.seq for r in rows})
    assert all(r.key_id == "1" and len(r.mac) == 64 and r.hash is None for r in rows)
    code, output = _check()
    assert (
        code == 0
        and f"the audit chain of {len(rows)} rows is unbroken: 0 sealed in 0 seal(s), {len(rows)} not" in output
    )
    made = CliRunner().invoke(audit_seal, catch_exceptions=False).output
    assert f"Sealed audit rows 1 to {rows[-1].seq} in seal 1: {len(rows)} rows." in made
    code, output = _check()
    assert code == 0 and f"{len(rows)} sealed in 1 seal(s), 0 not sealed yet" in output
    assert "Nothing to seal" in CliRunner().invoke(audit_seal, catch_exceptions=False).output


def _plain(row, **changes):
    """``row``'s content with ``changes``, hashed with plain SHA-256: all an attacker without the key can compute."""
    for name, value in changes.items():
        setattr(row, name, value)
    return hashlib.sha256(row.content()).hexdigest()


@pytest.mark.parametrize("sealed", [False, True], ids=["unsealed", "sealed"])
def test_a_row_rewritten_with_a_recomputed_plain_hash_is_named(core, sealed):
    _write(5)
    if sealed:
        _seal()
    third = _rows()[2]
    forged = _plain(third, outcome="denied")
    db.session.rollback()
    _beneath("UPDATE audit_event SET outcome = 'denied', mac = :mac WHERE id = :id", mac=forged, id=third.id)
    code, output = _check()
    assert code == 1
    assert f"AUDIT: audit row {third.seq} (id {third.id}, test.row) was changed after it was written" in output
    assert output.count("AUDIT:") == 1  # the seal's own MAC still holds: only the row is named


def test_the_log_rewritten_as_a_plain_hash_chain_is_named(core):
    """An attacker rewrites every row as the old keyless chain (no digest, recomputed SHA-256 links), then adds one."""
    from clinicadmin.models.audit import GENESIS

    _write(3)
    _seal()
    _write(2)
    prev = GENESIS
    rows = _rows()
    forged = []
    for row in rows:
        digest = row.content_hash(prev)
        forged.append({"id": row.id, "prev": prev, "hash": digest})
        prev = digest
    db.session.rollback()
    for values in forged:
        _beneath(
            "UPDATE audit_event SET mac = NULL, key_id = NULL, prev_hash = :prev, hash = :hash WHERE id = :id", **values
        )
    code, output = _check()
    assert code == 1
    for row in rows[:3]:
        assert f"audit row {row.seq} (id {row.id}, test.row) was sealed, but its digest is gone" in output
    assert f"audit row {rows[3].seq} does not follow the row before it" in output


@pytest.mark.parametrize(
    "tamper, message",
    [
        ("UPDATE audit_event SET detail = '{\"x\": 1}' WHERE seq = 2", "audit row 2 (id"),
        ("UPDATE audit_event SET outcome = 'ok' WHERE seq = 2", None),  # same value: nothing changed
        ("DELETE FROM audit_event WHERE seq = 2", "audit row 2 is missing (sealed in seal 1)"),
        ("UPDATE audit_event SET seq = 99 WHERE seq = 2", "audit row 2 is missing (sealed in seal 1)"),
        (
            "INSERT INTO audit_event (at, action, outcome, seq, key_id, mac) SELECT at, action, outcome, 3, key_id, "
            "mac FROM audit_event WHERE seq = 2",
            None,  # refused by the database: a place is taken once
        ),
    ],
)
def test_a_sealed_row_changed_removed_or_moved_is_named(core, tamper, message):
    _write(4)
    _seal()
    if tamper.startswith("INSERT"):
        with pytest.raises(Exception, match="(?i)unique"):
            _beneath(tamper)
    else:
        _beneath(tamper)
    code, output = _check()
    if message is None:
        assert code == 0, output
    else:
        assert code == 1 and message in output


def test_a_row_inserted_with_a_copied_digest_is_named(core):
    _write(3)
    _seal()
    _beneath(
        "INSERT INTO audit_event (at, action, outcome, object_id, seq, key_id, mac) "
        "SELECT at, action, outcome, object_id, 50, key_id, mac FROM audit_event WHERE seq = 2"
    )
    code, output = _check()
    assert code == 1 and "AUDIT: audit row 50 (id" in output and "was changed after it was written" in output


@pytest.mark.parametrize(
    "tamper, message",
    [
        ("UPDATE audit_seal SET skipped = '[2]' WHERE number = 1", "audit seal 1 (rows 1 to 3) was altered"),
        ("UPDATE audit_seal SET mac = :forged WHERE number = 1", "audit seal 2 does not follow the seal before it"),
        ("DELETE FROM audit_seal WHERE number = 1", "audit seal 1 is missing (the next is seal 2)"),
        ("UPDATE audit_seal SET last_seq = 2 WHERE number = 1", "audit seal 2 starts at row 4, not after row 2"),
    ],
)
def test_a_seal_altered_or_removed_is_named(core, tamper, message):
    _write(3)
    _seal()
    _write(2)
    _seal()
    _beneath(tamper, **({"forged": "f" * 64} if ":forged" in tamper else {}))
    code, output = _check()
    assert code == 1 and message in output, output


def _hold_a_place(app):
    """A writer that takes a place in the log and holds it uncommitted until told; returns (go, done, result)."""
    go, done, result = threading.Event(), threading.Event(), {}

    def hold():
        with app.app_context():
            try:
                row = audit("test.slow")
                db.session.flush()
                result["seq"] = row.seq
                done.set()
                go.wait(60)
                if result.get("commit"):
                    db.session.commit()
                else:
                    db.session.rollback()
            finally:
                done.set()
                db.session.remove()

    thread = threading.Thread(target=hold)
    thread.start()
    done.wait(60)
    return go, thread, result


def test_a_rolled_back_place_is_sealed_as_skipped_after_the_settle_window(core):
    _write(2)
    go, thread, held = _hold_a_place(core.app)
    if core.app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # One writer at a time: the place is taken under the write lock, which the others wait for; after a
        # rollback the next row takes the same place, so there is never a gap to wait for.
        go.set()
        thread.join(60)
        _write(1)
        assert [r.seq for r in _rows()] == [1, 2, 3]
        (seal,) = _seal(settle=120)
        assert seal.skipped == [] and seal.rows == 3
        return
    _write(2)  # places after the one held
    seqs = [r.seq for r in _rows()]
    assert held["seq"] not in seqs and max(seqs) > held["seq"]
    (seal,) = _seal(settle=120)  # the gap may still fill: sealed up to it only
    assert (seal.first_seq, seal.last_seq, seal.skipped) == (1, held["seq"] - 1, [])
    go.set()
    thread.join(60)  # rolled back: the place stays empty
    assert _seal(settle=120) == []
    code, output = _check()
    assert code == 0 and "2 not sealed yet" in output
    time.sleep(1.2)
    (seal,) = _seal(settle=1)
    assert seal.skipped == [held["seq"]] and seal.rows == 2
    code, output = _check()
    assert code == 0 and f"{len(seqs)} sealed in 2 seal(s), 0 not sealed yet" in output


def test_a_row_committed_after_its_place_was_sealed_is_noted(core):
    if core.app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: a place is never taken by one transaction while another commits")
    go, thread, held = _hold_a_place(core.app)
    _write(1)
    time.sleep(1.2)
    (seal,) = _seal(settle=1)
    assert seal.skipped == [held["seq"]]
    held["commit"] = True
    go.set()
    thread.join(60)
    code, output = _check()
    assert code == 0, output
    assert (
        f"NOTE: audit row {held['seq']} (id" in output and "was written after its place was sealed (seal 1)" in output
    )


def test_two_sealers_at_once_never_fork(core, monkeypatch):
    """The second sealer computes its seal while the first appends the same place: it appends nothing."""
    import clinicadmin.audit_seal as sealing

    _write(4)
    app, other = core.app, []
    real = sealing.seal_mac
    postgres = not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")

    def other_sealer():
        with app.app_context():
            app.config["AUDIT_SEAL_SETTLE_SECONDS"] = 0
            other.extend(seal_pending())
            db.session.remove()

    started = []

    def racing(*args, **kwargs):
        if postgres and not started:  # PostgreSQL: the other sealer appends this very place meanwhile
            started.append(True)
            thread = threading.Thread(target=other_sealer)
            thread.start()
            thread.join(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(sealing, "seal_mac", racing)
    mine = _seal()
    if not postgres:  # SQLite: the other sealer waits for the write lock, then finds nothing left
        other_sealer()
    assert len(mine + other) == 1 and (mine + other)[0].rows == 4
    if postgres:
        assert mine == []  # its insert found the place taken: it appended nothing
    assert db.session.execute(db.select(db.func.count(AuditSeal.id))).scalar_one() == 1
    code, output = _check()
    assert code == 0 and "4 sealed in 1 seal(s), 0 not sealed yet" in output


# Each writer process writes rows in small transactions (some of two rows, some rolled back) while a sealer process
# seals over and over; all start together. The settle window (5 s) is longer than any of these transactions takes to
# commit on a loaded machine, so no row's place is sealed as skipped while it is still to commit.
WRITERS, ROUNDS = 6, 25
RACE = """
import os, sys, time, traceback
sys.path.insert(0, {tests!r})
from clinicadmin import create_app
from clinicadmin.audit import audit
from clinicadmin.audit_seal import seal_pending
from clinicadmin.extensions import db

app = create_app({{"SQLALCHEMY_DATABASE_URI": {url!r}, "INSTANCE_PATH": {instance!r}, "SECRET_KEY": "test-secret",
                  "SECURITY_PASSWORD_SALT": "test-salt", "PLUGINS_ENABLED": [], "AUDIT_SEAL_SETTLE_SECONDS": 5}})
folder = {folder!r}
children = []
for n in range({writers} + 1):
    pid = os.fork()
    if pid:
        children.append(pid)
        continue
    outcome = "OK"
    try:
        with app.app_context():
            db.engine.dispose(close=False)
            open(os.path.join(folder, f"ready-{{n}}"), "w").close()
            while not os.path.exists(os.path.join(folder, "go")):
                time.sleep(0.01)
            if n == {writers}:
                seals = 0
                while len([f for f in os.listdir(folder) if f.startswith("result-")]) < {writers}:
                    seals += len(seal_pending())
                outcome = f"SEALS {{seals}}"
            else:
                committed = 0
                for i in range({rounds}):
                    audit("test.race", object_id=f"{{n}}-{{i}}")
                    if i % 3 == 0:
                        audit("test.race", object_id=f"{{n}}-{{i}}b")
                    if i % 5 == 4:
                        db.session.rollback()
                    else:
                        db.session.commit()
                        committed += 2 if i % 3 == 0 else 1
                outcome = f"COMMITTED {{committed}}"
    except BaseException:
        outcome = traceback.format_exc()
    name = "sealer" if n == {writers} else f"result-{{n}}"
    with open(os.path.join(folder, name + ".new"), "w") as out:
        out.write(outcome)
    os.rename(os.path.join(folder, name + ".new"), os.path.join(folder, name))
    os._exit(0)
for pid in children:
    os.waitpid(pid, 0)
"""


def test_writers_in_several_processes_and_a_sealer_never_fork_or_break_the_log(core, database_url, tmp_path):
    folder = tmp_path / "race"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICADMIN_")}
    script = RACE.format(
        tests=str(Path(__file__).parent),
        url=database_url,
        instance=str(tmp_path / "instance"),  # the test app's: the same audit key
        folder=str(folder),
        writers=WRITERS,
        rounds=ROUNDS,
    )
    race = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 240
    while len(list(folder.glob("ready-*"))) < WRITERS + 1 and race.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    (folder / "go").touch()
    _, err = race.communicate(timeout=240)
    results = [(folder / f"result-{n}").read_text() for n in range(WRITERS)]
    assert all(r.startswith("COMMITTED") for r in results), results + [err[-3000:]]
    sealer = (folder / "sealer").read_text()
    assert sealer.startswith("SEALS"), sealer
    committed = sum(int(r.split()[1]) for r in results)
    rows = [r for r in _rows() if r.action == "test.race"]
    assert len(rows) == committed  # none lost
    _seal()  # what the racing sealer had not reached
    seals = db.session.execute(db.select(AuditSeal).order_by(AuditSeal.number)).scalars().all()
    assert int(sealer.split()[1]) >= 1 and len(seals) >= 1
    covered = [seq for seal in seals for seq in range(seal.first_seq, seal.last_seq + 1) if seq not in seal.skipped]
    assert covered == sorted(r.seq for r in _rows())  # every row sealed exactly once, in order
    code, output = _check()
    assert code == 0, output
    assert f"{len(covered)} sealed in {len(seals)} seal(s), 0 not sealed yet" in output


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


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path):
    """An empty database at the revision before the keyed log (``d8e3f1a6b2c9``), in an app context."""
    from clinicadmin import create_app
    from clinicadmin.schema import upgrade_all

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    else:
        # A name of this test's own: the tests on this fixture may run one after another in one process.
        url = request.getfixturevalue("postgres_databases").create(f"old_{time.monotonic_ns() % 10**9}")
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "TESTING": True,
            "SECRET_KEY": "test",
            "SECURITY_PASSWORD_SALT": "test",
            "PLUGINS_ENABLED": [],
        }
    )
    with app.app_context():
        upgrade_all("d8e3f1a6b2c9")
        yield app
        db.session.remove()
        db.engine.dispose()


def _old_chain(count):
    """Write ``count`` rows as the code before the keyed log did: a plain SHA-256 chain and its head row."""
    from datetime import UTC, datetime, timedelta

    from clinicadmin.models.audit import GENESIS

    prev, start = GENESIS, datetime(2026, 11, 30, 9, tzinfo=UTC)
    with db.engine.begin() as connection:
        for seq in range(1, count + 1):
            row = AuditEvent(
                at=start + timedelta(minutes=seq),
                action="client.view",
                object_type="Client",
                object_id=str(seq),
                outcome="ok",
                detail={"n": seq},
            )
            row.hash = row.content_hash(prev)
            connection.execute(
                db.text(
                    "INSERT INTO audit_event (at, action, object_type, object_id, outcome, detail, seq, prev_hash, "
                    "hash) VALUES (:at, :action, 'Client', :object_id, 'ok', :detail, :seq, :prev, :hash)"
                ),
                {
                    "at": row.at if connection.dialect.name == "postgresql" else row.at.replace(tzinfo=None),
                    "action": row.action,
                    "object_id": row.object_id,
                    "detail": json.dumps(row.detail),
                    "seq": seq,
                    "prev": prev,
                    "hash": row.hash,
                },
            )
            prev = row.hash
        connection.execute(
            db.text("UPDATE audit_chain SET last_seq = :seq, last_hash = :hash WHERE id = 1"),
            {"seq": count, "hash": prev},
        )


def test_rows_of_the_old_chain_are_checked_then_sealed_with_the_key(old_database):
    from clinicadmin.schema import upgrade_all

    _old_chain(3)
    upgrade_all()
    code, output = _check()
    assert code == 0 and "the audit chain of 3 rows is unbroken: 0 sealed in 0 seal(s), 3 not sealed yet" in output
    audit("rolled.back")  # the first place after the old chain, given up (on PostgreSQL, a gap)
    db.session.flush()
    db.session.rollback()
    audit("after.upgrade")  # the next place, with a keyed digest
    db.session.commit()
    postgres = db.engine.dialect.name == "postgresql"
    last = 5 if postgres else 4
    assert [(r.seq, r.mac is None) for r in _rows()] == [(1, True), (2, True), (3, True), (last, False)]
    old_database.config["AUDIT_SEAL_SETTLE_SECONDS"] = 0
    made = CliRunner().invoke(audit_seal, catch_exceptions=False).output
    skipped = ", 1 place(s) skipped" if postgres else ""
    assert f"Sealed audit rows 1 to {last} in seal 1: 4 rows{skipped}, 3 of the old hash chain." in made
    assert all(r.mac for r in _rows())  # the old rows now carry their keyed digest
    code, output = _check()
    assert code == 0 and "4 sealed in 1 seal(s), 0 not sealed yet" in output
    # Rewritten with the old chain's plain SHA-256 recomputed from the changed row on: named.
    rows = _rows()
    second = rows[1]
    second.detail = {"n": 99}
    forged_2 = second.content_hash(rows[0].hash)
    rows[2].prev_hash = forged_2
    forged_3 = rows[2].content_hash(forged_2)
    db.session.rollback()
    _beneath("UPDATE audit_event SET detail = :d, hash = :h WHERE seq = 2", d=json.dumps({"n": 99}), h=forged_2)
    _beneath("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE seq = 3", p=forged_2, h=forged_3)
    code, output = _check()
    assert code == 1
    assert "audit row 2 (id" in output and "audit row 3 (id" in output and "was changed after it was written" in output


def test_an_old_chain_broken_before_its_first_seal_is_not_sealed_over(old_database):
    from clinicadmin.schema import upgrade_all

    _old_chain(3)
    upgrade_all()
    _beneath("UPDATE audit_event SET object_id = 'someone else' WHERE seq = 2")
    old_database.config["AUDIT_SEAL_SETTLE_SECONDS"] = 0
    (seal,) = seal_pending()
    assert (seal.first_seq, seal.last_seq, seal.legacy_rows) == (1, 1, 1)  # up to the break, not over it
    assert seal_pending() == []
    code, output = _check()
    assert code == 1 and "AUDIT: audit row 2 (id 2, client.view) was changed after it was written" in output


def test_a_newer_audit_key_signs_and_the_older_still_verifies(core):
    app = core.app
    _write(2)
    _seal()
    old = dict(app.config["AUDIT_KEYS"])
    app.config["AUDIT_KEYS"] = {**old, "2": "a newer audit key"}
    _write(2)
    _seal()
    assert [r.key_id for r in _rows()] == ["1", "1", "2", "2"]
    assert [s.key_id for s in db.session.execute(db.select(AuditSeal).order_by(AuditSeal.number)).scalars()] == [
        "1",
        "2",
    ]
    code, output = _check()
    assert code == 0 and "4 sealed in 2 seal(s), 0 not sealed yet" in output
    app.config["AUDIT_KEYS"] = {"2": "a newer audit key"}  # the old key dropped: what it signed cannot be verified
    code, output = _check()
    assert code == 1 and "AUDIT: audit row 1 (id" in output and "AUDIT_KEYS has no key '1'" in output


# --- the seal chain's anchor outside the database -------------------------------------------------------------------


def _two_seals():
    _write(3)
    _seal()
    _write(2)
    _seal()
    assert db.session.execute(db.select(db.func.count(AuditSeal.id))).scalar_one() == 2


@pytest.mark.parametrize(
    "tamper, message",
    [
        (
            ["DELETE FROM audit_seal", "DELETE FROM audit_event WHERE seq = 3"],
            "audit seal 2, recorded outside the database (the file ",
        ),
        (
            ["DELETE FROM audit_seal WHERE number = 2", "DELETE FROM audit_event WHERE seq > 3"],
            "audit seal 2, recorded outside the database (the file ",
        ),
        (
            ["UPDATE audit_seal SET mac = :forged WHERE number = 2"],
            "audit seal 2 differs from the one recorded outside",
        ),
    ],
    ids=["all-seals-and-a-row", "newest-seal-and-its-rows", "newest-seal-replaced"],
)
def test_seals_removed_or_replaced_beneath_the_app_are_named_and_the_sealer_refuses(core, tamper, message, caplog):
    """The sealer records its latest seal outside the database; an attacker with the database alone cannot make the
    log start again from nothing, nor drop its newest seals, unnoticed."""
    from clinicadmin.audit_anchor import AuditAnchorError
    from clinicadmin.jobs import CORE_JOBS
    from clinicadmin.jobs.runs import run_recorded
    from clinicadmin.models import JobRun

    _two_seals()
    anchor = Path(core.app.instance_path) / "audit-anchor"
    assert anchor.stat().st_mode & 0o777 == 0o600
    for sql in tamper:
        _beneath(sql, **({"forged": "f" * 64} if ":forged" in sql else {}))
    _write(1)  # the log goes on
    code, output = _check()
    assert code == 1 and message in output, output
    with pytest.raises(AuditAnchorError):
        _seal()
    assert "Not sealing" in caplog.text
    refused = CliRunner().invoke(audit_seal)
    assert refused.exit_code == 1 and "audit seal 2, recorded outside the database" in refused.output
    [job] = [j for j in CORE_JOBS if j.name == "audit-seal"]
    with pytest.raises(AuditAnchorError):
        run_recorded(job, job.retries + 1, 0)
    [run] = db.session.execute(db.select(JobRun).where(JobRun.job == "audit-seal")).scalars()
    assert run.outcome == "failed" and "AuditAnchorError" in run.summary
    # Nothing was sealed over the gap: the database holds no seal made after the tampering.
    numbers = db.session.execute(db.select(AuditSeal.number)).scalars().all()
    assert max(numbers, default=0) <= 2


def test_the_anchor_only_moves_forward_and_a_log_sealed_before_anchors_is_anchored(core):
    from clinicadmin import audit_anchor

    _write(2)
    _seal()
    anchor = Path(core.app.instance_path) / "audit-anchor"
    anchor.unlink()  # as a log sealed before there were anchors
    code, output = _check()
    assert code == 0 and "NOTE: the audit seals are not anchored outside the database" in output
    _write(1)
    (seal,) = _seal()
    assert audit_anchor.read() == (seal.number, seal.mac) == (2, seal.mac)
    assert audit_anchor.advance(1, "0" * 64) is False  # a slower sealer's older seal never moves it back
    assert audit_anchor.read().number == 2
    code, output = _check()
    assert code == 0 and "not anchored" not in output


def test_the_anchor_is_kept_in_redis_when_the_deployment_has_one(app_factory, redis_url):  # noqa: F811
    import redis

    from clinicadmin import audit_anchor

    prefix = f"clinicadmin-anchor-{os.getpid()}-{time.monotonic_ns()}"
    app = app_factory(AUDIT_ANCHOR=redis_url, RATELIMIT_KEY_PREFIX=prefix)
    store = redis.Redis.from_url(redis_url)
    try:
        with app.app_context():
            _write(3)
            (seal,) = _seal()
            assert store.get(f"{prefix}:audit-anchor") == f"1:{seal.mac}".encode()
            assert not (Path(app.instance_path) / "audit-anchor").exists()
            assert audit_anchor.advance(1, "0" * 64) is False
            _beneath("DELETE FROM audit_seal")
            _beneath("DELETE FROM audit_event WHERE seq = 2")
            code, output = _check()
            assert code == 1 and "audit seal 1, recorded outside the database (Redis), is missing" in output
            with pytest.raises(audit_anchor.AuditAnchorError):
                _seal()
    finally:
        store.delete(f"{prefix}:audit-anchor")


def _later(monkeypatch, module, minutes):
    """``module``'s clock, ``minutes`` ahead of the real one."""
    from datetime import timedelta

    from clinicadmin.clock import now

    monkeypatch.setattr(module, "now", lambda: now() + timedelta(minutes=minutes))


def test_a_place_sealed_as_skipped_long_after_the_next_row_was_written_is_noted(core, monkeypatch):
    import clinicadmin.audit_seal as sealing

    _write(4)
    _beneath("DELETE FROM audit_event WHERE seq = 2")  # before any sealer ran (it stopped for a while)
    _later(monkeypatch, sealing, 20)
    (seal,) = _seal(settle=120)
    assert seal.skipped == [2]
    code, output = _check()
    assert code == 0, output
    assert "NOTE: audit place 2 was sealed as skipped (seal 1) 20 minutes after the next row was written" in output
    assert "a row may have been removed" in output


def test_a_place_the_previous_seal_could_have_skipped_is_never_skipped(core, monkeypatch, caplog):
    import clinicadmin.audit_seal as sealing

    _write(5)
    _beneath("DELETE FROM audit_event WHERE seq = 4")
    _later(monkeypatch, sealing, 10)
    (first,) = _seal(settle=3600)  # the gap is young to this sealer: sealed up to it only
    assert (first.first_seq, first.last_seq) == (1, 3)
    _later(monkeypatch, sealing, 20)
    assert _seal(settle=120) == []  # row 5 was written well before seal 1 was made: place 4 is not skipped
    assert "audit places 4 to 4 are missing, though the row after them was written before seal 1" in caplog.text


def test_a_stalled_sealer_is_reported_by_check(core, monkeypatch):
    import clinicadmin.integrity as integrity

    _write(2)
    code, output = _check()
    assert code == 0 and "sealer is not running" not in output
    _later(monkeypatch, integrity, 16)
    code, output = _check()
    assert code == 0
    assert "NOTE: the oldest unsealed audit row was written 16 minutes ago: the audit sealer is not running" in output
    core.app.config["AUDIT_SEAL_STALE_MINUTES"] = 30
    assert "sealer is not running" not in _check()[1]
    assert core.app.test_client().get("/readyz").status_code == 200  # a stalled sealer does not take the server out


def test_after_a_restore_the_anchor_is_reset_to_the_restored_seals_and_audited(core):
    from clinicadmin import audit_anchor
    from clinicadmin.cli import audit_anchor_command

    _two_seals()
    # A restored backup holds the log as it was at seal 1: the anchor names seal 2.
    _beneath("DELETE FROM audit_seal WHERE number = 2")
    _beneath("DELETE FROM audit_event WHERE seq > 3")
    shown = CliRunner().invoke(audit_anchor_command, catch_exceptions=False).output
    assert "seal 2" in shown and "Database: seal 1" in shown
    assert _check()[0] == 1
    done = CliRunner().invoke(audit_anchor_command, ["--reset"], catch_exceptions=False)
    assert done.exit_code == 0 and "Anchored seal 1." in done.output
    assert audit_anchor.read().number == 1
    [row] = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "audit.anchor_reset")).scalars()
    assert row.detail["replaced"][0] == 2 and row.detail["anchored"][0] == 1
    (seal,) = _seal()  # sealing goes on, from the restored seals
    assert seal.number == 2
    code, output = _check()
    assert code == 0, output
