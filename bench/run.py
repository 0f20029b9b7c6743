"""``make bench``: seed a clinic chain, then time ClinicAdmin's pages against plain Flask-Admin over the same tables.

Each scenario runs through the Flask test client, logged in as a manager, with every shipped plugin loaded; the
baseline is a plain Flask-Admin app (default ModelViews, no login) over the same database, measured in the same run.
Prints one table per database: median and p95 milliseconds, SQL statements per request, the baseline's median and
the ratio (baseline / ours). Then consumption throughput with 8 concurrent workers, and on PostgreSQL recording
throughput through gunicorn with 1, 4 and 8 worker processes (``bench/recording.py``).

Environment: ``BENCH_SCALE`` (1.0 = 100,000 clients and 1,000,000 treatments; default 1.0), ``BENCH_REPEAT``
(timed requests per scenario, default 30), ``BENCH_POSTGRES_URL`` (default: the local server's
``clinicadmin_bench`` database; skipped when unreachable). Seeded databases are kept in ``bench/results/`` and reused.
"""

import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import PASSWORD, SEED_VERSION, counts, seed  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/clinicadmin_bench")
DATABASES = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
ONLY = [word.strip() for word in os.environ.get("BENCH_ONLY", "").split(",") if word.strip()]
if "--only" in sys.argv:  # ``python bench/run.py --only recording``: as BENCH_ONLY
    ONLY = [word.strip() for word in sys.argv[sys.argv.index("--only") + 1].split(",") if word.strip()]
CHEAP_HASH = {"argon2__rounds": 1, "argon2__memory_cost": 1024}


def _app(uri, instance):
    from clinicadmin.app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "INSTANCE_PATH": str(instance),
            "WTF_CSRF_ENABLED": False,
            "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": CHEAP_HASH,
            "IDLE_TIMEOUT_MINUTES": 0,
        }
    )


def _seeded(app):
    """Whether the database holds the seeded scale; brings its schema up to the code's (new indexes) when it does."""
    from clinicadmin.extensions import db
    from clinicadmin.schema import upgrade_all

    with app.app_context():
        try:
            treatments = db.session.execute(db.text("SELECT count(*) FROM treatment")).scalar()
            version = db.session.execute(db.text("SELECT max(version) FROM bench_seed")).scalar()
            seeded = treatments >= counts(SCALE)["treatments"] and version == SEED_VERSION
        except Exception:
            db.session.rollback()
            return False
        if seeded:
            db.session.remove()
            upgrade_all()
        return seeded


def prepare_sqlite():
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench-{SCALE:g}.sqlite"
    uri = f"sqlite:///{path}"
    app = _app(uri, RESULTS)
    if not (path.exists() and _seeded(app)):
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        app = _app(uri, RESULTS)
        _build(app)
    return app


def prepare_postgres():
    import psycopg

    admin_url = PG_URL.rsplit("/", 1)[0] + "/postgres"
    name = PG_URL.rsplit("/", 1)[1]
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"PostgreSQL skipped: {type(exc).__name__}: {exc}".strip())
        return None
    uri = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    app = _app(uri, RESULTS)
    if not _seeded(app):
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        app = _app(uri, RESULTS)
        _build(app)
    return app


def _build(app):
    from clinicadmin.schema import upgrade_all

    started = time.perf_counter()
    with app.app_context():
        upgrade_all()
    seeded = seed(app, SCALE)
    print(
        f"  seeded {seeded['clients']:,} clients and {seeded['treatments']:,} treatments "
        f"in {time.perf_counter() - started:.0f} s"
    )


