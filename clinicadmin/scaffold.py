"""``clinicadmin new-plugin NAME``: write an installable plugin distribution, with its tests, to start from.

It writes ``NAME/`` with a ``pyproject.toml`` (the ``clinicadmin`` entry point), the package ``src/clinicadmin_NAME/``,
``tests/`` and a README. Once installed (``pip install -e NAME``) the plugin loads, asks a question at booking,
screens, records, consumes stock of its own product category, prints aftercare from a setting, reports and adds to
the demo clinic, and its tests pass as written, from its own folder, with nothing of ClinicAdmin's
checkout; a developer then replaces the example rule, form and texts with the modality's own.
"""

import keyword
import re
from pathlib import Path
from string import Template

PYPROJECT = Template("""[build-system]
requires = ["setuptools>=69", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "clinicadmin-$dist"
version = "0.1.0"
description = "$label: a modality plugin for ClinicAdmin"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["clinicadmin"]

[project.optional-dependencies]
test = ["pytest>=8"]

# ClinicAdmin loads the module this entry point names. Its name ("$name") is the plugin's name: it prefixes the
# plugin's condition codes and settings in a clinic's database, so keep it once a clinic uses the plugin.
[project.entry-points.clinicadmin]
$name = "clinicadmin_$name"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "--import-mode=importlib"
""")

README = Template("""# clinicadmin-$dist

$label: a modality plugin for ClinicAdmin, written by `clinicadmin new-plugin`.
Make it yours: the rules, booking question, form, product category, consumables, aftercare,
report and demo data in `src/clinicadmin_$name/__init__.py` are examples.

Install it beside ClinicAdmin, in the same environment; it loads at the app's next start:

    pip install -e '.[test]'
    clinicadmin plugins        # lists $name, loaded from its entry point

Its tests use ClinicAdmin's pytest plugin (`clinicadmin.testing`: the `app`, `staff`, `login` and `clinic` fixtures,
on SQLite and on PostgreSQL when `CLINICADMIN_TEST_POSTGRES_URL` reaches a server). Run them from this folder:

    pytest

Ship it as a wheel (`pip wheel --no-deps .`) and install that wheel where the clinic runs ClinicAdmin. Every hook is
described in ClinicAdmin's docs/plugin-hooks.md.
""")

