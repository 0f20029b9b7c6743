"""Background jobs: run through the real queue (a SQLite queue of the test, executed by a consumer or task by task;
a worker process on Redis), each attempt recorded in ``job_run`` and a failure logged and retried; the admin's
"Background jobs" page and the nightly check on the admin's home page; the daily digests as e-mails delivered, once a
day however often the job runs; and ``/readyz`` with an unreachable queue."""

import os
import signal
import subprocess
import sys
import time
import types
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fake_modality import KEY

from clinicadmin.clock import now
from clinicadmin.extensions import db
from clinicadmin.jobs import Job, queue_of
from clinicadmin.models import AuditEvent, Consent, JobClaim, JobRun, StockException, StockLot

FLAKY = Job("flaky", "clinicadmin_stand_in:flaky", "A job that fails at first", retries=2, retry_delay=0)


@pytest.fixture
def app_config(app_config, tmp_path):
    """The app's queue is a SQLite file of this test, its mail kept in memory, and it has the stand-in job
    ``flaky`` (see ``stand_in``)."""
    return {
        **app_config,
        "JOBS_QUEUE": f"sqlite:///{tmp_path / 'queue.sqlite'}",
        "MAIL_BACKEND": "locmem",
        "JOBS_EXTRA": [FLAKY],
    }


@pytest.fixture
def queued(app_factory, app_config):
    """Another app on the test's queue with ``config`` over the module's (it empties the database first)."""
    return lambda **config: app_factory(**{**app_config, **config})


@pytest.fixture
def qapp(app):
    return app


def drain(app, limit=20):
    """Execute what waits on ``app``'s queue, as a worker does (retries put back on it included), in this thread."""
    huey = queue_of(app).huey
    for _ in range(limit):
        task = huey.dequeue()
        if task is None:
            return
        huey.execute(task)
    raise AssertionError("the queue did not empty")


def runs(job=None):
    db.session.expire_all()
    query = db.select(JobRun).order_by(JobRun.id)
    if job:
        query = query.where(JobRun.job == job)
    return db.session.execute(query).scalars().all()


def outbox(app):
    return getattr(app.extensions["mailman"], "outbox", [])


@pytest.fixture
def stand_in(monkeypatch):
    """A module ``clinicadmin_stand_in`` whose ``flaky`` fails its first ``fail[0]`` calls, and ``ok`` which does not;
    ``calls`` records whether each call had an app context."""
    from flask import has_app_context

    module = types.ModuleType("clinicadmin_stand_in")
    module.calls = []
    module.fail = [1]

    def flaky():
        module.calls.append(has_app_context())
        if module.fail[0] > 0:
            module.fail[0] -= 1
            raise RuntimeError("the mail relay refused the connection")
        return "delivered"

    module.flaky = flaky
    monkeypatch.setitem(sys.modules, "clinicadmin_stand_in", module)
    return module


def test_a_job_runs_through_a_real_consumer_of_the_sqlite_queue_and_its_run_is_recorded(qapp, staff):
    queue = queue_of(qapp)
    assert queue.kind == "sqlite"
    queue.enqueue("nightly-check")
    assert queue.huey.pending_count() == 1
    consumer = queue.huey.create_consumer(workers=1, periodic=False, worker_type="thread")
    consumer.scheduler.start()  # the consumer's threads, without the signal handlers that belong to a process
    for _, worker in consumer.worker_threads:
        worker.start()
    try:
        deadline = time.monotonic() + 30
        while not [r for r in runs("nightly-check") if r.outcome == "ok"] and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        consumer.stop(graceful=True)
    [run] = runs("nightly-check")
    assert (run.outcome, run.attempt) == ("ok", 1)
    assert run.summary.startswith("no problems") and run.finished_at >= run.started_at
    assert run.detail["problems"] == []


def test_a_failed_job_is_recorded_logged_and_retried_until_it_succeeds(app, stand_in, caplog):
    if True:
        queue_of(app).enqueue("flaky")
        drain(app)
        first, second = runs("flaky")
        assert (first.attempt, first.outcome) == (1, "retrying")
        assert first.summary == "RuntimeError: the mail relay refused the connection"
        assert "Traceback" in first.error and "the mail relay refused" in first.error
        assert (second.attempt, second.outcome, second.summary, second.error) == (2, "ok", "delivered", None)
    assert stand_in.calls == [True, True]  # each attempt ran in an app context
    failed = [r for r in caplog.records if r.name == "clinicadmin.jobs.runs" and r.levelname == "ERROR"]
    assert len(failed) == 1 and "background job flaky failed (attempt 1, retried in 0 s)" in failed[0].getMessage()
    assert failed[0].exc_info is not None


