"""Plugin discovery, loading and removal, through the app factory and the ``clinicadmin`` command."""

import pytest
from fake_modality import FakeModality
from flask_admin.contrib.sqla import ModelView
from shipped_plugins import ALL_SHIPPED, SHIPPED

from clinicadmin.plugin_api import Modality, hookimpl
from clinicadmin.plugins import PluginError


def test_a_plugin_folder_package_that_fails_to_import_stops_start_up_naming_it(app_factory, tmp_path):
    broken = tmp_path / "plugins" / "broken_mod"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("import does_not_exist\n")
    with pytest.raises(PluginError, match="plugin 'broken_mod' from folder .* failed to load: ModuleNotFoundError"):
        app_factory(PLUGINS_DIR=str(tmp_path / "plugins"), PLUGINS_ENABLED=["broken_mod"])


def test_fail_fast_can_be_turned_off_for_development(app_factory, tmp_path):
    broken = tmp_path / "plugins" / "broken_mod"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise RuntimeError('half-written')\n")
    app = app_factory(PLUGINS_DIR=str(tmp_path / "plugins"), PLUGINS_ENABLED=["broken_mod"], PLUGINS_FAIL_FAST=False)
    assert "broken_mod" not in {p.name for p in app.extensions["clinicadmin"].loaded}


def test_a_plugin_package_in_the_folder_loads_and_its_modality_appears(app_factory, tmp_path):
    pkg = tmp_path / "plugins" / "trial_cupping"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        "from clinicadmin.plugin_api import Modality, hookimpl\n"
        "from .labels import LABEL\n"
        "@hookimpl\n"
        "def register_modality():\n"
        "    return Modality('trial_cupping', LABEL)\n"
    )
    (pkg / "labels.py").write_text("LABEL = 'Cupping therapy'\n")
    app = app_factory(PLUGINS_DIR=str(tmp_path / "plugins"), PLUGINS_ENABLED=["trial_cupping"])
    registry = app.extensions["clinicadmin"]
    assert registry.modality_plugin == {"trial_cupping": "trial_cupping"}
    assert next(p for p in registry.loaded if p.name == "trial_cupping").source.startswith("folder (")


def test_the_shipped_plugins_come_by_entry_point_and_a_folder_copy_of_one_is_refused(app_factory, tmp_path):
    """The shipped plugins are installed distributions; no folder is read unless PLUGINS_DIR names one, and a folder
    package named like an installed plugin stops start-up rather than load the plugin twice."""
    app = app_factory(PLUGINS_ENABLED=ALL_SHIPPED)
    sources = {p.name: p.source for p in app.extensions["clinicadmin"].loaded if not p.name.startswith("core.")}
    assert sources == {name: f"entry point (clinicadmin-{name.replace('_', '-')})" for name in ALL_SHIPPED}
    assert app.config["PLUGINS_DIR"] is None
    copy = tmp_path / "plugins" / "microneedling"
    copy.mkdir(parents=True)
    (copy / "__init__.py").write_text("")
    with pytest.raises(PluginError, match="'microneedling' from folder .* same name as a plugin already loaded"):
        app_factory(PLUGINS_DIR=str(tmp_path / "plugins"), PLUGINS_ENABLED=["microneedling"])


def test_duplicate_modality_keys_are_refused_naming_both_plugins(app_factory):
    class Again(FakeModality):
        pass

    with pytest.raises(PluginError, match="'again' registers modality 'testmod', already registered by 'fake'"):
        app_factory(PLUGINS_ENABLED=[], EXTRA_PLUGINS=[("fake", FakeModality()), ("again", Again())])


def test_a_plugin_view_that_skips_login_is_refused(app_factory):
    from clinicadmin.extensions import db
    from clinicadmin.models import Location

    class OpenView:
        @hookimpl
        def register_admin_views(self):
            return [ModelView(Location, db, endpoint="open_locations")]

    with pytest.raises(PluginError, match="'open': admin view .* must derive from"):
        app_factory(PLUGINS_ENABLED=[], EXTRA_PLUGINS=[("open", OpenView())])


def test_register_modality_must_return_a_modality(app_factory):
    class Wrong:
        @hookimpl
        def register_modality(self):
            return {"key": "x"}

    with pytest.raises(PluginError, match="'wrong': register_modality\\(\\) returned .* expected Modality"):
        app_factory(PLUGINS_ENABLED=[], EXTRA_PLUGINS=[("wrong", Wrong())])


def test_a_modality_naming_an_unregistered_interval_setting_is_refused(app_factory):
    class Dangling:
        @hookimpl
        def register_modality(self):
            return Modality("dangling", "Dangling", min_interval_setting="nobody.registers.this")

    with pytest.raises(PluginError, match="names setting 'nobody.registers.this'"):
        app_factory(PLUGINS_ENABLED=[], EXTRA_PLUGINS=[("dangling", Dangling())])


@pytest.mark.parametrize(
    "app_config",
    [{"PLUGINS_ENABLED": [p for p in SHIPPED if p != removed]} for removed in SHIPPED],
    ids=[f"without-{p}" for p in SHIPPED],
)
def test_removing_a_plugin_leaves_no_trace_and_the_rest_working(app, app_config, login):
    assert len(SHIPPED) >= 5
    removed = next(p for p in SHIPPED if p not in app_config["PLUGINS_ENABLED"])
    key, label = SHIPPED[removed]
    http = login("manager")
    pages = {
        url: http.get(url)
        for url in (
            "/admin/desk/book",
            "/admin/reports/",
            "/admin/settings/",
            "/admin/consent/new/",
            "/admin/certification/new/",
            "/admin/course/new/",
            "/admin/client/new/",
            "/admin/",
        )
    }
    for url, response in pages.items():
        text = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert label not in text and f'value="{key}"' not in text, (removed, url)
    booking = pages["/admin/desk/book"].get_data(as_text=True)
    for other, (other_key, other_label) in SHIPPED.items():
        if other != removed:
            assert f'<option value="{other_key}">{other_label}</option>' in booking
