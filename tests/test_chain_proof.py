"""The chain proof (issue 17): the real thing on this machine, under load, for a bounded minute.

Two ``clinicadmin serve`` instances (gunicorn, four workers each, an instance folder each, in production mode with the
deployment's secrets, audit keys included, given through the environment), one fresh PostgreSQL database migrated by
``clinicadmin db upgrade``, Redis for the rate limits and the job queue, one ``clinicadmin worker`` of that queue, and
a real SMTP server (aiosmtpd) in this process. Twenty staff sign in at once and work for ``CLINICADMIN_PROOF_SECONDS``
(default 60): they look clients up, book, record with stock consumption and run reports, the administrator also puts
the client-messages job on the queue ("Run now"), each request of a session going to the other instance than the one
before, so every form is served by one instance and posted to the other. Meanwhile bookings made at the start fall due
for their reminder (start less the clinic's 24-hour lead) spread over the run, and others just after it.

It passes when no response is other than the step expects (no server error, no CSRF refusal, no redirect to the login
page mid-session, no refused booking or recording), the servers and the worker logged no error and every job run
ended well; when each reminder due in the run arrived exactly once, not before it was due, sent by the worker (its
message-log row says sent, one attempt) and none due later or to a client who did not agree; and afterwards, once the
worker's audit-seal job has sealed the log, ``clinicadmin check`` agrees: each lot equals its ledger, the audit chain
verifies and every row of it is sealed.

Required in CI (``CLINICADMIN_REQUIRE_POSTGRES``, ``CLINICADMIN_TEST_REDIS_URL``); elsewhere it skips with the reason
when PostgreSQL or Redis is unreachable.
"""

import collections
import concurrent.futures
import contextlib
import email
import email.policy
import json
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from live_server import LiveServer, Session
from test_rate_limits import redis_url  # noqa: F401  (the Redis of the test, skipped or required as there)
from test_state_changes_live import KEY, PLUGIN

from clinicadmin.deployment_secrets import new_secrets
from clinicadmin.testing import CSRF_RE, TEST_PASSWORD

#: how long the staff work, in seconds (shorten it locally: CLINICADMIN_PROOF_SECONDS=15)
SECONDS = float(os.environ.get("CLINICADMIN_PROOF_SECONDS", "60"))
INSTANCES, WORKERS = 2, 4
#: the twenty staff at work, by role: the clinical ones book, record and report; the front desk books for a
#: practitioner of its own; the stock clerk looks products up and runs the stock reports
TEAM = {"practitioner": 12, "manager": 3, "admin": 1, "front_desk": 3, "stock_clerk": 1}
CLINICAL = ("practitioner", "manager", "admin")
#: clients (and bookings) each booking member of the team has to work through; more than a minute can use
CLIENTS_EACH = 60
STOCK = 100_000
#: how long a request may take before the browser gives up: past gunicorn's own timeout (60 s, the shipped settings),
#: so that a slow answer on a loaded machine (twenty sign-ins at once, each a password hash) is the server's to refuse
REQUEST_TIMEOUT = 90
#: limits a clinic would set for twenty people behind one address (every request here comes from 127.0.0.1)
LIMITS = {
    "RATE_LIMIT_LOGIN_PER_ADDRESS": "100 per minute",
    "RATE_LIMIT_LOOKUPS": "600 per minute",
    "RATE_LIMIT_REPORTS": "300 per minute",
}


# --- the queue's worker, reminders by e-mail, the audit seal ---------------------------------------------------

#: audit rows whose place is missing are waited for this long before it is sealed as skipped (120 s in production)
SETTLE_SECONDS = 5
#: bookings whose reminder falls due during the run, each for a client and practitioner of its own (spread over it)
REMINDERS_DUE = 6
#: reminders due after the run (seconds after its end): never sent while the worker runs
REMINDERS_LATER = (180, 600)
#: how long a job put on the queue may take to be run by the worker, on a loaded machine
JOB_TIMEOUT = 90


def queue_worker_command(clinicadmin):
    """The queue's worker: two threads (so that runs of one job overlap), scheduling the periodic jobs too."""
    return [clinicadmin, "worker", "--workers", "2", "--periodic"]


