"""Core test fixtures. The core is tested with a fake modality plugin and no shipped plugins, so that removing any
folder from plugins/ cannot break these tests. App, database, staff and login fixtures come from
``clinicadmin.testing`` (loaded through its pytest11 entry point)."""
import pytest
from fake_modality import KEY, FakeModality


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
