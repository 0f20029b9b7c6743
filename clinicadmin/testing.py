"""Pytest fixtures for ClinicAdmin and its plugins (registered through the ``pytest11`` entry point).

Every test that uses ``app`` runs once on SQLite and once on PostgreSQL. The schema is built by the real
migrations once per database per session; each test then starts from empty tables. PostgreSQL comes from
``CLINICADMIN_TEST_POSTGRES_URL`` (default: the local ``test`` database), which names a base database on the server:
each pytest process (a run, or one pytest-xdist worker) creates databases of its own beside it and drops them when
it ends, so runs and workers never share or wait on one. When the server is unreachable those tests skip with the
reason, unless ``CLINICADMIN_REQUIRE_POSTGRES`` is set (CI), where they fail. The warning filters the app's tests
need come with the plugin (:data:`WARNING_FILTERS`).

Fixtures: ``database_url``, ``postgres_databases``, ``app_factory``, ``app_config``, ``app``, ``db_session``,
``staff`` (one user per role), ``login`` (a logged-in test client for a role), ``clinic`` (helpers that create
records). Helper: ``sql_statements()``, the SQL a block of code runs.
"""
import contextlib
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest

from .clock import local_today, now

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ROLES = ("admin", "manager", "practitioner", "front_desk", "stock_clerk")
TEST_PASSWORD = "correct-horse-battery-staple"
#: a test database left by a run that crashed is dropped by the next run once it is this old (seconds)
STALE_AFTER = 6 * 3600
#: warning filters for the app's tests, before the project's own ``filterwarnings`` (which therefore win)
WARNING_FILTERS = (
    "error::sqlalchemy.exc.SAWarning",
    # the search indexes are on lower(column) (clinicadmin.schema.EXPRESSION_INDEXES), which SQLite cannot reflect
    "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning",
    "ignore:Yielding raw tuples from iter_choices:DeprecationWarning:wtforms",
    # WTForms 3.3 deprecates choices given as tuples (Flask-Admin gives them too); 3.4 removes them, so the
    # dependency stops below 3.4 until Flask-Admin moves.
    "ignore:Passing SelectField choices as tuples is deprecated:DeprecationWarning",
)


def pytest_configure(config):
    # getini returns the cached list that pytest reads the filters from, so inserting at its head puts these filters
    # under the project's own (later filters win).
    config.getini("filterwarnings")[:0] = WARNING_FILTERS
    config.addinivalue_line("markers", "xdist_group(name): under pytest-xdist --dist loadgroup, run on one worker")


@contextlib.contextmanager
def sql_statements():
    """Collect the ``(statement, parameters)`` the app's database runs inside the block, to pin statement counts and
    query shapes (no query per row, no OFFSET) in tests."""
    from sqlalchemy import event

    from .extensions import db

    seen = []

    def record(conn, cursor, statement, parameters, *args):
        seen.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _pg_url():
    return os.environ.get("CLINICADMIN_TEST_POSTGRES_URL", DEFAULT_PG_URL)


def _pg_reachable(url):
    import psycopg

    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return None
    except Exception as exc:  # any failure to connect is a reason to skip
        return f"{type(exc).__name__}: {exc}".strip()