class Counter:
    """Counts the SQL statements an engine runs."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args, **kwargs):
        self.count += 1


def baseline_app(uri):
    """Plain Flask-Admin: default ModelViews over the same tables (a search box on clients, as the issue measured)."""
    from flask import Flask
    from flask_admin import Admin
    from flask_admin.contrib.sqla import ModelView

    from clinicadmin.extensions import db
    from clinicadmin.models import Client, Treatment

    app = Flask("baseline")
    app.config.update(SQLALCHEMY_DATABASE_URI=uri, SECRET_KEY="bench")
    db.init_app(app)
    admin = Admin(app, url="/base")

    class ClientBase(ModelView):
        column_searchable_list = ("last_name", "first_name", "email")
        can_view_details = True

    class TreatmentBase(ModelView):
        can_view_details = True
        column_filters = ("modality", "practitioner.email")

    admin.add_view(ClientBase(Client, db, endpoint="base_client"))
    admin.add_view(TreatmentBase(Treatment, db, endpoint="base_treatment"))
    return app


SLOW_MS = 2000  # a request that stays slower than this is timed three times (the baseline's once): it is far off


def timed(app, counter, http, method, url, data=None, repeat=REPEAT, warmup=3, slow_runs=3):
    times, statements = [], []
    for i in range(warmup + repeat):
        with app.app_context():
            before = counter.count
            started = time.perf_counter()
            response = http.open(url, method=method, data=data)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code in (200, 302), (url, response.status_code)
            if i >= warmup or elapsed > SLOW_MS:
                times.append(elapsed)
                statements.append(counter.count - before)
            if len(times) == slow_runs and min(times) > SLOW_MS:
                break
    return times, statements


def _sort_arg(app, endpoint, column):
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)
    return f"sort={[name for name, _ in view._list_columns].index(column)}&desc=1"


def _filter_arg(app, endpoint, column):
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)
    for i, flt in enumerate(view._filters):
        if getattr(flt.column, "key", None) == column and str(flt.operation()) == "equals":
            return f"flt0_{view.get_filter_arg(i, flt)}"
    raise LookupError(f"{endpoint} has no equals filter on {column}")


def wanted(name):
    """Whether ``BENCH_ONLY`` (comma-separated parts of scenario names; empty: all) selects this scenario."""
    return not ONLY or any(word in name for word in ONLY)


def _cursor_at(app, endpoint, offset):
    """The cursor the list's "Next" link carries after its row number ``offset`` (0-based), so that the deep page is
    reached as a user reaches it: by paging (or a date filter), never by an OFFSET."""
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)
    with app.test_request_context():
        keyset = view._keyset_for(None, False)
        query = view.get_query().order_by(
            *[c.desc() if d else c.asc() for c, d in zip(keyset.columns, keyset.descending, strict=True)]
        )
        return keyset.encode(query.offset(offset).limit(1).one())


def _summary(name, times, statements, base=None, note=""):
    median, p95 = statistics.median(times), sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    base_median = statistics.median(base) if base else None
    return {
        "name": name,
        "median": median,
        "p95": p95,
        "statements": statistics.median(statements) if statements else None,
        "base": base_median,
        "ratio": base_median / median if base_median else None,
        "note": note,
    }


def run_pages(app, base):
    from clinicadmin.extensions import db
    from clinicadmin.models import Treatment

    with app.app_context():
        counter = Counter(db.engine)
    with base.app_context():
        base_counter = Counter(db.engine)
    http, plain = app.test_client(), base.test_client()
    with app.app_context():
        response = http.post("/login", data={"email": "manager@bench.example", "password": PASSWORD})
        assert response.status_code == 302, "bench login failed"
        booked = (
            db.session.execute(db.select(Treatment.id).where(Treatment.status == "booked").order_by(Treatment.id))
            .scalars()
            .first()
        )
        modality_arg = _filter_arg(app, "treatment", "modality")
        newest = _sort_arg(app, "treatment", "scheduled_at")
        practitioner_arg = _filter_arg(app, "treatment", "email")
        deep_cursor = _cursor_at(app, "treatment", counts(SCALE)["treatments"] // 20 // 2 * 20 - 1)
    with base.app_context():
        base_modality = _filter_arg(base, "base_treatment", "modality")
        base_practitioner = _filter_arg(base, "base_treatment", "email")
        base_newest = _sort_arg(base, "base_treatment", "scheduled_at")
    client_id = counts(SCALE)["clients"] // 2
    deep = counts(SCALE)["treatments"] // 20 // 2
    rows = []

    def page(name, url, base_url=None, repeat=REPEAT, note=""):
        if not wanted(name):
            return
        ours = timed(app, counter, http, "GET", url, repeat=repeat)
        theirs = (
            timed(base, base_counter, plain, "GET", base_url, repeat=max(3, repeat // 3), slow_runs=1)[0]
            if base_url
            else None
        )
        rows.append(_summary(name, *ours, base=theirs, note=note))

    page("client list, page 1", "/admin/client/", "/base/base_client/")
    page("client search by name", "/admin/client/?search=smi", "/base/base_client/?search=smi")
    page(
        "client detail with history",
        f"/admin/client/details/?id={client_id}",
        f"/base/base_client/details/?id={client_id}",
    )
    page("treatment list, page 1", "/admin/treatment/", "/base/base_treatment/")
    page("treatments newest first", f"/admin/treatment/?{newest}", f"/base/base_treatment/?{base_newest}")
    page(
        f"treatments, deep page ({deep:,})",
        f"/admin/treatment/?after={deep_cursor}",
        f"/base/base_treatment/?page={deep}",
        note="ours: the Next link's cursor; baseline: ?page=",
    )
    page(
        "treatments by modality",
        f"/admin/treatment/?{modality_arg}=microneedling",
        f"/base/base_treatment/?{base_modality}=microneedling",
    )
    page(
        "treatments by practitioner",
        f"/admin/treatment/?{practitioner_arg}=practitioner07@bench.example",
        f"/base/base_treatment/?{base_practitioner}=practitioner07@bench.example",
    )
    page("treatment create form", "/admin/desk/book", "/base/base_treatment/new/", repeat=10)
    page(
        "treatment edit (record) form",
        f"/admin/desk/{booked}/record",
        f"/base/base_treatment/edit/?id={booked}",
        repeat=10,
    )
    page("home dashboard", "/admin/")
    today = datetime.now(UTC).date()  # the bench clinic keeps the default zone, UTC
    year = f"date_from={today - timedelta(days=365)}&date_to={today}"
    from clinicadmin.plugins import registry

    with app.app_context():
        keys = sorted(registry().reports)
    for key in keys:
        page(f"report: {key} (a year)", f"/admin/reports/{key}?{year}", repeat=5)
    return rows


def run_screening(app):
    from clinicadmin.extensions import db
    from clinicadmin.models import Treatment
    from clinicadmin.screening import screen

    with app.app_context():
        treatment = db.session.execute(db.select(Treatment).where(Treatment.status == "booked")).scalars().first()
        times = []
        for i in range(REPEAT + 3):
            started = time.perf_counter()
            screen(treatment, "review")
            elapsed = (time.perf_counter() - started) * 1000
            db.session.rollback()
            if i >= 3:
                times.append(elapsed)
    return _summary("screening one treatment (every plugin)", times, [], note="in-process call")


BUSY_DAY = date(2027, 3, 3)  # a Wednesday ahead of the seeded data: the appointment book's busy day
BUSY_PRACTITIONERS, BUSY_BOOKINGS = 30, 300


def _busy_day(app):
    """Clinic 00 with ``BUSY_PRACTITIONERS`` practitioners at home there and ``BUSY_BOOKINGS`` bookings on
    ``BUSY_DAY`` (ten each, 08:00 to 18:00, with a few screening results of each kind); made once and kept."""
    from flask_security import hash_password

    from clinicadmin.clock import day_bounds
    from clinicadmin.extensions import db
    from clinicadmin.models import BookingSlot, Certification, Location, Role, Treatment, User

    with app.app_context():
        location = db.session.execute(db.select(Location).order_by(Location.id)).scalars().first()
        start, end = day_bounds(BUSY_DAY, location)
        there = db.session.execute(
            db.select(db.func.count())
            .select_from(Treatment)
            .where(Treatment.location_id == location.id, Treatment.scheduled_at >= start, Treatment.scheduled_at < end)
        ).scalar()
        if there >= BUSY_BOOKINGS:
            return location.id
        role = db.session.execute(db.select(Role).where(Role.name == "practitioner")).scalar_one()
        staff = (
            db.session.execute(
                db.select(User).join(User.roles).where(Role.name == "practitioner", User.location_id == location.id)
            )
            .scalars()
            .unique()
            .all()
        )
        hashed = hash_password(PASSWORD)
        for i in range(len(staff), BUSY_PRACTITIONERS):
            user = app.security.datastore.create_user(
                email=f"busy{i:02d}@bench.example",
                full_name=f"Busy Practitioner {i:02d}",
                password=hashed,
                roles=[role],
                location=location,
            )
            user.certifications = [
                Certification(scope=key, valid_from=BUSY_DAY - timedelta(days=900))
                for key in (*MODALITIES_FOR_DAY, "injections")
            ]
            staff.append(user)
        db.session.flush()
        statuses = ("clear", "clear", "clear", "warnings", "blocked")
        for k in range(BUSY_BOOKINGS):
            practitioner = staff[k % BUSY_PRACTITIONERS]
            slot = k // BUSY_PRACTITIONERS  # ten an hour apart for each practitioner
            starts = start + timedelta(hours=8 + slot)
            treatment = Treatment(
                client_id=1 + (k * 7) % counts(SCALE)["clients"],
                practitioner_id=practitioner.id,
                location_id=location.id,
                modality=MODALITIES_FOR_DAY[k % len(MODALITIES_FOR_DAY)],
                status="booked",
                details={},
                scheduled_at=starts,
                ends_at=starts + timedelta(minutes=50),
                busy_from=starts,
                busy_until=starts + timedelta(minutes=50),
                screening_status=statuses[k % len(statuses)],
                screening_run=1,
            )
            db.session.add(treatment)
            db.session.flush()
            # The time it holds, as a booking through the form writes it.
            db.session.add_all(
                [
                    BookingSlot(
                        treatment_id=treatment.id,
                        practitioner_id=practitioner.id,
                        busy_from=starts,
                        busy_until=starts + timedelta(minutes=50),
                    ),
                    BookingSlot(
                        treatment_id=treatment.id,
                        client_id=treatment.client_id,
                        busy_from=starts,
                        busy_until=starts + timedelta(minutes=50),
                    ),
                ]
            )
        db.session.commit()
        return location.id


MODALITIES_FOR_DAY = ("microneedling", "cosmetic_acupuncture", "facial_massage", "dry_needling", "prolotherapy")


def run_appointment_book(app):
    """The day view of a location with 30 practitioners and 300 bookings, through HTTP as the front desk reads it."""
    from clinicadmin.extensions import db

    location_id = _busy_day(app)
    http = app.test_client()
    with app.app_context():
        counter = Counter(db.engine)
        http.post("/login", data={"email": "manager@bench.example", "password": PASSWORD})
        times, statements = timed(
            app, counter, http, "GET", f"/admin/calendar/?location={location_id}&day={BUSY_DAY.isoformat()}"
        )
    return _summary(
        f"appointment book: a day, {BUSY_PRACTITIONERS} practitioners, {BUSY_BOOKINGS} bookings",
        times,
        statements,
        note="HTTP GET; target 50 ms",
    )


def run_find_a_time(app):
    """Find a time over the next 14 days at the busy location, through HTTP: every certified practitioner's hours
    against the chain's booked slots."""
    from clinicadmin.extensions import db

    location_id = _busy_day(app)
    http = app.test_client()
    with app.app_context():
        counter = Counter(db.engine)
        http.post("/login", data={"email": "manager@bench.example", "password": PASSWORD})
        first = (BUSY_DAY - timedelta(days=7)).isoformat()
        times, statements = timed(
            app,
            counter,
            http,
            "GET",
            f"/admin/desk/find?client=11&modality=facial_massage&location={location_id}&first_day={first}",
        )
    return _summary("find a time: 14 days at the busy location", times, statements, note="HTTP GET; target 100 ms")


