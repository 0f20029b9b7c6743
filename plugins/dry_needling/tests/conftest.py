import pytest


@pytest.fixture
def app_config():
    """Dry needling on its own: the core plus this plugin."""
    return {"PLUGINS_ENABLED": ["dry_needling"]}


@pytest.fixture
def dn(app, staff, clinic):
    """The practitioner certified for dry needling, and needles as a product."""
    clinic.certify("practitioner", "dry_needling")
    clinic.needle = clinic.product("DN", category="needle", unit="needle", pack_size=100)
    return clinic