class _Inbox:
    """An aiosmtpd handler keeping each message with the time it arrived."""

    def __init__(self):
        self.messages, self.lock = [], threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(
                {
                    "at": datetime.now(UTC),
                    "to": list(envelope.rcpt_tos),
                    "subject": message["Subject"],
                    "text": message.get_content(),
                }
            )
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def mail_sink():
    """A real SMTP server (aiosmtpd) on a free local port for the run; yields the environment pointing every process
    at it and the list its messages arrive in (each with its arrival time)."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line per SMTP command
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (
            {
                "CLINICADMIN_MAIL_BACKEND": "smtp",
                "CLINICADMIN_MAIL_SERVER": "127.0.0.1",
                "CLINICADMIN_MAIL_PORT": str(port),
                "CLINICADMIN_MAIL_TIMEOUT": "20",
                "CLINICADMIN_MAIL_DEFAULT_SENDER": "clinic@proof.example.com",
            },
            inbox.messages,
        )
    finally:
        controller.stop()


def seed_reminder_people(user):
    """The clients the reminders go to (agreeing to be contacted by e-mail) and a practitioner for each, and one
    client due a reminder who did not agree; the bookings are made at the start of the run (:func:`book_reminders`)."""
    from clinicadmin.extensions import db
    from clinicadmin.models import Client, Consent

    today = datetime.now(UTC).date()
    people = []
    for i in range(REMINDERS_DUE + len(REMINDERS_LATER) + 1):
        consenting = i != REMINDERS_DUE + len(REMINDERS_LATER)  # the last one did not agree
        client = Client(
            first_name=f"Rem{i:02d}",
            last_name=f"Reminded{i:02d}",
            date_of_birth=date(1980, 1, 1),
            intake_reviewed_on=today - timedelta(days=3),
            plugin_fields={},
            email=f"reminded{i:02d}@proof.example.com",
            contact_consent=consenting,
            contact_channel="email" if consenting else None,
        )
        client.consents.append(Consent(modality=KEY, signed_on=today - timedelta(days=10)))
        practitioner = user(
            f"reminderpractitioner{i:02d}@proof.example.com", f"Proof reminder practitioner {i}", "practitioner"
        )
        db.session.add(client)
        people.append((client, practitioner, consenting))
    return people


def book_reminders(app, seeded, begins, ends):
    """Book each reminder client through the booking flow (as a manager), so that their reminders (start less the
    clinic's lead, 24 hours) fall due spread over the run from ``begins`` to ``ends``, or after it; returns what must
    and must not arrive: {"due": [...], "later": [...], "unwilling": [...]}, each {treatment, email, due}."""
    from clinicadmin.extensions import db
    from clinicadmin.models import Client, Location, User
    from clinicadmin.treatment_flow import book

    lead = timedelta(hours=24)
    span = (ends - begins).total_seconds()
    plan = [("due", begins + timedelta(seconds=round(span * (i + 0.5) / REMINDERS_DUE))) for i in range(REMINDERS_DUE)]
    plan += [("later", ends + timedelta(seconds=s)) for s in REMINDERS_LATER]
    plan += [("unwilling", begins + timedelta(seconds=round(span / 2)))]
    made = {"due": [], "later": [], "unwilling": []}
    with app.app_context():
        location = db.session.get(Location, seeded["location"])
        manager = db.session.execute(db.select(User).filter_by(email=seeded["reminder_booker"])).scalar_one()
        for (kind, due), (client_id, practitioner_id) in zip(plan, seeded["reminder_people"], strict=True):
            treatment = book(
                client=db.session.get(Client, client_id),
                modality=KEY,
                practitioner=db.session.get(User, practitioner_id),
                location=location,
                scheduled_at=(due + lead).replace(microsecond=0),
                user=manager,
                duration_minutes=30,
                confirm_outside_hours=True,
            )
            made[kind].append(
                {"treatment": treatment.id, "email": treatment.client.email, "due": treatment.scheduled_at - lead}
            )
        db.session.remove()
    return made


def check_reminders(inbox, expected, env, worker_stopped):
    """Each reminder due in the run arrived once, not before it was due, to its client, with the booking's time, and
    its message-log row says sent (one attempt); none arrived for a booking due later or a client who did not agree,
    and nothing else was sent. Returns a list of problems."""
    import psycopg

    problems = []
    with psycopg.connect(env["CLINICADMIN_DATABASE_URL"]) as conn:
        rows = conn.execute(
            "SELECT treatment_id, kind, status, attempts, recipient, sent_at, error FROM client_message ORDER BY id"
        ).fetchall()
    by_treatment = {}
    for row in rows:
        by_treatment.setdefault(row[0], []).append(row)
    expected_to = {r["email"] for r in expected["due"]}
    for reminder in expected["due"]:
        arrived = [m for m in inbox if reminder["email"] in m["to"]]
        logged = by_treatment.pop(reminder["treatment"], [])
        label = f"the reminder of booking {reminder['treatment']} (due {reminder['due']:%H:%M:%S})"
        if len(arrived) != 1:
            problems.append(
                f"{label} arrived {len(arrived)} times at {reminder['email']}: "
                f"{[m['at'].strftime('%H:%M:%S.%f') for m in arrived]}"
            )
        for m in arrived:
            if m["at"] < reminder["due"]:
                problems.append(f"{label} arrived early, at {m['at']:%H:%M:%S.%f}")
            start = reminder["due"] + timedelta(hours=24)
            if f"{start:%H:%M}" not in m["text"]:
                problems.append(f"{label}: the message does not give the booking's time {start:%H:%M}: {m['text']!r}")
        if len(logged) != 1:
            problems.append(f"{label} has {len(logged)} message-log rows: {logged}")
        for _, kind, status, attempts, recipient, sent_at, error in logged:
            if (kind, status, attempts, recipient) != ("booking_reminder", "sent", 1, reminder["email"]) or error:
                problems.append(f"{label}: its message-log row says {(kind, status, attempts, recipient, error)}")
            elif sent_at is None or sent_at < reminder["due"]:
                problems.append(f"{label}: logged as sent at {sent_at}, before it was due")
    for reminder in expected["later"] + expected["unwilling"]:
        why = "is due later" if reminder in expected["later"] else "is for a client who did not agree to be contacted"
        if reminder in expected["later"] and worker_stopped >= reminder["due"]:
            problems.append(
                f"the run overran: the worker stopped at {worker_stopped:%H:%M:%S}, after the reminder due at "
                f"{reminder['due']:%H:%M:%S}"
            )
        arrived = [m for m in inbox if reminder["email"] in m["to"]]
        if arrived or reminder["treatment"] in by_treatment:
            problems.append(
                f"the reminder of booking {reminder['treatment']}, which {why}, was sent ({len(arrived)} arrived; "
                f"log: {by_treatment.get(reminder['treatment'])})"
            )
        by_treatment.pop(reminder["treatment"], None)
    others = [m for m in inbox if not set(m["to"]) & expected_to]
    if others:
        problems.append(f"{len(others)} other message(s) arrived: {[(m['to'], m['subject']) for m in others[:5]]}")
    if by_treatment:
        problems.append(f"the message log has rows nobody expected: {list(by_treatment.values())[:5]}")
    return problems


def check_audit_sealed(env, check_output, seal_run):
    """The worker's final "audit-seal" run went well, and ``clinicadmin check`` verified the chain with every row
    sealed (or noted as written after its place was sealed) under at least one seal. Returns a list of problems."""
    found = re.search(
        r"OK: the audit chain of (\d+) rows is unbroken: (\d+) sealed in (\d+) seal\(s\), (\d+) not sealed yet",
        check_output,
    )
    if not found:
        return [f"clinicadmin check did not say the audit chain is verified and sealed:\n{check_output}"]
    rows, sealed, seals, unsealed = map(int, found.groups())
    problems = []
    if unsealed or not seals or not sealed:
        problems.append(f"the audit chain is not sealed to its end: {found.group(0)}")
    if seal_run[1] != "ok":
        problems.append(f"the worker's final audit-seal run: {seal_run}")
    return problems


def _job_runs(env, job, since, like=False):
    """The runs of ``job`` (a LIKE pattern if ``like``) begun since ``since``: (id, outcome, summary, error, job)."""
    import psycopg

    with psycopg.connect(env["CLINICADMIN_DATABASE_URL"]) as conn:
        return conn.execute(
            "SELECT id, outcome, summary, error, job FROM job_run "
            f"WHERE job {'LIKE' if like else '='} %s AND started_at >= %s ORDER BY id",
            (job, since),
        ).fetchall()


def _unsealed(env):
    """How many audit rows lie after the last seal's."""
    import psycopg

    with psycopg.connect(env["CLINICADMIN_DATABASE_URL"]) as conn:
        return conn.execute(
            "SELECT count(*) FROM audit_event WHERE seq > (SELECT coalesce(max(last_seq), 0) FROM audit_seal)"
        ).fetchone()[0]


def seal_to_the_end(app, env, worker):
    """Run the worker's audit-seal job until no row is left after the last seal: a row after a missing number waits
    :data:`SETTLE_SECONDS` for it (then its place is sealed as skipped). Returns the last run."""
    deadline = time.monotonic() + SETTLE_SECONDS + JOB_TIMEOUT
    while True:
        run = run_job(app, env, "audit-seal", worker)
        if run[1] != "ok" or not _unsealed(env) or time.monotonic() > deadline:
            return run
        time.sleep(1)


def run_job(app, env, job, worker):
    """Put ``job`` on the queue (as "Run now" does, from this process's app of the deployment) and wait for the
    worker to finish a run of it begun after that; returns (id, outcome, summary, error). Fails naming the job and
    the worker's log when no run ends within :data:`JOB_TIMEOUT` seconds."""
    from clinicadmin.jobs import queue_of

    since = datetime.now(UTC)
    queue_of(app).enqueue(job)
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        done = [run for run in _job_runs(env, job, since) if run[1] not in ("running",)]
        if done:
            return done[0]
        if worker.process.poll() is not None:
            break
        time.sleep(0.25)
    pytest.fail(
        f"the queue's worker did not finish the job {job} put on the queue at {since:%H:%M:%S} within {JOB_TIMEOUT} s"
        f" (worker {'exited ' + str(worker.process.returncode) if worker.process.poll() is not None else 'running'});"
        f" its log ({worker.log_path}):\n{worker.log()[-3000:]}"
    )


# --- the deployment --------------------------------------------------------------------------------------------


class Instance(LiveServer):
    """One ``clinicadmin serve`` (gunicorn with the shipped settings) on a free port, its own instance folder, the
    deployment's environment; stopped as :class:`LiveServer` stops (SIGINT, then its process group killed)."""

    # two instances of four workers start together, beside the other tests of the run, on two cores
    start_timeout = 180

    def __init__(self, folder, env, workers):
        self.folder, self.workers, self.staff = folder, workers, None
        (folder / "instance").mkdir(parents=True)
        self.log_path = folder / "gunicorn.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [_clinicadmin(), "serve", "--bind", "127.0.0.1:0", "--workers", str(workers), "--"]
            + ["--graceful-timeout", "1"],
            env={**env, "CLINICADMIN_INSTANCE_PATH": str(folder / "instance")},
            cwd=folder,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.url = self._wait_until_serving()
        except BaseException:
            self.stop()
            raise


def _clinicadmin():
    return str(Path(sys.executable).with_name("clinicadmin"))


def _command(env, *args, timeout=300):
    done = subprocess.run([_clinicadmin(), *args], env=env, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def _environment(database_url, redis, plugins, prefix):
    """What every process of the chain is given: the database, the deployment's secrets, Redis for the limits, the
    plugin, http on 127.0.0.1, and the limits for twenty people at one address."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINICADMIN_", "WEB_CONCURRENCY"))}
    env.update(
        CLINICADMIN_DATABASE_URL=database_url,
        CLINICADMIN_PLUGINS_DIR=str(plugins),
        CLINICADMIN_PLUGINS_ENABLED=json.dumps([KEY]),
        CLINICADMIN_HTTPS="false",
        CLINICADMIN_REDIS_URL=redis,
        CLINICADMIN_RATELIMIT_KEY_PREFIX=prefix,
        CLINICADMIN_LOG_FORMAT="json",
        # the queue (in Redis, as REDIS_URL is set) under a name of this run's, so no other test's worker takes its jobs
        CLINICADMIN_JOBS_QUEUE_NAME=prefix,
        CLINICADMIN_AUDIT_SEAL_SETTLE_SECONDS=str(SETTLE_SECONDS),
    )
    for name, value in new_secrets().items():
        env[f"CLINICADMIN_{name}"] = value if isinstance(value, str) else json.dumps(value)
    env.update({f"CLINICADMIN_{name}": value for name, value in LIMITS.items()})
    return env


def _seed(env, instance):
    """The chain's staff (the team, plus a practitioner to book for each member who is not one), a location with one
    room or device of each kind, the clients each books for (consented, intake reviewed) and a well-stocked
    consumable; made through an app of the deployment's configuration in this process."""
    from flask_security import hash_password

    from clinicadmin.app import create_app
    from clinicadmin.demo import _role, ensure_roles
    from clinicadmin.extensions import db
    from clinicadmin.models import Certification, Client, Consent, Location, Product, Resource, StockLot, StockMovement
    from clinicadmin.plugins import registry

    saved = {k: os.environ.get(k) for k in env if k.startswith("CLINICADMIN_")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("CLINICADMIN_")})
    try:
        app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True})
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    with app.app_context():
        ensure_roles()
        today = datetime.now(UTC).date()  # the location's zone is UTC
        location = Location(name="Proof Clinic", time_zone="UTC")
        db.session.add(location)
        db.session.add_all(
            Resource(location=location, kind=kind.key, name=f"Proof {kind.label.lower()}")
            for kind in registry().resource_kinds.values()
        )
        hashed = hash_password(TEST_PASSWORD)

        def user(email, name, role):
            made = app.security.datastore.create_user(
                email=email, full_name=name, password=hashed, roles=[_role(role)], location=location
            )
            made.certifications.append(
                Certification(scope=KEY, licence_number="P-1", valid_until=today + timedelta(days=365))
            )
            return made

        team = []
        for role, count in TEAM.items():
            for i in range(count):
                member = user(f"{role.replace('_', '')}{i:02d}@proof.example.com", f"Proof {role} {i}", role)
                # Who the member books for: themselves if a practitioner, else a practitioner of their own.
                booked_for = member
                if role not in ("practitioner", "stock_clerk"):
                    booked_for = user(
                        f"practitionerfor{role.replace('_', '')}{i:02d}@proof.example.com",
                        f"Proof practitioner for {role} {i}",
                        "practitioner",
                    )
                team.append((role, member, booked_for))
        supply = Product(sku="PROOF-1", name="Proof supply", category="consumable", unit="mL", pack_size=1)
        db.session.add(supply)
        db.session.flush()
        lot = StockLot(
            product=supply,
            location=location,
            lot_number="P1",
            quantity=STOCK,
            expires_on=today + timedelta(days=365),
        )
        db.session.add(lot)
        db.session.flush()
        db.session.add(StockMovement(lot_id=lot.id, quantity=STOCK, reason="receipt"))
        reminded = seed_reminder_people(user)
        members = []
        for n, (role, member, booked_for) in enumerate(team):
            clients = []
            if role != "stock_clerk":
                for k in range(CLIENTS_EACH):
                    client = Client(
                        first_name=f"Pat{k:03d}",
                        last_name=f"Proof{n:02d}x{k:03d}",
                        date_of_birth=date(1985, 5, 5),
                        intake_reviewed_on=today - timedelta(days=3),
                        plugin_fields={},
                    )
                    client.consents.append(Consent(modality=KEY, signed_on=today - timedelta(days=10)))
                    clients.append(client)
                db.session.add_all(clients)
            members.append({"n": n, "role": role, "email": member.email, "for": booked_for, "clients": clients})
        db.session.commit()
        for member in members:
            member["practitioner"] = member.pop("for").id
            member["clients"] = [(c.id, c.last_name) for c in member["clients"]]
        seeded = {"location": location.id, "product": supply.id, "lot": lot.id, "members": members}
        seeded["reminder_people"] = [(client.id, practitioner.id) for client, practitioner, _ in reminded]
        seeded["reminder_booker"] = next(m["email"] for m in members if m["role"] == "manager")
        db.session.remove()
        db.engine.dispose()
    return app, seeded