def test_a_job_that_keeps_failing_ends_failed_after_its_retries(app, stand_in, caplog):
    stand_in.fail[0] = 10
    if True:
        queue_of(app).enqueue("flaky")
        drain(app)
        assert [(r.attempt, r.outcome) for r in runs("flaky")] == [(1, "retrying"), (2, "retrying"), (3, "failed")]
    assert "background job flaky failed (attempt 3, no retry left)" in caplog.text


def test_the_admin_sees_each_jobs_last_run_and_can_run_one_now_once_and_no_one_else_can(qapp, login, stand_in):
    admin = login("admin")
    page = admin.get("/admin/jobs/").get_data(as_text=True)
    for name in ("audit-seal", "client-messages", "nightly-check", "stock-digest", "expiry-digest"):
        assert f'data-job="{name}"' in page
    assert "has not run yet" in page
    token = "run-now-token-1"
    response = admin.post("/admin/jobs/run", data={"job": "nightly-check", "once": token})
    assert response.status_code == 302
    admin.post("/admin/jobs/run", data={"job": "nightly-check", "once": token})  # a double click
    assert queue_of(qapp).huey.pending_count() == 1
    drain(qapp)
    page = admin.get("/admin/jobs/").get_data(as_text=True)
    row = page[page.index('data-job="nightly-check"') :]
    row = row[: row.index("</tr>")]
    assert ">ok</span>" in row and "no problems" in row
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "job.run_now")).scalar_one()
    assert admin.post("/admin/jobs/run", data={"job": "no-such-job"}).status_code == 400
    for role in ("manager", "practitioner", "front_desk", "stock_clerk"):
        client = login(role)
        assert client.get("/admin/jobs/").status_code == 403
        assert client.post("/admin/jobs/run", data={"job": "nightly-check"}).status_code == 403
    assert queue_of(qapp).huey.pending_count() == 0
    assert login("admin").http.post("/admin/jobs/run", data={"job": "nightly-check"}).status_code == 400  # no CSRF


def test_the_admins_home_page_shows_when_the_nightly_check_ran_and_what_it_found(qapp, login, clinic):
    admin = login("admin")
    assert "The nightly check has not run yet" in admin.get("/admin/").get_data(as_text=True)
    product = clinic.product("CHK-1")
    lot = clinic.lot(product, "L-CHK", 5)
    db.session.execute(db.update(StockLot).where(StockLot.id == lot.id).values(quantity=Decimal(4)))
    db.session.commit()
    queue_of(qapp).enqueue("nightly-check")
    drain(qapp)
    [run] = runs("nightly-check")
    page = admin.get("/admin/").get_data(as_text=True)
    section = page[page.index('id="nightly-check"') :]
    assert "1 problem(s) found" in section
    assert f"STOCK: lot L-CHK of CHK-1 (id {lot.id}): on hand 4, ledger sum 5" in section
    from clinicadmin.clock import shown

    assert f"Ran {shown(run.started_at)}" in section
    assert 'id="nightly-check"' not in login("manager").get("/admin/").get_data(as_text=True)


@pytest.fixture
def stocked(clinic):
    """Low stock, a lot expiring soon, an expired lot on hand, a held lot and an open stock exception."""
    low = clinic.product("LOW-1", reorder_level=10)
    clinic.lot(low, "L-LOW", 2, expires_in_days=300)
    soon = clinic.product("SOON-1")
    clinic.lot(soon, "L-SOON", 20, expires_in_days=5)
    gone = clinic.product("GONE-1")
    clinic.lot(gone, "L-GONE", 3, expires_in_days=-3)
    clinic.lot(gone, "L-GONE-OK", 30, expires_in_days=400)
    held = clinic.product("HELD-1")
    held_lot = clinic.lot(held, "L-HELD", 7, expires_in_days=200)
    clinic.lot(held, "L-HELD-OK", 30, expires_in_days=400)
    held_lot.held_at = now()
    clinic.certify("practitioner", KEY)
    treatment = clinic.booked(clinic.client(consents=[KEY]), KEY)
    db.session.add(
        StockException(
            treatment_id=treatment.id, product_id=soon.id, location_id=clinic.location.id, quantity=2, created_at=now()
        )
    )
    db.session.commit()
    return clinic


