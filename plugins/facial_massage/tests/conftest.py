import pytest


@pytest.fixture
def app_config():
    """Facial massage on its own: the core plus this plugin."""
    return {"PLUGINS_ENABLED": ["facial_massage"]}


@pytest.fixture
def fm(app, staff, clinic):
    """The clinic with practitioner and manager certified, and a massage oil as a product."""
    clinic.certify("practitioner", "facial_massage")
    clinic.certify("manager", "facial_massage")
    clinic.oil = clinic.product("OIL", category="oil", unit="mL", pack_size=100)
    return clinic