def _bookings(app, workers, each, first_client):
    """Facial-massage bookings, ``each`` per worker, for clients from ``first_client`` on, each given a consent;
    returns [[treatment ids] per worker], the details to record them with, and the practitioner's id."""
    from clinicadmin.clock import local_today
    from clinicadmin.extensions import db
    from clinicadmin.models import Client, Consent, Location, Product, User
    from clinicadmin.treatment_flow import book

    with app.app_context():
        location = db.session.execute(db.select(Location).order_by(Location.id)).scalars().first()
        oil = db.session.execute(db.select(Product).where(Product.category == "oil")).scalars().first()
        practitioner = db.session.execute(
            db.select(User).where(User.email == "practitioner00@bench.example")
        ).scalar_one()
        manager = db.session.execute(db.select(User).where(User.email == "manager@bench.example")).scalar_one()
        _a_room_at(location)
        ids = []
        # One practitioner is never booked twice at once: each booking a minute long, after the one before it
        # (with the modality's preparation and clean-up between).
        start = _free_from(datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None) - timedelta(days=3)).replace(
            tzinfo=UTC  # book() takes aware instants
        )
        for w in range(workers):
            mine = []
            for k in range(each):
                client = db.session.get(Client, first_client + w * each + k)
                if not any(c.modality == "facial_massage" for c in client.consents):
                    client.consents.append(
                        Consent(modality="facial_massage", signed_on=local_today(location) - timedelta(days=9))
                    )
                treatment = book(
                    client=client,
                    modality="facial_massage",
                    practitioner=practitioner,
                    location=location,
                    scheduled_at=start + timedelta(minutes=20 * (w * each + k)),
                    duration_minutes=1,
                    user=manager,
                )
                mine.append(treatment.id)
            ids.append(mine)
        details = {
            "techniques": ["lymphatic_drainage"],
            "areas": ["face"],
            "duration_minutes": 30,
            "pressure": "light",
            "product": oil.id,
            "product_ml": "1.0",
        }
        return ids, details, practitioner.id