def test_the_stock_digest_goes_to_stock_clerks_and_managers_once_a_day(qapp, staff, stocked):
    queue = queue_of(qapp)
    queue.enqueue("stock-digest")
    drain(qapp)
    sent = outbox(qapp)
    assert sorted(m.to[0] for m in sent) == [staff["manager"].email, staff["stock_clerk"].email]
    body = sent[0].body
    assert "== Test Clinic ==" in body
    assert "Low or out of stock:\n  - Product LOW-1 (LOW-1): 2 unit, low" in body
    assert (
        f"Expiring soon:\n  - Product SOON-1 lot L-SOON: 20 unit, expires {stocked.today + timedelta(days=5)}" in body
    )
    assert (
        f"Expired, still on hand:\n  - Product GONE-1 lot L-GONE: 3 unit, expired {stocked.today - timedelta(3)}"
        in (body)
    )
    assert "Held lots (recall):\n  - Product HELD-1 lot L-HELD: 7 unit" in body
    assert "Open stock exceptions:\n  - 2 unit of Product SOON-1 (SOON-1), in 1" in body
    assert "L-GONE-OK" not in body and "L-HELD-OK" not in body
    # The job runs again the same day (a second worker, a "run now"): nobody gets it twice.
    queue.enqueue("stock-digest")
    queue.enqueue("stock-digest")
    drain(qapp)
    assert len(outbox(qapp)) == 2
    assert [r.summary for r in runs("stock-digest")] == [
        "sent 2; 0 already sent today; 0 with nothing to report",
        "sent 0; 2 already sent today; 0 with nothing to report",
        "sent 0; 2 already sent today; 0 with nothing to report",
    ]


def test_a_digest_the_mail_server_refuses_is_retried_and_sent_once(app, staff, stocked, monkeypatch):
    if True:
        from flask_mailman.backends import locmem

        real, refused = locmem.EmailBackend.send_messages, [1]

        def send(self, messages):
            if refused[0]:
                refused[0] -= 1
                raise ConnectionRefusedError("the mail server is down")
            return real(self, messages)

        monkeypatch.setattr(locmem.EmailBackend, "send_messages", send)
        queue_of(app).enqueue("stock-digest")
        drain(app)
        huey = queue_of(app).huey  # the retry waits its delay on the schedule: run it as if that time had come
        later = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
        for task in huey.read_schedule(later):
            huey.execute(task, later)
        assert [r.outcome for r in runs("stock-digest")] == ["retrying", "ok"]
        assert sorted(m.to[0] for m in outbox(app)) == [staff["manager"].email, staff["stock_clerk"].email]
        assert db.session.execute(db.select(db.func.count()).select_from(JobClaim)).scalar_one() == 2


def test_a_clerk_at_a_location_gets_that_locations_stock_only_and_nobody_gets_an_empty_digest(qapp, staff, clinic):
    from clinicadmin.models import Location

    other = Location(name="Second Site")
    db.session.add(other)
    db.session.commit()
    low = clinic.product("LOW-2", reorder_level=5)
    clinic.lot(low, "L-LOW2", 1)
    queue_of(qapp).enqueue("stock-digest")
    drain(qapp)
    by_recipient = {m.to[0]: m.body for m in outbox(qapp)}
    clerk, manager = by_recipient[staff["stock_clerk"].email], by_recipient[staff["manager"].email]
    assert "== Test Clinic ==" in clerk and "Second Site" not in clerk
    assert "== Second Site ==" in manager  # out of stock there: the manager sees every location


def test_managers_get_the_consents_and_certifications_expiring_within_30_days_once_a_day(qapp, staff, clinic):
    client = clinic.client("Ada", "Expiring")
    db.session.add_all(
        [
            Consent(client=client, modality=KEY, signed_on=clinic.today, expires_on=clinic.today + timedelta(10)),
            Consent(client=client, modality=KEY, signed_on=clinic.today, expires_on=clinic.today + timedelta(45)),
        ]
    )
    db.session.commit()
    clinic.certify("practitioner", KEY, valid_days=20)
    clinic.certify("manager", KEY, valid_days=90)
    for _ in range(2):
        queue_of(qapp).enqueue("expiry-digest")
        drain(qapp)
    [mail] = outbox(qapp)
    assert mail.to == [staff["manager"].email]
    assert f"{clinic.today + timedelta(10)}: Ada Expiring, " in mail.body
    assert str(clinic.today + timedelta(45)) not in mail.body
    assert f"{clinic.today + timedelta(20)}: Test practitioner, " in mail.body
    assert "Test manager" not in mail.body
    [read] = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "digest.expiry-digest")).scalars()
    assert read.detail == {"recipient": staff["manager"].id, "clients": [client.id]}