INIT = Template('''"""$label: a ClinicAdmin modality plugin (written by `clinicadmin new-plugin`; make it yours).

Every hook is documented in docs/plugin-hooks.md of ClinicAdmin.
"""
from clinicadmin.extensions import db
from clinicadmin.forms import ProductField, finite_number
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import (ConditionCode, Consumption, Finding, Modality, ProductCategory, Report,
                                    ReportResult, SettingSpec, hookimpl)
from clinicadmin.reporting import detail_number, month_group, month_key, performed_sessions
from clinicadmin.rules import WaitingRule, block, evaluate, waiting_settings, warn
from wtforms import BooleanField, DecimalField, IntegerField
from wtforms.validators import InputRequired, NumberRange

KEY = "$name"
#: this plugin's own product category: its ProductField offers only products filed under it
SUPPLY = "$name"

CONDITIONS = [ConditionCode("$name.skin_fragility", "Fragile skin in the area to treat", "condition")]

RULES = [
    block("bleeding_disorder", "Bleeding disorder: do not treat."),
    block("$name.skin_fragility", "Fragile skin in the area: do not treat it."),
    warn("diabetes", "Diabetes: slower healing; take care."),
    WaitingRule("dermal_filler", "$name.wait_after_dermal_filler_days", 14, "warn", "Dermal filler"),
]


@hookimpl
def register_modality():
    return Modality(KEY, "$label", description="Describe the modality here.", default_sessions=4,
                    min_interval_setting="$name.min_interval_days",
                    # The appointment book: how long a session takes, and what it occupies besides the practitioner.
                    duration_minutes=60, prep_minutes=5, cleanup_minutes=10, resources=("treatment_room",),
                    consent_text="Describe what the client consents to: the treatment, its effects and its risks.")


@hookimpl
def register_conditions():
    return CONDITIONS


@hookimpl
def register_product_categories():
    return [ProductCategory(SUPPLY, "$label supplies", "What a $label session uses up.")]


@hookimpl
def register_settings():
    return [SettingSpec("$name.min_interval_days", "$label: minimum days between sessions", 7,
                        minimum=0, maximum=365),
            SettingSpec("$name.no_sun_days", "$label: days without direct sun after a session", 2,
                        minimum=0, maximum=30),
            *waiting_settings("$label", RULES)]


@hookimpl
def booking_form_fields(modality):
    """Asked at booking; stored in treatment.details and shown again, pre-filled, on the record form."""
    if modality != KEY:
        return None
    return {"sunburn": BooleanField("Sunburn in the area to treat")}


@hookimpl
def treatment_form_fields(modality):
    if modality != KEY:
        return None
    return {
        "product": ProductField("Product used", categories=[SUPPLY], validators=[InputRequired()]),
        "quantity": DecimalField("Quantity used", places=1,
                                 validators=[InputRequired(), finite_number, NumberRange(min=0.1, max=100)]),
        "minutes": IntegerField("Duration (minutes)", validators=[InputRequired(), NumberRange(min=5, max=180)]),
    }


@hookimpl
def check_contraindications(treatment, history, settings):
    if treatment.modality != KEY:
        return None
    findings = evaluate(KEY, RULES, history, settings)
    if treatment.details.get("sunburn"):  # the booking answer (None for a session booked before it was asked)
        findings.append(Finding(f"{KEY}.sunburn", "block", "Sunburn in the area: wait until it has healed."))
    return findings


@hookimpl
def consumables(treatment):
    if treatment.modality != KEY:
        return None
    return [Consumption(treatment.details["product"], treatment.details["quantity"])]


@hookimpl
def aftercare(treatment, settings):
    if treatment.modality != KEY:
        return None
    return [f"No direct sun on the treated area for {settings['$name.no_sun_days']} days.",
            "Contact the clinic if anything unexpected happens."]


def sessions_by_month(params):
    """Grouped in SQL: a chain's year is tens of thousands of sessions."""
    month, group = month_key(Treatment.performed_at), month_group(Treatment.performed_at)
    query = (performed_sessions(KEY, params, month, db.func.count(),
                                db.func.sum(detail_number(Treatment.details, "minutes")))
             .group_by(group).order_by(group))
    rows = [(m, sessions, int(minutes or 0)) for m, sessions, minutes in db.session.execute(query)]
    return ReportResult(("Month", "Sessions", "Minutes"), rows)


@hookimpl
def register_reports():
    return [Report("$name-sessions", "$label: sessions by month", sessions_by_month,
                   roles=("admin", "manager", "practitioner"), description="Sessions recorded per month.")]


@hookimpl
def demo_data(demo):
    """The demo clinic (`clinicadmin demo-data`, run again on every start): look before adding."""
    supply = demo.product("$upper-SUPPLY", "$label supply 10 mL", SUPPLY, "mL", 10)
    demo.lot(supply, "$upper-LOT-1", 365, 3)
    if not demo.has_treatments(KEY):
        details = {"sunburn": False, "product": supply.id, "quantity": "2.0", "minutes": 45}
        demo.past_session(demo.clients[15], KEY, details, days_ago=7)
''')


CONFTEST = Template('''import pytest

KEY = "$name"


@pytest.fixture
def app_config():
    """The core plus this plugin only (installed: found by its entry point), whatever else is installed."""
    return {"PLUGINS_ENABLED": [KEY]}


@pytest.fixture
def ready(app, staff, clinic):
    """The practitioner certified for the modality, and a product of the plugin's own category in stock."""
    clinic.certify("practitioner", KEY)
    clinic.supply = clinic.product("SUPPLY", category=KEY, unit="mL", pack_size=10)
    clinic.lot(clinic.supply, "LOT-1", 10)
    return clinic
''')

