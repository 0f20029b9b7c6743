"""A plugin distribution installed from outside plugins/ (its own setup.cfg and a ``clinicadmin`` entry point) shows
in the menu, the treatment form, screening and reports, with no change to the core."""

import importlib
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinicadmin.extensions import db

FIXTURE = Path(__file__).parent / "fixtures" / "led_plugin"
KEY = "led_therapy"
# The distribution is built and installed once a session: under pytest-xdist these tests share a worker.
pytestmark = pytest.mark.xdist_group("led_plugin")


@pytest.fixture(scope="session")
def installed_led(tmp_path_factory):
    """Build and install the fixture distribution into a site folder of its own (pip, no network)."""
    site = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "led_plugin"
    shutil.copytree(FIXTURE, source)  # the build writes into its source tree; the repo's copy stays clean
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return site


@pytest.fixture
def app_config(installed_led, monkeypatch):
    """The environment now holds the distribution; only it (and the core) is loaded."""
    monkeypatch.syspath_prepend(str(installed_led))
    importlib.invalidate_caches()
    return {"PLUGINS_ENABLED": [KEY]}


def test_an_installed_distribution_is_a_plugin_like_any_other(app, staff, clinic, login):
    registry = app.extensions["clinicadmin"]
    led = next(p for p in registry.loaded if p.name == KEY)
    assert led.source == "entry point (clinicadmin-led)"
    assert "check_contraindications" in led.hooks and KEY in registry.modalities
    clinic.certify("practitioner", KEY)
    http = login("manager")
    assert '<option value="led_therapy">LED light therapy</option>' in http.get("/admin/desk/book").get_data(
        as_text=True
    )
    assert "Photosensitising medication" in http.get("/admin/client/new/").get_data(as_text=True)
    blocked = clinic.booked(
        clinic.client(first="Sun", history=[("led.photosensitising_drug", 20)], consents=[KEY]), KEY
    )
    assert blocked.screening_status == "blocked"
    treatment = clinic.booked(clinic.client(consents=[KEY]), KEY)
    practitioner = login("practitioner")
    assert "Exposure (minutes)" in practitioner.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    assert (
        practitioner.post(
            f"/admin/desk/{treatment.id}/record",
            data={
                "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
                "details-wavelength": "red",
                "details-minutes": "10",
            },
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert "Wear sunscreen today." in practitioner.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert "<td>red</td><td>1</td>" in http.get("/admin/reports/led-exposures").get_data(as_text=True)


def test_an_installed_plugin_changes_nothing_in_the_core_suite_unless_a_test_names_it(
    installed_led, monkeypatch, app_factory
):
    """The core's tests build apps with only the plugins they name, so a clinic's own plugin installed in the same
    environment (this distribution, here) cannot change what they see."""
    monkeypatch.syspath_prepend(str(installed_led))
    importlib.invalidate_caches()
    everything = app_factory(PLUGINS_ENABLED=None).extensions["clinicadmin"]
    assert KEY in everything.modalities  # installed and discoverable ...
    core = app_factory().extensions["clinicadmin"]
    assert KEY not in core.modalities and all(p.source == "core default" for p in core.loaded)  # ... and not loaded