# --- the staff at work -----------------------------------------------------------------------------------------


def _field(html, name):
    """The value of the input ``name`` on a page, or None."""
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="{name}"', html)
    return None if found is None else (found.group(1) if found.group(1) is not None else found.group(2))


class Mismatch(Exception):
    """A response other than the step expects."""


class Hopper(Session):
    """A browser whose requests go to the instances in turn (one cookie jar: the session must hold on both), and
    which checks every response against what its step expects."""

    def __init__(self, urls, who):
        super().__init__(urls[0], timeout=REQUEST_TIMEOUT)
        self.urls, self.who, self.turn, self.requests, self.last = urls, who, 0, 0, None

    def request(self, method, path, params=None, data=None):
        self.base_url = self.urls[self.turn % len(self.urls)]
        self.turn += 1
        self.requests += 1
        self.last = f"{method} {path} on {self.base_url} at {datetime.now(UTC):%H:%M:%S}"  # for a broken connection
        return super().request(method, path, params=params, data=data)

    def expect(self, response, step, statuses=(200,), redirect=None):
        """``response`` if its status is one of ``statuses`` and a redirect goes where ``redirect`` (a regex) says,
        never to the login page; else :class:`Mismatch` naming the step, the instance and what came instead."""
        location = response.headers.get("Location", "") or ""
        problem = None
        if response.status not in statuses:
            problem = f"status {response.status}"
        elif "/login" in location:
            problem = f"sent to the login page ({location})"
        elif redirect is not None and not re.search(redirect, location):
            problem = f"redirected to {location!r}"
        if problem:
            messages = [
                re.sub(r"<[^>]+>|\s+", " ", m).strip()[:200]
                for m in re.findall(
                    r'class="[^"]*(?:alert-danger|invalid-feedback|help-block|text-danger)[^"]*"[^>]*>(.*?)</(?:div|p|span|li)',
                    response.text,
                    re.S,
                )
            ]
            raise Mismatch(
                f"{self.who}: {step} on {self.base_url}: {problem} "
                f"(request id {response.headers.get('X-Request-ID')}); {messages[:4]}"
            )
        return response

    def form(self, path, step):
        """GET a form page; returns (page text, its CSRF token, its once token)."""
        page = self.expect(self.get(path), step).text
        token = CSRF_RE.search(page)
        if not token:
            raise Mismatch(f"{self.who}: {step}: no CSRF token on {path}")
        return page, token.group(1) or token.group(2), _field(page, "once") or secrets.token_urlsafe(24)