TESTS = Template('''"""$label: the example rules, booking question, session and demo. Change them with the plugin."""
from datetime import UTC, datetime

import pytest
from clinicadmin.cli import main
from clinicadmin.extensions import db
from clinicadmin.models import StockLot, Treatment

KEY = "$name"


def _findings(treatment):
    return {(f.code, f.severity) for f in treatment.current_findings() if f.plugin == KEY}


def test_a_healthy_client_has_no_finding(ready):
    assert _findings(ready.booked(ready.client(consents=[KEY]), KEY)) == set()


@pytest.mark.parametrize("code, severity", [("bleeding_disorder", "block"), ("diabetes", "warn")])
def test_the_rules(ready, code, severity):
    treatment = ready.booked(ready.client(history=[(code, 30)], consents=[KEY]), KEY)
    assert _findings(treatment) == {(f"{KEY}.{code}", severity)}


@pytest.mark.parametrize("days, expected", [(13, True), (14, False)])
def test_the_waiting_period_and_its_day_boundary(ready, days, expected):
    treatment = ready.booked(ready.client(history=[("dermal_filler", days)], consents=[KEY]), KEY)
    assert ((f"{KEY}.recent_dermal_filler", "warn") in _findings(treatment)) is expected


def test_the_booking_question_is_read_by_the_check(ready):
    sunburnt = ready.booked(ready.client(consents=[KEY]), KEY, details={"sunburn": True})
    assert _findings(sunburnt) == {(f"{KEY}.sunburn", "block")}


def test_the_record_form_offers_the_plugins_own_category_only(ready, login):
    ready.product("OTHER", category="consumable")
    treatment = ready.booked(ready.client(consents=[KEY]), KEY)
    page = login("practitioner").get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    assert "Product SUPPLY" in page and "Product OTHER" not in page


def test_a_session_is_recorded_uses_stock_and_prints_aftercare(ready, login):
    ready.setting(f"{KEY}.no_sun_days", 5)
    treatment = ready.booked(ready.client(consents=[KEY]), KEY, details={"sunburn": False})
    http = login("practitioner")
    response = http.record(treatment, {"product": ready.supply.id, "quantity": "2.5", "minutes": 30})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 7.5
    sheet = http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert "No direct sun on the treated area for 5 days." in sheet
    report = login("manager").get("/admin/reports/$name-sessions").get_data(as_text=True)
    assert f"<td>{datetime.now(UTC):%Y-%m}</td><td>1</td><td>30</td>" in report


def test_the_demo_clinic_has_a_past_session(app):
    for _ in range(2):  # run again on every start: nothing is added twice
        assert app.test_cli_runner().invoke(main, ["demo-data"]).exit_code == 0
    db.session.expire_all()
    performed = db.select(db.func.count()).where(Treatment.modality == KEY, Treatment.status == "performed")
    assert db.session.execute(performed).scalar() == 1
''')

NAME = re.compile(r"[a-z][a-z0-9_]{1,39}")
#: matched whole (fullmatch: "$" would let a final newline through)
#: a label goes into Python and TOML strings as written: no double quotes, backslashes or control characters
LABEL = re.compile(r"[^\"\\\x00-\x1f\x7f]{1,80}")


class ScaffoldError(ValueError):
    """The plugin cannot be written; the message says why."""


def write_plugin(name, folder, label=None):
    """Write the distribution ``folder/name`` (``pyproject.toml``, ``README.md``, ``src/clinicadmin_name/``,
    ``tests/``); returns its path. Refuses a bad or taken name."""
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{name!r} is not a plugin name: use 2 to 40 lowercase letters, digits and underscores, "
            "starting with a letter."
        )
    if label is not None and not (LABEL.fullmatch(label) and label.strip()):
        raise ScaffoldError(f"{label!r} is not a label: use up to 80 characters, without double quotes or backslashes.")
    root = Path(folder) / name
    if root.exists():
        raise ScaffoldError(f"{root} already exists.")
    values = {
        "name": name,
        "dist": name.replace("_", "-"),
        "upper": name.upper(),
        "label": label or name.replace("_", " ").capitalize(),
    }
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"src/clinicadmin_{name}/__init__.py": INIT,
        "tests/conftest.py": CONFTEST,
        f"tests/test_{name}.py": TESTS,
    }
    for path, template in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(template.substitute(values))
    return root
