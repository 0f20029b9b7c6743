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

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .clock import local_today, now
from .roles import ALL_ROLES

if TYPE_CHECKING:
    import psycopg
    from flask import Flask
    from flask.testing import FlaskClient
    from flask_sqlalchemy import SQLAlchemy
    from werkzeug.test import TestResponse

    from .models import Client, Location, Product, ScreeningFinding, StockLot, Supplier, Treatment, User

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ROLES = ALL_ROLES
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


def pytest_configure(config: pytest.Config) -> None:
    # getini returns the cached list that pytest reads the filters from, so inserting at its head puts these filters
    # under the project's own (later filters win).
    config.getini("filterwarnings")[:0] = WARNING_FILTERS
    config.addinivalue_line("markers", "xdist_group(name): under pytest-xdist --dist loadgroup, run on one worker")


@contextlib.contextmanager
def sql_statements() -> Iterator[list[tuple[str, Any]]]:
    """Collect the ``(statement, parameters)`` the app's database runs inside the block, to pin statement counts and
    query shapes (no query per row, no OFFSET) in tests."""
    from sqlalchemy import event

    from .extensions import db

    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _pg_url() -> str:
    return os.environ.get("CLINICADMIN_TEST_POSTGRES_URL", DEFAULT_PG_URL)


def _pg_reachable(url: str) -> str | None:
    import psycopg

    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return None
    except Exception as exc:  # any failure to connect is a reason to skip
        return f"{type(exc).__name__}: {exc}".strip()


def _libpq(url: str) -> str:
    """``url`` as psycopg takes it (no SQLAlchemy driver name)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _migrate(url: str, instance_path: str | Path) -> None:
    from .app import create_app
    from .schema import upgrade_all

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(instance_path),
            "TESTING": True,
            "SECRET_KEY": "test",
            "SECURITY_PASSWORD_SALT": "test",
        }
    )
    with app.app_context():
        upgrade_all()
        from .extensions import db

        db.engine.dispose()


class PostgresDatabases:
    """The PostgreSQL databases of one pytest process, made beside the base database of ``base_url`` and named
    ``<base>_<unix time>_<random>_<worker>[_<suffix>]``: :meth:`create` makes one, :meth:`drop_all` drops them all,
    :meth:`drop_stale` drops those that crashed runs left more than :data:`STALE_AFTER` seconds ago."""

    def __init__(self, base_url: str, started: float | None = None) -> None:
        from sqlalchemy.engine import make_url

        self.base_url = _libpq(base_url)
        self.stem = (make_url(self.base_url).database or "")[:24]  # room for the rest within PostgreSQL's 63 characters
        worker = re.sub(r"[^a-z0-9]", "", os.environ.get("PYTEST_XDIST_WORKER", "main").lower())[:8]
        started = int(time.time() if started is None else started)
        self.prefix = f"{self.stem}_{started}_{secrets.token_hex(3)}_{worker}"
        self.made: list[str] = []

    def _admin(self) -> psycopg.Connection[Any]:
        import psycopg

        return psycopg.connect(self.base_url, autocommit=True)

    def create(self, suffix: str = "") -> str:
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

    def drop_all(self, wait: bool = True) -> None:
        """Drop this process's databases; with ``wait=False`` a process of its own does it (see :func:`_drop`)."""
        names, self.made = list(reversed(self.made)), []
        _drop(self.base_url, names, wait)

    def drop_stale(self, wait: bool = True) -> None:
        pattern = re.compile(re.escape(self.stem) + r"_(\d{10})_[0-9a-f]{6}_")
        with self._admin() as conn:
            names = [name for (name,) in conn.execute("SELECT datname FROM pg_database")]
        _drop(
            self.base_url,
            [
                name
                for name in names
                if (found := pattern.match(name)) and int(found.group(1)) < time.time() - STALE_AFTER
            ],
            wait,
        )