class Member(threading.Thread):
    """One member of the team: signs in, then works through cycles of their role until ``deadline``."""

    def __init__(self, urls, seeded, member, start, deadline):
        super().__init__(name=member["email"])
        self.m, self.seeded, self.start_gate, self.deadline = member, seeded, start, deadline
        self.http = Hopper(urls, member["email"])
        self.failures, self.booked, self.recorded, self.cycles = [], [], [], 0
        self.next_client, self.signed_in, self.jobs_enqueued = 0, False, 0

    def run(self):
        try:
            self.start_gate.wait()
            self.login()
            self.signed_in = True
            if self.m["role"] == "admin":  # at once, and in each cycle: so that both instances take one
                self.run_now("client-messages")
            while time.monotonic() < self.deadline:
                self.cycle()
                self.cycles += 1
        except Mismatch as exc:
            self.failures.append(str(exc))
        except Exception as exc:  # a broken connection or a page that cannot be read is a failure too
            self.failures.append(f"{self.m['email']}: {type(exc).__name__}: {exc} (the last request: {self.http.last})")

    def login(self):
        http = self.http
        _, token, _ = http.form("/login", "the login page")
        http.expect(
            http.post("/login", {"email": self.m["email"], "password": TEST_PASSWORD, "csrf_token": token}),
            "logging in",
            (302, 303),
        )
        # the dashboard, or the role's home it sends the front desk to
        http.expect(http.get("/admin/"), "the dashboard after logging in", (200, 302), redirect=r"^$|/admin/")

    def cycle(self):
        http = self.http
        if self.m["role"] == "stock_clerk":
            from clinicadmin.forms import product_lookup_name

            found = http.expect(
                http.get("/admin/receive/ajax/lookup/", name=product_lookup_name(["consumable"]), query="proof"),
                "looking up a product",
            ).json()
            if str(self.seeded["product"]) not in [str(row[0]) for row in found]:
                raise Mismatch(f"{self.m['email']}: the product lookup did not find the product: {found}")
            for key in ("stock-on-hand", "stock-usage", "stock-value"):
                http.expect(http.get(f"/admin/reports/{key}"), f"the {key} report")
            http.expect(http.get("/admin/stocklot/"), "the lot list")
            return
        if self.next_client >= len(self.m["clients"]):
            http.expect(http.get("/admin/"), "the dashboard", (200, 302), redirect=r"^$|/admin/")
            return
        client_id, last_name = self.m["clients"][self.next_client]
        k = self.next_client
        self.next_client += 1
        found = http.expect(
            http.get("/admin/desk/ajax/lookup/", name="client", query=last_name.lower()), "looking up a client"
        ).json()
        if str(client_id) not in [str(row[0]) for row in found]:
            raise Mismatch(f"{self.m['email']}: the client lookup did not find {last_name}: {found}")
        clients = "/admin/client/" if self.m["role"] in CLINICAL else "/admin/client_desk/"  # the desk's: contact only
        http.expect(http.get(clients, search=last_name[:7]), "the client list searched")
        _, token, once = http.form(f"/admin/desk/book?modality={KEY}", "the booking form")
        # Each member's bookings lie in hours of their own, back from now, so that nobody's booking holds a room, a
        # practitioner or a client another member books.
        when = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None) - timedelta(
            hours=24 + self.m["n"] * CLIENTS_EACH + k
        )
        booked = http.expect(
            http.post(
                "/admin/desk/book",
                {
                    "client": client_id,
                    "modality": KEY,
                    "practitioner": self.m["practitioner"],
                    "location": self.seeded["location"],
                    "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
                    "duration_minutes": "30",
                    "questions_for": KEY,
                    "notes": "",
                    "once": once,
                    "csrf_token": token,
                },
            ),
            "booking",
            (302, 303),
            redirect=r"/admin/desk/\d+$",
        )
        treatment = int(booked.headers["Location"].rsplit("/", 1)[1])
        self.booked.append(treatment)
        http.expect(http.get(f"/admin/desk/{treatment}"), "the booked treatment's page")
        if self.m["role"] not in CLINICAL:
            http.expect(http.get("/admin/calendar/"), "the appointment book")
            return
        page, token, _ = http.form(f"/admin/desk/{treatment}/record", "the record form")
        recorded = http.expect(
            http.post(
                f"/admin/desk/{treatment}/record",
                {
                    "performed_at": _field(page, "performed_at"),
                    "details-product": self.seeded["product"],
                    "details-amount": "1",
                    "notes": "Proof session.",
                    "acknowledgement_note": "Proof: reviewed",
                    "csrf_token": token,
                },
            ),
            "recording",
            (302, 303),
            redirect=rf"/admin/desk/{treatment}$",
        )
        shown = http.expect(http.get(recorded.headers["Location"].removeprefix(http.base_url)), "the recorded page")
        if "Treatment recorded" not in shown.text:
            raise Mismatch(f"{self.m['email']}: recording {treatment} did not say it was recorded")
        self.recorded.append(treatment)
        if self.m["role"] == "practitioner":  # the clinic's reports are the managers'; a practitioner reads the list
            http.expect(http.get("/admin/treatment/"), "the treatment list")
        else:
            for key in ("practitioner-activity", "treatments-per-modality"):
                http.expect(http.get(f"/admin/reports/{key}"), f"the {key} report")
        if self.m["role"] == "admin":
            self.run_now("client-messages")

    def run_now(self, job):
        """The administrator's "Run now" of a job (the form from one instance, posted to the other): the queue's
        worker runs it, beside its own schedule."""
        http = self.http
        page = http.expect(http.get("/admin/jobs/"), "the background jobs page").text
        row = re.search(rf'<tr data-job="{job}">(.*?)</tr>', page, re.S)
        token = CSRF_RE.search(row.group(1)) if row else None
        if not token:
            raise Mismatch(f"{self.m['email']}: no Run now form for the job {job} on the background jobs page")
        http.expect(
            http.post(
                "/admin/jobs/run",
                {"job": job, "once": _field(row.group(1), "once"), "csrf_token": token.group(1) or token.group(2)},
            ),
            f"running the job {job} now",
            (302, 303),
            redirect=r"/admin/jobs/$",
        )
        shown = http.expect(http.get("/admin/jobs/"), "the background jobs page after Run now").text
        if "put on the queue" not in shown:
            raise Mismatch(f"{self.m['email']}: Run now of {job} did not say it was put on the queue")
        self.jobs_enqueued += 1