def huey_time(*args):
    """A time as Huey's scheduler passes it: UTC, without its zone."""
    return datetime(*args, tzinfo=UTC).replace(tzinfo=None)


def test_the_audit_sealer_is_due_every_minute_and_seals_the_log_in_an_app_context(qapp, clinic):
    """Schedules are read in the clinic's time zone: 02:30 in New York is 07:30 UTC in December. The sealer job seals
    what requests wrote, and the checks behind ``clinicadmin check`` then find every row sealed."""
    from clinicadmin.audit import audit
    from clinicadmin.integrity import run_checks

    clinic.setting("core.time_zone", "America/New_York")
    with qapp.app_context():
        for n in range(3):
            audit("test.sealed", object_type="Thing", object_id=n)
        db.session.commit()
    huey = queue_of(qapp).huey
    at_0917 = [t.name for t in huey.read_periodic(huey_time(2026, 12, 2, 9, 17))]
    at_0730 = [t.name for t in huey.read_periodic(huey_time(2026, 12, 2, 7, 30))]
    at_0230 = [t.name for t in huey.read_periodic(huey_time(2026, 12, 2, 2, 30))]
    assert "audit-seal" in at_0917 and "nightly-check" not in at_0917
    assert {"audit-seal", "nightly-check"} <= set(at_0730)
    assert "nightly-check" not in at_0230
    for task in huey.read_periodic(huey_time(2026, 12, 2, 9, 17)):
        huey.enqueue(task)
    drain(qapp)
    [(outcome, summary)] = [(r.outcome, r.summary) for r in runs("audit-seal")]
    assert outcome == "ok" and summary.startswith("sealed rows 1 to ") and "in 1 seal(s)" in summary
    with qapp.app_context():
        result = run_checks()
    assert result.ok, result.problems
    assert result.audit_rows >= 3 and result.audit_unsealed == 0 and result.audit_seals == 1


def test_schedules_are_configuration_and_a_bad_one_stops_start_up(queued):
    app = queued(JOB_SCHEDULES={"audit-seal": "", "stock-digest": "*/5 * * * *"})
    names = [t.name for t in queue_of(app).huey.read_periodic(huey_time(2026, 12, 2, 9, 15))]
    assert "audit-seal" not in names and "stock-digest" in names
    with pytest.raises(ValueError, match="no job called nope"):
        queued(JOB_SCHEDULES={"nope": "* * * * *"})
    with pytest.raises(ValueError, match="cron line of 5 fields"):
        queued(JOB_SCHEDULES={"audit-seal": "every minute"})


def test_readyz_is_not_ready_when_the_configured_redis_queue_is_unreachable(app_factory, queued):
    unreachable = app_factory(JOBS_QUEUE="redis://127.0.0.1:1/0")
    with unreachable.app_context():
        assert unreachable.test_client().get("/readyz").status_code == 503
    on_sqlite = queued()
    with on_sqlite.app_context():
        assert on_sqlite.test_client().get("/readyz").status_code == 200