def _drop(base_url: str, names: Sequence[str], wait: bool = True) -> None:
    """DROP DATABASE each of ``names`` (gone already is fine). PostgreSQL makes a checkpoint for each, which takes
    seconds to half a minute on a busy disk; with ``wait=False`` a detached process drops them and the caller goes
    on (a run ends without waiting; a database it fails to drop is stale for the next run)."""
    if not names:
        return
    if not wait:
        code = (
            "import os, sys; from clinicadmin.testing import _drop; "
            "_drop(os.environ['CLINICADMIN_DROP_FROM'], sys.argv[1:])"
        )
        subprocess.Popen(
            [sys.executable, "-c", code, *names],
            env={**os.environ, "CLINICADMIN_DROP_FROM": base_url},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(base_url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
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
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database per backend, of this pytest process alone; yields its SQLAlchemy URL."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "clinic.sqlite"
        url = f"sqlite:///{path}"
        _migrate(url, path.parent)
        yield url
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    url = databases.create()
    sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    _migrate(sa_url, tmp_path_factory.mktemp("pg"))
    yield sa_url


def _empty_tables(db: SQLAlchemy) -> None:
    """Empty every table, leaving the database as the migrations leave a new one."""
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            # DELETE, not TRUNCATE: a TRUNCATE of every table makes new files for each and costs ~0.5 s a test,
            # where deleting a test's few rows costs milliseconds. The sequences restart as TRUNCATE's would.
            conn.exec_driver_sql("; ".join(f'DELETE FROM "{t.name}"' for t in tables))
            conn.exec_driver_sql(
                "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON "
                "n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = current_schema()"
            )
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def app_factory(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test database: ``app_factory(PLUGINS_ENABLED=[...], EXTRA_PLUGINS=[(name, obj)])``."""
    from . import audit_anchor
    from .app import create_app
    from .extensions import db

    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        settings: dict[str, Any] = {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SECURITY_PASSWORD_SALT": "test-salt",
            # Hashing stays argon2; cheaper parameters keep hundreds of logins fast.
            "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {"argon2__rounds": 1, "argon2__memory_cost": 1024},
        }
        settings.update(config)
        app = create_app(settings)
        made.append(app)
        with app.app_context():
            _empty_tables(db)
            kind, location = audit_anchor.where(app)
            if kind == "file":  # the emptied database has no seals: neither has its anchor
                Path(location).unlink(missing_ok=True)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Extra config for the ``app`` fixture; override this fixture in a conftest or test module to choose plugins
    (``{"PLUGINS_ENABLED": ["mine"]}``) or register plugin objects (``{"EXTRA_PLUGINS": [("name", obj)]}``)."""
    return {}


@pytest.fixture
def app(app_factory: Callable[..., Flask], app_config: dict[str, Any]) -> Iterator[Flask]:
    """The app (every discovered plugin unless ``app_config`` says otherwise) on an empty migrated database,
    inside an app context."""
    app = app_factory(**app_config)
    with app.app_context():
        yield app


@pytest.fixture
def db_session(app: Flask) -> Any:
    from .extensions import db

    return db.session


def _posted(value: Any) -> Any:
    """A value as a browser posts it: a ticked checkbox "y", an unticked one or an empty field "" (left out), a
    list as several values, anything else as text."""
    if value is None or value is False:
        return ""
    if value is True:
        return "y"
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value)


class StaffClient:
    """A Flask test client logged in as one user, that adds the CSRF token to every form it posts."""

    def __init__(self, app: Flask, email: str, password: str = TEST_PASSWORD) -> None:
        self.app = app
        self.email = email
        self.http: FlaskClient = app.test_client()
        self._csrf_token: str | None = None
        self._csrf_secret: str | None = None
        response = self.post("/login", data={"email": email, "password": password, "csrf_token": self.token("/login")})
        assert response.status_code in (302, 303), f"login as {email} failed: {response.status_code}"

    def _request(self, method: str, url: str, **kwargs: Any) -> TestResponse:
        # A fresh app context per request, as in production: no ``g`` (logged-in user) or session shared with the
        # test's own app context or with another client.
        with self.app.app_context():
            return self.http.open(url, method=method, **kwargs)

    def token(self, page: str = "/admin/") -> str:
        html = self.get(page, follow_redirects=True).get_data(as_text=True)
        match = CSRF_RE.search(html)
        assert match, f"no CSRF token on {page}"
        return str(match.group(1) or match.group(2))

    def _session_secret(self) -> str | None:
        """The CSRF secret held in this client's session cookie, or None when it cannot be read."""
        cookie = self.http.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        if cookie is None:
            return None
        try:
            serializer: Any = self.app.session_interface.get_signing_serializer(self.app)  # type: ignore[attr-defined]
            secret = serializer.loads(cookie.value).get("csrf_token")
            return None if secret is None else str(secret)
        except Exception:  # not readable here: the caller reads a fresh token from a page
            return None

    def csrf_token(self) -> str:
        """A CSRF token for this session: the one last read from a page while the session keeps the same secret (a
        token is good as long as its secret), else a fresh one read from the dashboard."""
        secret = self._session_secret()
        if secret is None or secret != self._csrf_secret:
            self._csrf_token = self.token()
            self._csrf_secret = self._session_secret()
        assert self._csrf_token is not None
        return self._csrf_token

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self._request("GET", url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, csrf: bool = True, **kwargs: Any) -> TestResponse:
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token()
        # As a browser that rendered the form: a fresh one-time token (``OnceForm``) unless the test gives one.
        data.setdefault("once", secrets.token_urlsafe(24))
        return self._request("POST", url, data=data, **kwargs)

    def record(
        self,
        treatment: Treatment,
        details: dict[str, Any],
        *,
        notes: str = "",
        acknowledgement_note: str = "",
        performed_at: datetime | None = None,
        **form: Any,
    ) -> TestResponse:
        """Post ``treatment``'s record form as a practitioner fills it in: ``details`` by field name (products by id,
        a list for a checkbox list, ``True`` ticks a checkbox, ``False`` or ``None`` leaves a field empty), over the
        answers stored at booking (``treatment.details``), which the record form shows pre-filled; performed now
        unless ``performed_at`` (aware) says when, typed in the treatment's location's time. ``acknowledgement_note``
        acknowledges the warnings still open when it is recorded; ``form`` adds other fields (``**{"lots-product":
        lot.id}`` picks the lot opened)."""
        from .clock import local

        when = local(performed_at or now(), treatment.location)
        data: dict[str, Any] = {
            "performed_at": when.strftime("%Y-%m-%dT%H:%M"),
            "notes": notes,
            "acknowledgement_note": acknowledgement_note,
        }
        answers = {**(treatment.details or {}), **details}
        data.update({f"details-{name}": posted for name, value in answers.items() if (posted := _posted(value)) != ""})
        data.update(form)
        return self.post(f"/admin/desk/{treatment.id}/record", data=data)

    def acknowledge(self, finding: ScreeningFinding, note: str = "") -> TestResponse:
        """Acknowledge a warning on its treatment's page, with ``note`` (what was checked)."""
        return self.post(
            f"/admin/desk/{finding.treatment_id}/acknowledge", data={"finding_id": finding.id, "note": note}
        )

    def override(self, finding: ScreeningFinding, reason: str) -> TestResponse:
        """Override a block on its treatment's page with a written ``reason`` (a manager's step; a hard stop is
        refused)."""
        return self.post(
            f"/admin/desk/{finding.treatment_id}/override", data={"finding_id": finding.id, "reason": reason}
        )


@pytest.fixture
def staff(app: Flask) -> dict[str, User]:
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
    db.session.add_all(
        Resource(location=location, kind=kind.key, name=f"Test {kind.label.lower()}")
        for kind in registry().resource_kinds.values()
    )
    users = {}
    for role in ROLES:
        users[role] = app.extensions["security"].datastore.create_user(
            email=f"{role.replace('_', '')}@test.example.com",
            full_name=f"Test {role}",
            password=hash_password(TEST_PASSWORD),
            roles=[_role(role)],
            location=location,
        )
    db.session.commit()
    return users


@pytest.fixture
def login(app: Flask, staff: dict[str, User]) -> Callable[[str], StaffClient]:
    """``login('manager')``: a :class:`StaffClient` logged in with that role."""

    def as_role(role: str) -> StaffClient:
        return StaffClient(app, str(staff[role].email))

    return as_role


class Clinic:
    """Helpers that create records for tests, committing each; dates are relative to today."""

    def __init__(self, app: Flask, staff: dict[str, User]) -> None:
        from .extensions import db
        from .models import Location

        self.app, self.staff, self.db = app, staff, db
        location = db.session.execute(db.select(Location)).scalars().first()
        assert location is not None, "the staff fixture makes the clinic's location"
        self.location: Location = location
        self.today = local_today(self.location)

    def client(
        self,
        first: str = "Test",
        last: str = "Client",
        history: Sequence[tuple[str, int | None] | tuple[str, int | None, int | None]] = (),
        consents: Sequence[str] = (),
        reviewed: bool = True,
        fields: dict[str, str] | None = None,
    ) -> Client:
        """A client. ``history`` holds ``(code, days ago or None)`` pairs, or ``(code, days ago or None, ended days
        ago)`` triples for an entry that is over; ``consents`` are modality keys signed today-10; ``fields`` are
        client field values by key (``register_client_fields``), stored in ``Client.plugin_fields``."""
        from .models import Client, Consent, HealthEntry

        c = Client(
            first_name=first,
            last_name=last,
            date_of_birth=date(1985, 5, 5),
            intake_reviewed_on=self.today - timedelta(days=3) if reviewed else None,
            plugin_fields=dict(fields or {}),
        )
        for code, days, *ended in history:
            ended_days = ended[0] if ended else None
            c.health_entries.append(
                HealthEntry(
                    code=code,
                    onset=None if days is None else self.today - timedelta(days=days),
                    ended=None if ended_days is None else self.today - timedelta(days=ended_days),
                )
            )
        for key in consents:
            c.consents.append(Consent(modality=key, signed_on=self.today - timedelta(days=10)))
        self.db.session.add(c)
        self.db.session.commit()
        return c

    def setting(self, key: str, value: Any) -> Any:
        """Set the clinic setting ``key`` as a manager does on the Settings page: validated against its
        ``SettingSpec`` (a ValueError says why it is refused, and nothing is saved), saved and audited; returns
        the value as stored (an int setting given ``"14"`` stores 14)."""
        from .audit import audit
        from .clinic_settings import coerce, save_setting
        from .plugins import registry

        spec = registry().settings.get(key)
        if spec is None:
            raise ValueError(f"no loaded plugin registers the setting {key!r}")
        stored = coerce(spec, value)
        old = save_setting(key, stored, self.staff["manager"])
        audit(
            "setting.change",
            object_type="Setting",
            object_id=key,
            detail={"old": old, "new": stored},
            user=self.staff["manager"],
        )
        self.db.session.commit()
        return stored

    def certify(self, role_or_user: str | User, scope: str, valid_days: int = 365) -> None:
        """Certify a user (or the user of a role) for a modality or qualification key."""
        from .models import Certification

        user = self.staff[role_or_user] if isinstance(role_or_user, str) else role_or_user
        user.certifications.append(
            Certification(scope=scope, licence_number="T-1", valid_until=self.today + timedelta(days=valid_days))
        )
        self.db.session.commit()

    def product(
        self,
        sku: str,
        category: str = "consumable",
        unit: str = "unit",
        pack_size: int = 1,
        tracks_expiry: bool = True,
        reorder_level: int = 0,
    ) -> Product:
        from .models import Product

        p = Product(
            sku=sku,
            name=f"Product {sku}",
            category=category,
            unit=unit,
            pack_size=pack_size,
            tracks_expiry=tracks_expiry,
            reorder_level=reorder_level,
        )
        self.db.session.add(p)
        self.db.session.commit()
        return p

    def supplier(self, name: str = "Test Supplies Ltd") -> Supplier:
        """The supplier called ``name``, created if missing."""
        from .models import Supplier

        found = self.db.session.execute(self.db.select(Supplier).where(Supplier.name == name)).scalar_one_or_none()
        if found is None:
            found = Supplier(name=name)
            self.db.session.add(found)
            self.db.session.commit()
        return found

    def lot(
        self, product: Product, number: str, quantity: int | str | Decimal, expires_in_days: int | None = 365
    ) -> StockLot:
        """A lot put straight on the shelf with a receipt row (``expires_in_days`` may be negative)."""
        from .models import StockLot, StockMovement

        lot = StockLot(
            product=product,
            location=self.location,
            lot_number=number,
            quantity=Decimal(str(quantity)),
            expires_on=None if expires_in_days is None else self.today + timedelta(days=expires_in_days),
        )
        self.db.session.add(lot)
        self.db.session.flush()
        self.db.session.add(StockMovement(lot_id=lot.id, quantity=Decimal(str(quantity)), reason="receipt"))
        self.db.session.commit()
        return lot

    def booked(
        self,
        client: Client,
        modality: str,
        practitioner: str = "practitioner",
        when: datetime | None = None,
        minutes: int | None = None,
        **options: Any,
    ) -> Treatment:
        """A booked, screened treatment, as the booking form would make it (``options``: see the docs, e.g.
        ``details={...}`` for the booking answers). Without ``when``, "now": each such booking of this helper a
        minute long and just before the one before, so that they never overlap."""
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
        return book(
            client=client,
            modality=modality,
            practitioner=self.staff[practitioner],
            location=self.location,
            scheduled_at=when,
            duration_minutes=minutes,
            **options,
        )


@pytest.fixture
def clinic(app: Flask, staff: dict[str, User]) -> Clinic:
    return Clinic(app, staff)


#: What a plugin's tests may use from here: the fixtures (by name, in a test's arguments) and the helpers they give
#: (docs/plugin-hooks.md, "Testing a plugin", documents each).
__all__ = [
    "app_config",
    "app",
    "app_factory",
    "database_url",
    "db_session",
    "postgres_databases",
    "staff",
    "login",
    "clinic",
    "StaffClient",
    "Clinic",
    "PostgresDatabases",
    "sql_statements",
    "WARNING_FILTERS",
    "TEST_PASSWORD",
    "ROLES",
]
