import pytest


@pytest.fixture
def app_config():
    """Prolotherapy on its own: the core plus this plugin."""
    return {"PLUGINS_ENABLED": ["prolotherapy"]}


@pytest.fixture
def pt(app, staff, clinic):
    """The practitioner certified for prolotherapy and qualified for injections, and a dextrose solution."""
    for scope in ("prolotherapy", "injections"):
        clinic.certify("practitioner", scope)
    clinic.dextrose = clinic.product("DEX", category="solution", unit="mL", pack_size=50)
    clinic.needle = clinic.product("N27", category="needle", unit="needle", pack_size=100)
    return clinic