def _a_room_at(location):
    """A treatment room at ``location`` (the seeded chain's clinics have none), for modalities that take one."""
    from clinicadmin.extensions import db
    from clinicadmin.models import Resource

    if db.session.execute(db.select(Resource.id).where(Resource.location_id == location.id)).first() is None:
        db.session.add(Resource(location=location, kind="treatment_room", name="Bench room"))
        db.session.commit()


def _free_from(earliest):
    """``earliest``, or an hour after the last time any booking holds (a reused bench database keeps earlier runs'
    bookings), as a naive UTC time."""
    from clinicadmin.extensions import db
    from clinicadmin.models import BookingSlot

    last = db.session.execute(db.select(db.func.max(BookingSlot.busy_until))).scalar()
    if last is None:
        return earliest
    last = last.replace(tzinfo=None) if last.tzinfo is None else last.astimezone(UTC).replace(tzinfo=None)
    return max(earliest, last.replace(second=0, microsecond=0) + timedelta(hours=1))


def run_booking(app):
    """Booking through the HTTP form, with its conflict check (practitioner, room, client) and screening."""
    import secrets

    from clinicadmin.extensions import db
    from clinicadmin.models import Client, Location, User

    with app.app_context():
        location = db.session.execute(db.select(Location).order_by(Location.id)).scalars().first()
        _a_room_at(location)
        practitioner = db.session.execute(
            db.select(User).where(User.email == "practitioner01@bench.example")
        ).scalar_one()
        form = {"modality": "facial_massage", "practitioner": str(practitioner.id), "location": str(location.id)}
        clients = (
            db.session.execute(
                db.select(Client.id).where(Client.archived_at.is_(None)).order_by(Client.id.desc()).limit(REPEAT + 3)
            )
            .scalars()
            .all()
        )
        counter = Counter(db.engine)
    http = app.test_client()
    with app.app_context():
        http.post("/login", data={"email": "manager@bench.example", "password": PASSWORD})
    with app.app_context():
        start = _free_from(datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None) + timedelta(days=2))
    times, statements = [], []
    for i in range(REPEAT + 3):
        when = start + timedelta(minutes=90 * i)
        data = {
            **form,
            "client": str(clients[i]),
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
            "once": secrets.token_urlsafe(24),
        }
        with app.app_context():
            before, started = counter.count, time.perf_counter()
            response = http.post("/admin/desk/book", data=data)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 302, re.findall(r"<li>([^<]*)</li>", response.get_data(as_text=True))[-5:]
        if i >= 3:
            times.append(elapsed)
            statements.append(counter.count - before)
    return _summary("booking with its conflict check", times, statements, note="HTTP POST")