@pytest.fixture
def redis_url():
    """A Redis for the test (``CLINICADMIN_TEST_REDIS_URL``, default redis://127.0.0.1:6379/0); skipped when it is
    unreachable, except in CI (``CLINICADMIN_REQUIRE_POSTGRES``), where it fails (as in test_rate_limits.py)."""
    import redis

    url = os.environ.get("CLINICADMIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:  # any failure to connect is a reason to skip
        if os.environ.get("CLINICADMIN_REQUIRE_POSTGRES"):
            pytest.fail(f"Redis not reachable at {url} ({exc}); CI requires it")
        pytest.skip(f"Redis not reachable at {url} ({exc}); set CLINICADMIN_TEST_REDIS_URL")
    return url


def test_a_worker_process_consumes_a_job_the_app_put_on_the_redis_queue(
    app_factory,
    app_config,
    database_url,
    redis_url,
    tmp_path,
):
    name = f"clinicadmin-test-{os.getpid()}-{time.monotonic_ns()}"
    app = app_factory(**{**app_config, "JOBS_QUEUE": redis_url, "JOBS_QUEUE_NAME": name})
    env = {
        **os.environ,
        "CLINICADMIN_DATABASE_URL": database_url,
        "CLINICADMIN_JOBS_QUEUE": redis_url,
        "CLINICADMIN_JOBS_QUEUE_NAME": name,
        "CLINICADMIN_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "CLINICADMIN_PLUGINS_ENABLED": "[]",
    }
    with app.app_context():
        assert queue_of(app).kind == "redis"
        queue_of(app).enqueue("nightly-check")
        queue_of(app).enqueue("audit-seal")  # a task with a priority: the Redis queue must take it
        worker = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "clinicadmin"), "worker", "--workers", "1", "--no-periodic"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while (
                not all([r for r in runs(job) if r.outcome == "ok"] for job in ("nightly-check", "audit-seal"))
                and time.monotonic() < deadline
            ):
                assert worker.poll() is None, worker.stdout.read()
                time.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGINT)
            output = worker.communicate(timeout=30)[0]
        assert [r.outcome for r in runs("nightly-check")] == ["ok"], output
        assert [r.outcome for r in runs("audit-seal")] == ["ok"], output
        assert worker.returncode == 0, output
        assert queue_of(app).huey.pending_count() == 0
        queue_of(app).huey.storage.flush_all()


def test_the_worker_make_run_starts_stops_when_the_process_that_started_it_ends(database_url, tmp_path):
    """``make run`` starts ``clinicadmin worker --parent-pid $$`` and then becomes the server (exec): however the
    server ends, even before the worker has started, the worker follows. Here the "server" is a ``sleep`` the test
    kills once the worker is up."""
    env = {
        **os.environ,
        "CLINICADMIN_DATABASE_URL": database_url,
        "CLINICADMIN_INSTANCE_PATH": str(tmp_path / "instance"),
        "CLINICADMIN_PLUGINS_ENABLED": "[]",
        "WORKER_LOG": str(tmp_path / "worker.log"),
        "WORKER_PID": str(tmp_path / "worker.pid"),
        "CLINICADMIN": os.path.join(os.path.dirname(sys.executable), "clinicadmin"),
    }
    script = (
        '"$CLINICADMIN" worker --workers 1 --no-periodic --parent-pid $$ >"$WORKER_LOG" 2>&1 & '
        'echo $! >"$WORKER_PID"; exec sleep 300'
    )
    parent = subprocess.Popen(["sh", "-c", script], env=env)
    try:
        deadline = time.monotonic() + 60
        log, pid_file = tmp_path / "worker.log", tmp_path / "worker.pid"
        while not (pid_file.exists() and pid_file.read_text().strip()):
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)
        pid = int(pid_file.read_text())
        time.sleep(1)  # the worker is starting: it has not set up its signal handling yet
        parent.kill()  # the server ends, as abruptly as it may
        parent.wait(10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            # a zombie is gone for our purpose: its parent (init) reaps it
            if Path(f"/proc/{pid}/status").exists() and "zombie" in Path(f"/proc/{pid}/status").read_text():
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the worker kept running after its parent ended:\n" + log.read_text())
        assert "Consumer exiting" in log.read_text() or "Shutting down" in log.read_text()
    finally:
        if parent.poll() is None:
            parent.kill()


def test_run_now_with_the_queue_down_says_so_and_records_nothing(qapp, login, monkeypatch):
    admin = login("admin")

    def refuse(task):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(queue_of(qapp).huey, "enqueue", refuse)
    page = admin.post("/admin/jobs/run", data={"job": "nightly-check"}, follow_redirects=True)
    assert page.status_code == 200
    assert "The job queue did not answer; nothing was put on it." in page.get_data(as_text=True)
    assert not db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "job.run_now")).all()


def test_a_jobs_runs_and_claims_older_than_30_days_are_forgotten_after_it_runs(qapp):
    long_ago, lately = now() - timedelta(days=40), now() - timedelta(days=10)
    db.session.add_all(
        [
            JobRun(job="nightly-check", attempt=1, started_at=long_ago, outcome="ok"),
            JobRun(job="nightly-check", attempt=1, started_at=lately, outcome="ok"),
            JobRun(job="stock-digest", attempt=1, started_at=long_ago, outcome="ok"),
            JobClaim(job="nightly-check", key="old", claimed_at=long_ago),
        ]
    )
    db.session.commit()
    queue_of(qapp).enqueue("nightly-check")
    drain(qapp)
    kept = [(r.job, r.started_at) for r in runs()]
    assert ("nightly-check", long_ago) not in kept and ("nightly-check", lately) in kept
    assert ("stock-digest", long_ago) in kept  # another job's runs are its own to forget
    assert not db.session.execute(db.select(JobClaim)).all()