def _libpq(url):
    """``url`` as psycopg takes it (no SQLAlchemy driver name)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _migrate(url, instance_path):
    from .app import create_app
    from .schema import upgrade_all

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance_path), "TESTING": True,
                      "SECRET_KEY": "test", "SECURITY_PASSWORD_SALT": "test"})
    with app.app_context():
        upgrade_all()
        from .extensions import db

        db.engine.dispose()


class PostgresDatabases:
    """The PostgreSQL databases of one pytest process, made beside the base database of ``base_url`` and named
    ``<base>_<unix time>_<random>_<worker>[_<suffix>]``: :meth:`create` makes one, :meth:`drop_all` drops them all,
    :meth:`drop_stale` drops those that crashed runs left more than :data:`STALE_AFTER` seconds ago."""

    def __init__(self, base_url, started=None):
        from sqlalchemy.engine import make_url

        self.base_url = _libpq(base_url)
        self.stem = make_url(self.base_url).database[:24]  # room for the rest within PostgreSQL's 63 characters
        worker = re.sub(r"[^a-z0-9]", "", os.environ.get("PYTEST_XDIST_WORKER", "main").lower())[:8]
        started = int(time.time() if started is None else started)
        self.prefix = f"{self.stem}_{started}_{secrets.token_hex(3)}_{worker}"
        self.made = []

    def _admin(self):
        import psycopg

        return psycopg.connect(self.base_url, autocommit=True)

    def create(self, suffix=""):
        """A new empty database of this process; returns its URL (``postgresql://``, as the base URL)."""
        from psycopg import sql
        from sqlalchemy.engine import make_url

        name = self.prefix + (f"_{suffix}" if suffix else "")
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            # A test database needs no durability across a crash of the server: a commit need not wait for the
            # disk, in this process or in the servers and commands a test starts on it.
            conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))
        self.made.append(name)
        return make_url(self.base_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self, wait=True):
        """Drop this process's databases; with ``wait=False`` a process of its own does it (see :func:`_drop`)."""
        names, self.made = list(reversed(self.made)), []
        _drop(self.base_url, names, wait)

    def drop_stale(self, wait=True):
        pattern = re.compile(re.escape(self.stem) + r"_(\d{10})_[0-9a-f]{6}_")
        with self._admin() as conn:
            names = [name for (name,) in conn.execute("SELECT datname FROM pg_database")]
        _drop(self.base_url, [name for name in names if (found := pattern.match(name))
                              and int(found.group(1)) < time.time() - STALE_AFTER], wait)