# --- the proof ---------------------------------------------------------------------------------------------------


@pytest.fixture
def chain(postgres_databases, redis_url, tmp_path):  # noqa: F811 (redis_url is the imported fixture)
    """The deployment: a migrated, seeded PostgreSQL database, the environment every process shares, and the
    instances (started by the test); everything started is stopped, and the run's Redis keys removed."""
    import redis

    database_url = postgres_databases.create("proof")
    plugins = tmp_path / "plugins"
    (plugins / KEY).mkdir(parents=True)
    (plugins / KEY / "__init__.py").write_text(PLUGIN.format(tests=str(Path(__file__).parent)))
    prefix = f"clinicadmin-proof-{secrets.token_hex(6)}"
    env = _environment(database_url, redis_url, plugins, prefix)
    env["CLINICADMIN_INSTANCE_PATH"] = str(tmp_path / "chores")
    code, out, err = _command(env, "db", "upgrade")
    assert code == 0, f"clinicadmin db upgrade failed:\n{out}\n{err}"
    started = []
    try:
        yield {"env": env, "tmp": tmp_path, "started": started}
    finally:
        for process in reversed(started):
            process.stop()
        store = redis.Redis.from_url(redis_url)
        for key in store.scan_iter(f"{prefix}*"):
            store.delete(key)