def test_a_run_left_running_past_its_time_limit_is_recorded_abandoned(qapp, login):
    """A worker killed mid-run leaves its run "running": the next start of that job, or the admin's page, records it
    failed as abandoned; a run still within its time limit is left running."""
    from clinicadmin.jobs.runs import ABANDONED

    stale = JobRun(job="nightly-check", attempt=1, started_at=now() - timedelta(seconds=700), outcome="running")
    young = JobRun(job="stock-digest", attempt=1, started_at=now() - timedelta(seconds=60), outcome="running")
    sealer = JobRun(job="audit-seal", attempt=1, started_at=now() - timedelta(seconds=200), outcome="running")
    db.session.add_all([stale, young, sealer])
    db.session.commit()
    ids = stale.id, young.id, sealer.id
    page = login("admin").get("/admin/jobs/").get_data(as_text=True)
    outcomes = {r.id: (r.outcome, r.summary) for r in runs()}
    assert outcomes[ids[0]] == ("failed", ABANDONED)
    assert outcomes[ids[1]] == ("running", None)
    assert outcomes[ids[2]] == ("failed", ABANDONED)  # the sealer's limit is shorter (120 s)
    assert ABANDONED in page and "after 120 s is taken as abandoned" in page
    finished = {r.id: r.finished_at for r in runs()}
    login("admin").get("/admin/jobs/")  # read again: what was recorded stays as it was
    assert {r.id: r.finished_at for r in runs()} == finished

    db.session.add(JobRun(job="audit-seal", attempt=1, started_at=now() - timedelta(seconds=130), outcome="running"))
    db.session.commit()
    queue_of(qapp).enqueue("audit-seal")  # the job's next start records its abandoned run
    drain(qapp)
    assert [r.outcome for r in runs("audit-seal")] == ["failed", "failed", "ok"]


def test_the_audit_sealer_goes_before_the_jobs_waiting_with_it(qapp):
    queue = queue_of(qapp)
    for name in ("nightly-check", "stock-digest", "audit-seal", "expiry-digest"):
        queue.enqueue(name)
    assert queue.huey.dequeue().name == "audit-seal"


def test_a_refused_digest_is_audited_as_failed_and_its_retry_as_read(qapp, staff, clinic, monkeypatch):
    from flask_mailman.backends import locmem

    client = clinic.client("Ada", "Expiring")
    db.session.add(
        Consent(client=client, modality=KEY, signed_on=clinic.today, expires_on=clinic.today + timedelta(10))
    )
    db.session.commit()
    real, refused = locmem.EmailBackend.send_messages, [1]

    def send(self, messages):
        if refused[0]:
            refused[0] -= 1
            raise ConnectionRefusedError("the mail server is down")
        return real(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", send)
    queue_of(qapp).enqueue("expiry-digest")
    drain(qapp)
    huey = queue_of(qapp).huey
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    for task in huey.read_schedule(later):
        huey.execute(task, later)
    assert [r.outcome for r in runs("expiry-digest")] == ["retrying", "ok"]
    assert len(outbox(qapp)) == 1
    reads = db.session.execute(
        db.select(AuditEvent.outcome).where(AuditEvent.action == "digest.expiry-digest").order_by(AuditEvent.seq)
    ).scalars()
    assert list(reads) == ["failed", "ok"]  # one read that happened, and the attempt that did not send


def test_the_admins_home_page_warns_when_the_audit_sealer_has_stopped(qapp, login, monkeypatch):
    import clinicadmin.integrity as integrity

    admin = login("admin")  # its login is an audit row, not sealed: no sealer runs here
    monkeypatch.setattr(integrity, "now", lambda: now() + timedelta(minutes=20))
    queue_of(qapp).enqueue("nightly-check")
    drain(qapp)
    page = admin.get("/admin/").get_data(as_text=True)
    section = page[page.index('id="nightly-check"') :]
    assert "1 audit warning(s)" in section
    assert "Warning: the oldest unsealed audit row was written 20 minutes ago: the audit sealer is not running" in (
        section
    )
    assert qapp.test_client().get("/readyz").status_code == 200
