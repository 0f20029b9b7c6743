"""Core test fixtures. The core is tested with a fake modality plugin and no shipped plugins, so that removing a
shipped plugin, or installing any other, cannot break these tests. App, database, staff and login fixtures come from
``clinicadmin.testing`` (loaded through its pytest11 entry point)."""

import threading

import pytest
from click.testing import CliRunner
from fake_modality import KEY, FakeModality
from live_server import live_server  # noqa: F401 (the real-server fixture, for the tests that take it)

from clinicadmin.cli import main
from clinicadmin.extensions import db


@pytest.fixture
def app_factory(app_factory):
    """The plugin's ``app_factory``, loading no plugin but the core's unless a test names them (``PLUGINS_ENABLED``):
    another plugin installed in the environment (a clinic's own, the scaffold's) changes nothing here."""

    def make(**config):
        config.setdefault("PLUGINS_ENABLED", [])
        return app_factory(**config)

    return make


@pytest.fixture
def app_config():
    """Core tests run with only the fake modality plugin (no shipped plugins)."""
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality())]}


@pytest.fixture
def core(app, staff, clinic):
    """A core app with staff, the practitioner certified for the fake modality, and a stocked consumable."""
    clinic.certify("practitioner", KEY)
    clinic.certify("manager", KEY)
    clinic.supply = clinic.product("SUP-1", category="consumable", unit="mL")
    return clinic


@pytest.fixture
def cli(app, database_url, tmp_path, monkeypatch):
    """Run ``clinicadmin ...`` against the test database, configured through the environment as in production."""
    monkeypatch.setenv("CLINICADMIN_DATABASE_URL", database_url)
    # The app's own instance folder: the command is the same deployment's, with its secrets (the audit key among them)
    monkeypatch.setenv("CLINICADMIN_INSTANCE_PATH", app.instance_path)
    monkeypatch.setenv("CLINICADMIN_PLUGINS_ENABLED", "[]")

    def run(*args, input=None):
        # A thread of its own has no app context, so the command builds its app from the environment as it
        # does when a person types it.
        results = []
        worker = threading.Thread(
            target=lambda: results.append(CliRunner().invoke(main, list(args), input=input, catch_exceptions=False))
        )
        worker.start()
        worker.join(120)
        db.session.expire_all()
        return results[0]

    return run