def run_recording(app):
    """Recording one treatment with its stock consumption, through the HTTP form."""
    from clinicadmin.extensions import db

    ids, details, _ = _bookings(app, 1, REPEAT + 3, first_client=1)
    http = app.test_client()
    with app.app_context():
        counter = Counter(db.engine)
        http.post("/login", data={"email": "manager@bench.example", "password": PASSWORD})
    times, statements = [], []
    for i, treatment_id in enumerate(ids[0]):
        form = {
            "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
            "notes": "",
            "acknowledgement_note": "Bench: reviewed",
            "details-techniques": "lymphatic_drainage",
            "details-areas": "face",
            "details-duration_minutes": "30",
            "details-pressure": "light",
            "details-product": str(details["product"]),
            "details-product_ml": "1.0",
        }
        with app.app_context():
            before, started = counter.count, time.perf_counter()
            response = http.post(f"/admin/desk/{treatment_id}/record", data=form)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        if i >= 3:
            times.append(elapsed)
            statements.append(counter.count - before)
    return _summary("record a treatment with its stock", times, statements, note="HTTP POST")


def run_throughput(app, workers=8, each=40):
    """Treatments recorded per second by ``workers`` threads at once; the stock invariant is checked after."""
    from clinicadmin.extensions import db
    from clinicadmin.integrity import stock_problems
    from clinicadmin.models import Treatment, User
    from clinicadmin.treatment_flow import record

    ids, details, practitioner_id = _bookings(app, workers, each, first_client=REPEAT + 10)
    errors = []

    def work(mine):
        with app.app_context():
            user = db.session.get(User, practitioner_id)
            for treatment_id in mine:
                try:
                    record(
                        db.session.get(Treatment, treatment_id),
                        details=details,
                        performed_at=datetime.now(UTC),
                        notes=None,
                        user=user,
                        acknowledgement_note="Bench: reviewed",
                    )
                except Exception as exc:  # counted and reported, never hidden
                    errors.append(f"{type(exc).__name__}: {exc}")
            db.session.remove()

    threads = [threading.Thread(target=work, args=(mine,)) for mine in ids]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    with app.app_context():
        problems = stock_problems()
    recorded = workers * each - len(errors)
    return recorded / elapsed, recorded, errors, problems


