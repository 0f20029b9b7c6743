import pytest


@pytest.fixture
def app_config():
    """Microneedling on its own: the core plus this plugin."""
    return {"PLUGINS_ENABLED": ["microneedling"]}


@pytest.fixture
def mn(app, staff, clinic):
    """The clinic with practitioner and manager certified for microneedling, and its products in stock."""
    clinic.certify("practitioner", "microneedling")
    clinic.certify("manager", "microneedling")
    clinic.cartridge = clinic.product("CART", category="cartridge", unit="cartridge", pack_size=10)
    clinic.serum = clinic.product("SERUM", category="serum", unit="mL", pack_size=30)
    clinic.gel = clinic.product("GEL", category="gel", unit="g", pack_size=30)
    return clinic