class _Worker:
    """The queue's worker process, stopped like a server (SIGINT, then killed)."""

    def __init__(self, argv, env, log_path):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(argv, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


def _slowest(logs, count=5):
    """The ``count`` slowest lines of the servers' access logs (each ends in its milliseconds and request id)."""
    timed = [
        (int(found.group(1)), found.group(0).strip())
        for log in logs.values()
        for line in log.splitlines()
        if (found := re.search(r'\\?"[A-Z]+ [^"\\]+\\?" \d+ \S+ (\d+)ms request_id=\w+', line))
    ]
    return [line for _, line in sorted(timed, reverse=True)[:count]]


def _errors(log):
    """The lines of a JSON log at ERROR or above, and tracebacks."""
    return [
        line
        for line in log.splitlines()
        if '"level": "ERROR"' in line or '"level": "CRITICAL"' in line or "Traceback" in line
    ]


@pytest.mark.xdist_group("live")
def test_two_instances_serve_twenty_staff_for_a_minute_without_an_error(chain):
    began = time.monotonic()
    env, tmp = chain["env"], chain["tmp"]
    with mail_sink() as (mail_env, inbox):
        env = {**env, **mail_env}
        worker = _Worker(queue_worker_command(_clinicadmin()), env, tmp / "worker.log")
        chain["started"].append(worker)
        # The instances start together, as a deployment does, while the clinic is seeded (they need only the schema).
        with concurrent.futures.ThreadPoolExecutor(INSTANCES + 1) as pool:
            seeding = pool.submit(lambda: (*_seed(env, tmp / "seed"), time.monotonic()))
            starting = [pool.submit(Instance, tmp / f"instance-{i}", env, WORKERS) for i in range(INSTANCES)]
            for future in starting:
                with contextlib.suppress(Exception):  # stopped at teardown; the first failure is raised
                    chain["started"].append(future.result())
            instances = [future.result() for future in starting]
            app, seeded, seeded_at = seeding.result()
        assert worker.process.poll() is None, f"the queue's worker exited at start-up:\n{worker.log()}"
        ready = time.monotonic()
        begins = datetime.now(UTC) + timedelta(seconds=3)
        reminders = book_reminders(app, seeded, begins, begins + timedelta(seconds=SECONDS))
        gate = threading.Barrier(len(seeded["members"]))
        deadline = time.monotonic() + SECONDS
        urls = [instance.url for instance in instances]
        team = [
            Member(urls[i % 2 :] + urls[: i % 2], seeded, m, gate, deadline) for i, m in enumerate(seeded["members"])
        ]
        for member in team:
            member.start()
        for member in team:
            member.join(SECONDS + 120)
        worked = time.monotonic() - ready
        logs = {instance.url: instance.log() for instance in instances}  # before stopping: a stop kills workers
        with concurrent.futures.ThreadPoolExecutor(INSTANCES) as pool:
            list(pool.map(Instance.stop, instances))
        # What the next minute's schedule would do, now: the reminders due by the end of the run, then the seal (the
        # worker runs both, as it does on its schedule).
        messages_run = run_job(app, env, "client-messages", worker)
        seal_run = seal_to_the_end(app, env, worker)
        worker.stop()
        worker_stopped = datetime.now(UTC)
        worker_log = worker.log()
        reminder_problems = check_reminders(inbox, reminders, env, worker_stopped)
        sent = len(inbox)

    failures = [f for member in team for f in member.failures] + [
        f"{member.name} still working after the run" for member in team if member.is_alive()
    ]
    requests = sum(member.http.requests for member in team)
    recorded = [t for member in team for t in member.recorded]
    booked = [t for member in team for t in member.booked]
    job_runs = _job_runs(env, "%", datetime.fromtimestamp(0, UTC), like=True)
    print(
        f"\nchain proof: {len(team)} staff, {requests} requests ({requests / worked:.0f}/s) in {worked:.0f} s over "
        f"{INSTANCES}x{WORKERS} workers; {len(booked)} booked, {len(recorded)} recorded; "
        f"{sum(m.jobs_enqueued for m in team)} Run now; job runs {dict(collections.Counter(r[4] for r in job_runs))}; "
        f"{sent} reminders arrived; last messages run: {messages_run[2]}; last seal: {seal_run[2]}; "
        f"seeding {seeded_at - began:.0f} s, start-up {ready - began:.0f} s (together); the slowest answer: "
        f"{(_slowest(logs, 1) or ['none'])[0]}",
        file=sys.stderr,
    )
    assert not failures, (
        f"{len(failures)} member(s) met a response other than expected (the servers' and worker's logs: {tmp}):\n"
        + "\n".join(failures[:20])
        + "\nthe slowest answers:\n"
        + "\n".join(_slowest(logs))
    )
    assert all(member.signed_in for member in team), [m.name for m in team if not m.signed_in]
    assert recorded, "nothing was recorded in the run"
    for url, log in logs.items():
        errors = _errors(log)
        assert not errors, f"{url} logged errors:\n" + "\n".join(errors[:10])
        # both instances took bookings and recordings (each request went to the other instance than the last)
        assert "POST /admin/desk/book" in log and "/record HTTP" in log, f"{url} took no booking or recording"
        assert "POST /admin/jobs/run" in log, f"{url} took no Run now of a job"
    errors = _errors(worker_log)
    assert not errors, f"the queue's worker logged errors ({tmp / 'worker.log'}):\n" + "\n".join(errors[:10])
    not_ok = [run for run in job_runs if run[1] != "ok"]
    assert not not_ok, f"job runs that did not end ok: {not_ok[:10]}"
    # the reminders went out in the worker's runs of the job (which alone write job_run), once each
    sent_by_runs = sum(
        int(found.group(1))
        for run in job_runs
        if run[4] == "client-messages" and (found := re.search(r"(\d+) sent", run[2] or ""))
    )
    assert sent_by_runs == REMINDERS_DUE, f"the worker's client-messages runs sent {sent_by_runs}: {job_runs}"

    code, out, err = _command(env, "check")
    assert code == 0, f"clinicadmin check failed:\n{out}\n{err}"
    assert "OK: 1 lots agree with the stock ledger." in out and "OK: the audit chain" in out, out
    reminded = [r["treatment"] for group in reminders.values() for r in group]
    _assert_stock_and_records(env, seeded, booked, recorded, reminded)
    problems = check_audit_sealed(env, out, seal_run) + reminder_problems
    assert not problems, "\n".join(problems)
    print(f"chain proof: {time.monotonic() - began:.0f} s in all; {out.strip().splitlines()[-2]}", file=sys.stderr)


def _assert_stock_and_records(env, seeded, booked, recorded, reminded):
    """What the staff saw is what is stored: every booking made once (beside the ``reminded`` bookings made before
    the run, still booked), every recording performed once with one consumption of the one unit it recorded, and the
    lot down by exactly those."""
    import psycopg

    with psycopg.connect(env["CLINICADMIN_DATABASE_URL"]) as conn:
        statuses = dict(
            conn.execute(
                "SELECT status, count(*) FROM treatment WHERE id <> ALL(%s) GROUP BY status", (reminded,)
            ).fetchall()
        )
        untouched = conn.execute(
            "SELECT count(*) FROM treatment WHERE id = ANY(%s) AND status = 'booked'", (reminded,)
        ).fetchone()[0]
        quantity = conn.execute("SELECT quantity FROM stock_lot WHERE id = %s", (seeded["lot"],)).fetchone()[0]
        moved = {
            reason: (count, total)
            for reason, count, total in conn.execute(
                "SELECT reason, count(*), sum(quantity) FROM stock_movement WHERE lot_id = %s GROUP BY reason",
                (seeded["lot"],),
            )
        }
    assert untouched == len(reminded), f"of the {len(reminded)} bookings due a reminder, {untouched} are still booked"
    assert sum(statuses.values()) == len(booked) == len(set(booked)), (statuses, len(booked))
    assert statuses.get("performed", 0) == len(recorded), (statuses, len(recorded))
    (_, received), (count, consumed) = moved["receipt"], moved["consumption"]
    # the columns hold the quantity as stored (a fixed scale): one unit of the STOCK received, per recording
    assert count == len(recorded) and -consumed * STOCK == received * len(recorded), moved
    assert quantity == received + consumed, (quantity, moved)