def run_startup(uri):
    code = (
        "import time; t = time.perf_counter(); from clinicadmin.app import create_app; "
        f"create_app({{'SQLALCHEMY_DATABASE_URI': {uri!r}, 'INSTANCE_PATH': {str(RESULTS)!r}}}); "
        "print((time.perf_counter() - t) * 1000)"
    )
    times = [
        float(
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(5)
    ]
    return _summary("application start-up (new process)", times, [], note="imports included")


def table(title, rows):
    lines = [
        f"### {title}",
        "",
        "| scenario | median ms | p95 ms | SQL/request | baseline median ms | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        base = f"{r['base']:.1f}" if r["base"] is not None else "-"
        ratio = f"{r['ratio']:.1f}x" if r["ratio"] is not None else "-"
        statements = f"{r['statements']:.0f}" if r["statements"] is not None else "-"
        lines.append(f"| {r['name']} | {r['median']:.1f} | {r['p95']:.1f} | {statements} | {base} | {ratio} |")
    return "\n".join(lines)


def bench(label, app):
    from clinicadmin.extensions import db

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    rows = run_pages(app, baseline_app(uri))
    for name, run in (
        ("screening", lambda: run_screening(app)),
        ("booking", lambda: run_booking(app)),
        ("record", lambda: run_recording(app)),
        ("appointment book", lambda: run_appointment_book(app)),
        ("find a time", lambda: run_find_a_time(app)),
        ("start-up", lambda: run_startup(uri)),
    ):
        if wanted(name):
            rows.append(run())
    title = (
        f"{label}, scale {SCALE:g} ({counts(SCALE)['clients']:,} clients, {counts(SCALE)['treatments']:,} treatments)"
    )
    out = [table(title, rows) if rows else f"### {title}"]
    if wanted("consumption"):
        rate, recorded, errors, problems = run_throughput(app)
        out.append(
            f"\nConsumption, 8 workers: {rate:.0f} treatments recorded per second ({recorded} recorded, "
            f"{len(errors)} refused{': ' + errors[0] if errors else ''}); stock invariant "
            f"{'holds' if not problems else 'BROKEN: ' + str(problems[:3])}."
        )
    if label == "PostgreSQL" and wanted("recording throughput"):
        from bench.recording import run_recording_throughput
        from bench.recording import table as recording_table

        out.append("\n" + recording_table(*run_recording_throughput(app, RESULTS)))
    with app.app_context():
        db.engine.dispose()
    return "\n".join(out)


def main():
    machine = f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    print(f"ClinicAdmin benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine}")
    reports = []
    if "sqlite" in DATABASES:
        print("SQLite: preparing ...")
        reports.append(bench("SQLite", prepare_sqlite()))
        print(reports[-1])
    print("PostgreSQL: preparing ...")
    pg = prepare_postgres() if "postgresql" in DATABASES else None
    if pg is not None:
        reports.append(bench("PostgreSQL", pg))
        print(reports[-1])
    if ONLY or len(DATABASES) < 2:
        return  # a partial run is printed, never written over the full table
    (RESULTS / "latest.md").write_text(
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}.\n\n" + "\n\n".join(reports) + "\n"
    )
    print(f"\nWritten to {RESULTS / 'latest.md'}")


if __name__ == "__main__":
    main()
