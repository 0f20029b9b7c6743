"""Pytest fixtures for ClinicAdmin and its plugins (registered through the ``pytest11`` entry point).

Every test that uses ``app`` runs once on SQLite and once on PostgreSQL. The schema is built by the real
migrations once per database per session; each test then starts from empty tables. PostgreSQL comes from
``CLINICADMIN_TEST_POSTGRES_URL`` (default: the local ``test`` database); when it is unreachable those tests
skip with the reason, unless ``CLINICADMIN_REQUIRE_POSTGRES`` is set (CI), where they fail.

Fixtures: ``database_url``, ``app_factory``, ``app_config``, ``app``, ``db_session``, ``staff`` (one user per role),
``login`` (a logged-in test client for a role), ``clinic`` (helpers that create records). Helper:
``sql_statements()``, the SQL a block of code runs.
"""
import contextlib
import os
import re
import secrets
import shutil
from datetime import date, timedelta
from decimal import Decimal

import pytest

from .clock import local_today, now

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ROLES = ("admin", "manager", "practitioner", "front_desk", "stock_clerk")
TEST_PASSWORD = "correct-horse-battery-staple"
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
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            return None
    except Exception as exc:  # any failure to connect is a reason to skip
        return f"{type(exc).__name__}: {exc}".strip()


def _migrate(url, instance_path):
    from .app import create_app
    from .schema import upgrade_all

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance_path), "TESTING": True,
                      "SECRET_KEY": "test", "SECURITY_PASSWORD_SALT": "test"})
    with app.app_context():
        upgrade_all()
        from .extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A migrated, empty database per backend; yields its SQLAlchemy URL."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "clinic.sqlite"
        url = f"sqlite:///{path}"
        _migrate(url, path.parent)
        yield url
        return
    url = _pg_url()
    reason = _pg_reachable(url)
    if reason:
        if os.environ.get("CLINICADMIN_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here but unreachable at {url}: {reason}")
        pytest.skip(f"PostgreSQL not reachable at {url} ({reason}); set CLINICADMIN_TEST_POSTGRES_URL")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
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
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE")
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

    def get(self, url, **kwargs):
        return self._request("GET", url, **kwargs)

    def post(self, url, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.token()
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


def copy_plugin(name, destination):
    """Copy the shipped plugin ``name`` into ``destination`` (a plugins folder for a test app)."""
    from .config import PROJECT_ROOT

    shutil.copytree(PROJECT_ROOT / "plugins" / name, destination / name,
                    ignore=shutil.ignore_patterns("tests", "__pycache__"))
