import pytest


@pytest.fixture
def app_config():
    """Cosmetic acupuncture on its own: the core plus this plugin."""
    return {"PLUGINS_ENABLED": ["cosmetic_acupuncture"]}


@pytest.fixture
def ca(app, staff, clinic):
    """The clinic with practitioner and manager certified, and facial and body needles as products."""
    clinic.certify("practitioner", "cosmetic_acupuncture")
    clinic.certify("manager", "cosmetic_acupuncture")
    clinic.facial = clinic.product("FACE", category="needle", unit="needle", pack_size=100)
    clinic.body = clinic.product("BODY", category="needle", unit="needle", pack_size=100)
    return clinic
