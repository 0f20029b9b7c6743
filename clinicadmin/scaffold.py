"""``clinicadmin new-plugin NAME``: write an installable plugin distribution, with its tests, to start from.

It writes ``NAME/`` with a ``pyproject.toml`` (the ``clinicadmin`` entry point), the package ``src/clinicadmin_NAME/``,
``tests/`` and a README. Once installed (``pip install -e NAME``) the plugin loads, screens, records, consumes stock,
prints aftercare and reports, and its tests pass as written, from its own folder, with nothing of ClinicAdmin's
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
Make it yours: the rules, form, consumables, aftercare and report in
`src/clinicadmin_$name/__init__.py` are examples.

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
from clinicadmin.plugin_api import ConditionCode, Consumption, Modality, Report, ReportResult, SettingSpec, hookimpl
from clinicadmin.reporting import detail_number, month_group, month_key, performed_sessions
from clinicadmin.rules import WaitingRule, block, evaluate, waiting_settings, warn
from wtforms import DecimalField, IntegerField
from wtforms.validators import InputRequired, NumberRange

KEY = "$name"

CONDITIONS = [ConditionCode("$name.skin_fragility", "Fragile skin in the area to treat", "condition")]

RULES = [
    block("bleeding_disorder", "Bleeding disorder: do not treat."),
    block("$name.skin_fragility", "Fragile skin in the area: do not treat it."),
    warn("diabetes", "Diabetes: slower healing; take care."),
    WaitingRule("dermal_filler", "$name.wait_after_dermal_filler_days", 14, "warn", "Dermal filler"),
]

AFTERCARE = [
    "Drink plenty of water today.",
    "Contact the clinic if anything unexpected happens.",
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
def register_settings():
    return [SettingSpec("$name.min_interval_days", "$label: minimum days between sessions", 7,
                        minimum=0, maximum=365),
            *waiting_settings("$label", RULES)]


@hookimpl
def treatment_form_fields(modality):
    if modality != KEY:
        return None
    return {
        "product": ProductField("Product used", categories=["consumable"], validators=[InputRequired()]),
        "quantity": DecimalField("Quantity used", places=1,
                                 validators=[InputRequired(), finite_number, NumberRange(min=0.1, max=100)]),
        "minutes": IntegerField("Duration (minutes)", validators=[InputRequired(), NumberRange(min=5, max=180)]),
    }


@hookimpl
def check_contraindications(treatment, history, settings):
    if treatment.modality != KEY:
        return None
    return evaluate(KEY, RULES, history, settings)


@hookimpl
def consumables(treatment):
    if treatment.modality != KEY:
        return None
    return [Consumption(treatment.details["product"], treatment.details["quantity"])]


@hookimpl
def aftercare(treatment):
    return AFTERCARE if treatment.modality == KEY else None


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
''')

CONFTEST = Template('''import pytest


@pytest.fixture
def app_config():
    """The core plus this plugin only (installed: found by its entry point), whatever else is installed."""
    return {"PLUGINS_ENABLED": ["$name"]}


@pytest.fixture
def ready(app, staff, clinic):
    """The practitioner certified for the modality, and a product in stock."""
    clinic.certify("practitioner", "$name")
    clinic.supply = clinic.product("SUPPLY", category="consumable", unit="mL", pack_size=10)
    clinic.lot(clinic.supply, "LOT-1", 10)
    return clinic
''')

TESTS = Template('''"""$label: the example rules and a recorded session. Change them with the plugin."""
from datetime import UTC, datetime

import pytest
from clinicadmin.extensions import db
from clinicadmin.models import StockLot

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


def test_a_session_is_recorded_and_uses_stock(ready, login):
    treatment = ready.booked(ready.client(consents=[KEY]), KEY)
    http = login("practitioner")
    response = http.post(f"/admin/desk/{treatment.id}/record", data={
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"), "details-product": ready.supply.id,
        "details-quantity": "2.5", "details-minutes": "30"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 7.5
    assert "Drink plenty of water today." in http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    report = login("manager").get("/admin/reports/$name-sessions").get_data(as_text=True)
    assert f"<td>{datetime.now(UTC):%Y-%m}</td><td>1</td><td>30</td>" in report
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
    values = {"name": name, "dist": name.replace("_", "-"), "label": label or name.replace("_", " ").capitalize()}
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