def _drop(base_url, names, wait=True):
    """DROP DATABASE each of ``names`` (gone already is fine). PostgreSQL makes a checkpoint for each, which takes
    seconds to half a minute on a busy disk; with ``wait=False`` a detached process drops them and the caller goes
    on (a run ends without waiting; a database it fails to drop is stale for the next run)."""
    if not names:
        return
    if not wait:
        code = ("import os, sys; from clinicadmin.testing import _drop; "
                "_drop(os.environ['CLINICADMIN_DROP_FROM'], sys.argv[1:])")
        subprocess.Popen([sys.executable, "-c", code, *names], env={**os.environ, "CLINICADMIN_DROP_FROM": base_url},
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(base_url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_databases():
    """This session's :class:`PostgresDatabases` on the server of ``CLINICADMIN_TEST_POSTGRES_URL``; skips (fails
    under ``CLINICADMIN_REQUIRE_POSTGRES``) when it is unreachable. Its databases are dropped when the session ends."""
    url = _pg_url()
    reason = _pg_reachable(url)
    if reason:
        if os.environ.get("CLINICADMIN_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here but unreachable at {url}: {reason}")
        pytest.skip(f"PostgreSQL not reachable at {url} ({reason}); set CLINICADMIN_TEST_POSTGRES_URL")
    databases = PostgresDatabases(url)
    databases.drop_stale(wait=False)
    yield databases
    databases.drop_all(wait=False)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A migrated, empty database per backend, of this pytest process alone; yields its SQLAlchemy URL."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "clinic.sqlite"
        url = f"sqlite:///{path}"
        _migrate(url, path.parent)
        yield url
        return
    url = request.getfixturevalue("postgres_databases").create()
    sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    _migrate(sa_url, tmp_path_factory.mktemp("pg"))
    yield sa_url


def _empty_tables(db):
    """Empty every table, leaving the database as the migrations leave a new one (the audit chain's head row)."""
    from .models import AuditChain
    from .models.audit import GENESIS

    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            # DELETE, not TRUNCATE: a TRUNCATE of every table makes new files for each and costs ~0.5 s a test,
            # where deleting a test's few rows costs milliseconds. The sequences restart as TRUNCATE's would.
            conn.exec_driver_sql("; ".join(f'DELETE FROM "{t.name}"' for t in tables))
            conn.exec_driver_sql("SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON "
                                 "n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = current_schema()")
        else:
            for table in tables:
                conn.execute(table.delete())
        conn.execute(AuditChain.__table__.insert().values(id=1, last_seq=0, last_hash=GENESIS))


@pytest.fixture
def app_factory(database_url, tmp_path):
    """Build apps on the test database: ``app_factory(PLUGINS_ENABLED=[...], EXTRA_PLUGINS=[(name, obj)])``."""
    from .app import create_app
    from .extensions import db

    made = []

    def make(**config):
        settings = {
            "SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path / "instance"),
            "TESTING": True, "SECRET_KEY": "test-secret", "SECURITY_PASSWORD_SALT": "test-salt",
            # Hashing stays argon2; cheaper parameters keep hundreds of logins fast.
            "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {"argon2__rounds": 1, "argon2__memory_cost": 1024},
        }
        settings.update(config)
        app = create_app(settings)
        made.append(app)
        with app.app_context():
            _empty_tables(db)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app_config():
    """Extra config for the ``app`` fixture; override this fixture in a conftest or test module to choose plugins
    (``{"PLUGINS_ENABLED": ["mine"]}``) or register plugin objects (``{"EXTRA_PLUGINS": [("name", obj)]}``)."""
    return {}


@pytest.fixture
def app(app_factory, app_config):
    """The app (every discovered plugin unless ``app_config`` says otherwise) on an empty migrated database,
    inside an app context."""
    app = app_factory(**app_config)
    with app.app_context():
        yield app


@pytest.fixture
def db_session(app):
    from .extensions import db

    return db.session


class StaffClient:
    """A Flask test client logged in as one user, that adds the CSRF token to every form it posts."""

    def __init__(self, app, email, password=TEST_PASSWORD):
        self.app = app
        self.email = email
        self.http = app.test_client()
        self._csrf_token = self._csrf_secret = None
        response = self.post("/login", data={"email": email, "password": password,
                                             "csrf_token": self.token("/login")})
        assert response.status_code in (302, 303), f"login as {email} failed: {response.status_code}"

    def _request(self, method, url, **kwargs):
        # A fresh app context per request, as in production: no ``g`` (logged-in user) or session shared with the
        # test's own app context or with another client.
        with self.app.app_context():
            return self.http.open(url, method=method, **kwargs)

    def token(self, page="/admin/"):
        html = self.get(page, follow_redirects=True).get_data(as_text=True)
        match = CSRF_RE.search(html)
        assert match, f"no CSRF token on {page}"
        return match.group(1) or match.group(2)

    def _session_secret(self):
        """The CSRF secret held in this client's session cookie, or None when it cannot be read."""
        cookie = self.http.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        if cookie is None:
            return None
        try:
            return self.app.session_interface.get_signing_serializer(self.app).loads(cookie.value).get("csrf_token")
        except Exception:  # not readable here: the caller reads a fresh token from a page
            return None

    def csrf_token(self):
        """A CSRF token for this session: the one last read from a page while the session keeps the same secret (a
        token is good as long as its secret), else a fresh one read from the dashboard."""
        secret = self._session_secret()
        if secret is None or secret != self._csrf_secret:
            self._csrf_token = self.token()
            self._csrf_secret = self._session_secret()
        return self._csrf_token

    def get(self, url, **kwargs):
        return self._request("GET", url, **kwargs)

    def post(self, url, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token()
        # As a browser that rendered the form: a fresh one-time token (``OnceForm``) unless the test gives one.
        data.setdefault("once", secrets.token_urlsafe(24))
        return self._request("POST", url, data=data, **kwargs)


@pytest.fixture
def staff(app):
    """One active user per role (``staff['manager']`` ...), password ``TEST_PASSWORD``; one location, with one room or
    device of each kind the loaded plugins register."""
    from flask_security import hash_password

    from .demo import _role, ensure_roles
    from .extensions import db
    from .models import Location, Resource
    from .plugins import registry

    ensure_roles()
    location = Location(name="Test Clinic")
    db.session.add(location)
    db.session.add_all(Resource(location=location, kind=kind.key, name=f"Test {kind.label.lower()}")
                       for kind in registry().resource_kinds.values())
    users = {}
    for role in ROLES:
        users[role] = app.security.datastore.create_user(
            email=f"{role.replace('_', '')}@test.example.com", full_name=f"Test {role}",
            password=hash_password(TEST_PASSWORD), roles=[_role(role)], location=location)
    db.session.commit()
    return users


@pytest.fixture
def login(app, staff):
    """``login('manager')``: a :class:`StaffClient` logged in with that role."""
    def as_role(role):
        return StaffClient(app, staff[role].email)

    return as_role


class Clinic:
    """Helpers that create records for tests, committing each; dates are relative to today."""

    def __init__(self, app, staff):
        from .extensions import db
        from .models import Location

        self.app, self.staff, self.db = app, staff, db
        self.location = db.session.execute(db.select(Location)).scalars().first()
        self.today = local_today(self.location)

    def client(self, first="Test", last="Client", history=(), consents=(), reviewed=True):
        """A client; ``history`` is (code, days ago or None) pairs; ``consents`` modality keys signed today-10."""
        from .models import Client, Consent, HealthEntry

        c = Client(first_name=first, last_name=last, date_of_birth=date(1985, 5, 5),
                   intake_reviewed_on=self.today - timedelta(days=3) if reviewed else None)
        for code, days in history:
            c.health_entries.append(HealthEntry(code=code, onset=None if days is None else
                                                self.today - timedelta(days=days)))
        for key in consents:
            c.consents.append(Consent(modality=key, signed_on=self.today - timedelta(days=10)))
        self.db.session.add(c)
        self.db.session.commit()
        return c

    def certify(self, role_or_user, scope, valid_days=365):
        """Certify a user (or the user of a role) for a modality or qualification key."""
        from .models import Certification

        user = self.staff[role_or_user] if isinstance(role_or_user, str) else role_or_user
        user.certifications.append(Certification(scope=scope, licence_number="T-1",
                                                 valid_until=self.today + timedelta(days=valid_days)))
        self.db.session.commit()

    def product(self, sku, category="consumable", unit="unit", pack_size=1, tracks_expiry=True, reorder_level=0):
        from .models import Product

        p = Product(sku=sku, name=f"Product {sku}", category=category, unit=unit, pack_size=pack_size,
                    tracks_expiry=tracks_expiry, reorder_level=reorder_level)
        self.db.session.add(p)
        self.db.session.commit()
        return p

    def supplier(self, name="Test Supplies Ltd"):
        """The supplier called ``name``, created if missing."""
        from .models import Supplier

        found = self.db.session.execute(self.db.select(Supplier).where(Supplier.name == name)).scalar_one_or_none()
        if found is None:
            found = Supplier(name=name)
            self.db.session.add(found)
            self.db.session.commit()
        return found

    def lot(self, product, number, quantity, expires_in_days=365):
        """A lot put straight on the shelf with a receipt row (``expires_in_days`` may be negative)."""
        from .models import StockLot, StockMovement

        lot = StockLot(product=product, location=self.location, lot_number=number, quantity=Decimal(str(quantity)),
                       expires_on=None if expires_in_days is None else self.today + timedelta(days=expires_in_days))
        self.db.session.add(lot)
        self.db.session.flush()
        self.db.session.add(StockMovement(lot_id=lot.id, quantity=Decimal(str(quantity)), reason="receipt"))
        self.db.session.commit()
        return lot

    def booked(self, client, modality, practitioner="practitioner", when=None, minutes=None, **options):
        """A booked, screened treatment, as the booking form would make it. Without ``when``, "now": each such
        booking of this helper a minute long and just before the one before, so that they never overlap."""
        from .treatment_flow import book

        if when is None:
            from .plugins import registry

            spec = registry().modalities.get(modality)
            step = 1 + (spec.prep_minutes + spec.cleanup_minutes if spec else 0)
            if not hasattr(self, "_now_offset"):
                self._now_base, self._now_offset = now().replace(second=0, microsecond=0), -step
            self._now_offset += step
            when = self._now_base - timedelta(minutes=self._now_offset)
            minutes = minutes or 1
        options.setdefault("user", self.staff["manager"])
        return book(client=client, modality=modality, practitioner=self.staff[practitioner],
                    location=self.location, scheduled_at=when, duration_minutes=minutes, **options)


@pytest.fixture
def clinic(app, staff):
    return Clinic(app, staff)

