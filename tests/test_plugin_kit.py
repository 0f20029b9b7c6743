"""What an outside developer's plugin relies on from the kit: the scaffold's input checks, the client form's client
fields (help shown as written, a choice no longer offered kept), the testing helpers, and the registry's ownership of
prefixed keys."""

import logging
import re
from datetime import timedelta

import pytest
from fake_modality import KEY, FakeModality
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Client, Setting, Treatment
from clinicadmin.plugin_api import ClientField, ConditionCode, Report, ReportResult, SettingSpec, hookimpl
from clinicadmin.plugins import PluginError

# --- new-plugin refuses a name or label with a trailing newline ---


@pytest.mark.parametrize(
    "args, message",
    [
        (["peel\n"], "is not a plugin name"),
        (["peel", "--label", "Chemical peel\n"], "is not a label"),
    ],
)
def test_new_plugin_refuses_a_trailing_newline_in_the_name_or_label(cli, tmp_path, args, message):
    result = cli("new-plugin", *args, "--path", str(tmp_path / "work"))
    assert result.exit_code != 0 and message in result.output
    assert not (tmp_path / "work").exists() or list((tmp_path / "work").iterdir()) == []  # nothing written


# --- client fields on the client form ---


class Registers:
    def __init__(self, client_fields=(), conditions=(), settings=(), reports=()):
        self.client_fields, self.conditions = list(client_fields), list(conditions)
        self.settings, self.reports = list(settings), list(reports)

    @hookimpl
    def register_client_fields(self):
        return self.client_fields

    @hookimpl
    def register_conditions(self):
        return self.conditions

    @hookimpl
    def register_settings(self):
        return self.settings

    @hookimpl
    def register_reports(self):
        return self.reports


SKIN = ClientField(
    "fitzpatrick_skin_type",
    "Skin type",
    choices=(("I", "Type I"), ("VI", "Type VI")),
    help="<script>alert(1)</script> Fitzpatrick scale",
)
NOTE = ClientField("skin.note", "Skin note", help="<b>bold</b> claims")


def _with(*plugins):
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), *plugins]}


CLIENT_FORM = {"first_name": "Lena", "last_name": "Berg", "date_of_birth": "1980-03-04", "intake_reviewed_on": ""}


@pytest.mark.parametrize("app_config", [_with(("skin", Registers(client_fields=[SKIN, NOTE])))])
def test_a_client_fields_help_is_shown_as_written_not_as_html(core, login):
    page = login("practitioner").get("/admin/client/new/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Fitzpatrick scale" in page
    assert "&lt;b&gt;bold&lt;/b&gt; claims" in page


def _selected(page, name):
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {name}"
    options = re.findall(r"<option([^>]*)>(.*?)</option>", select.group(1), re.S)
    return [(re.search(r'value="([^"]*)"', attrs).group(1), text) for attrs, text in options if "selected" in attrs]


@pytest.mark.parametrize("app_config", [_with(("skin", Registers(client_fields=[SKIN])))])
def test_a_stored_choice_the_plugin_no_longer_offers_is_shown_and_kept_when_the_client_is_saved(core, login):
    """A client typed III when the plugin offered it; the plugin now offers I and VI. Editing the client's name keeps
    III, and the form shows it as no longer offered; it can still be changed to an offered choice."""
    client = core.client("Lena", "Berg", fields={"fitzpatrick_skin_type": "III"})
    http = login("practitioner")
    page = http.get(f"/admin/client/edit/?id={client.id}").get_data(as_text=True)
    assert _selected(page, "client_field-fitzpatrick_skin_type") == [("III", "III (no longer offered)")]
    # the browser posts what the select shows
    posted = {**CLIENT_FORM, "last_name": "Renamed", "client_field-fitzpatrick_skin_type": "III"}
    assert http.post(f"/admin/client/edit/?id={client.id}", data=posted).status_code == 302
    db.session.expire_all()
    kept = db.session.get(Client, client.id)
    assert (kept.last_name, kept.plugin_fields) == ("Renamed", {"fitzpatrick_skin_type": "III"})
    # another value nobody offers is refused; an offered one replaces it
    refused = http.post(
        f"/admin/client/edit/?id={client.id}", data={**posted, "client_field-fitzpatrick_skin_type": "IV"}
    )
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)
    changed = {**posted, "client_field-fitzpatrick_skin_type": "VI"}
    assert http.post(f"/admin/client/edit/?id={client.id}", data=changed).status_code == 302
    db.session.expire_all()
    assert db.session.get(Client, client.id).plugin_fields == {"fitzpatrick_skin_type": "VI"}


# --- the testing helpers ---


class AsksAtBooking(FakeModality):
    """The fake modality, asking the treated area at booking (repeated on the record form) and whether the skin was
    cooled at recording."""

    @hookimpl
    def booking_form_fields(self, modality):
        if modality == KEY:
            return {"area": StringField("Area", validators=[InputRequired()])}

    @hookimpl
    def treatment_form_fields(self, modality):
        fields = super().treatment_form_fields(modality)
        if fields is not None:
            fields.update(area=StringField("Area", validators=[InputRequired()]), cooled=BooleanField("Cooled"))
        return fields


@pytest.mark.parametrize("app_config", [{"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", AsksAtBooking())]}])
@pytest.mark.parametrize("cooled", [True, False])
def test_record_posts_checkboxes_as_a_browser_does_and_keeps_the_booking_answers(core, login, cooled):
    lot = core.lot(core.supply, "L1", 10)
    treatment = core.booked(core.client(consents=[KEY]), KEY, details={"area": "forehead"})
    assert treatment.details == {"area": "forehead"}
    response = login("practitioner").record(
        treatment, {"product": core.supply.id, "amount": "1", "cooled": cooled, "notes_left_empty": None}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    recorded = db.session.get(Treatment, treatment.id)
    assert recorded.status == "performed"
    assert (recorded.details["area"], recorded.details["cooled"]) == ("forehead", cooled)
    assert db.session.get(type(lot), lot.id).quantity == 9


def test_clinic_client_takes_client_fields_and_history_entries_that_ended(core):
    from clinicadmin.screening import HealthHistory

    client = core.client(fields={"fitzpatrick_skin_type": "IV"}, history=[("dermal_filler", 40, 20), ("diabetes", 400)])
    db.session.expire_all()
    stored = db.session.get(Client, client.id)
    assert stored.plugin_fields == {"fitzpatrick_skin_type": "IV"}
    ended = {e.code: e.ended for e in stored.health_entries}
    assert ended == {"dermal_filler": core.today - timedelta(days=20), "diabetes": None}
    history = HealthHistory(stored.health_entries, core.today)
    assert history.days_since("dermal_filler") == 20  # a waiting period counts from the end


def test_clinic_setting_is_validated_saved_and_audited_as_on_the_settings_page(core):
    assert core.setting("testmod.interval_days", "14") == 14
    with pytest.raises(ValueError, match="enter a whole number"):
        core.setting("testmod.interval_days", "soon")
    with pytest.raises(ValueError, match="no loaded plugin registers the setting 'nope'"):
        core.setting("nope", 1)
    db.session.expire_all()
    assert db.session.get(Setting, "testmod.interval_days").value == 14
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "setting.change")).scalar_one()
    assert event.detail == {"old": 7, "new": 14}


# --- the registry: a prefixed key is its plugin's own ---


def _report(key):
    return Report(key, key, lambda params: ReportResult(("x",), []))


@pytest.mark.parametrize(
    "stolen, what",
    [
        (Registers(conditions=[ConditionCode("peel.stolen", "Stolen")]), "condition 'peel.stolen'"),
        (Registers(settings=[SettingSpec("peel.days", "Days", 1)]), "setting 'peel.days'"),
        (Registers(reports=[_report("peel-sessions")]), "report 'peel-sessions'"),
    ],
)
def test_a_key_prefixed_with_another_plugins_name_stops_start_up_naming_both(app_factory, stolen, what):
    peel = Registers(conditions=[ConditionCode("peel.frosting", "Frosting")], reports=[_report("peel-own")])
    with pytest.raises(PluginError, match=f"plugin 'other' registers {what}, but .* plugin 'peel'"):
        app_factory(**_with(("peel", peel), ("other", stolen)))


def test_own_and_bare_keys_still_load(app_factory):
    own = Registers(
        conditions=[ConditionCode("peel.frosting", "Frosting"), ConditionCode("bare_code", "Bare")],
        settings=[SettingSpec("peel.days", "Days", 1)],
        reports=[_report("peel-sessions")],
    )
    # "peel_pro-..." and "peelings.x" are not "peel"'s: the prefix is a whole name
    pro = Registers(conditions=[ConditionCode("peelings.x", "X")], reports=[_report("peel-pro-sessions")])
    # a plugin called like the start of a core key ("stock-on-hand") takes nothing from the core
    app = app_factory(**_with(("peel", own), ("peel_pro", pro), ("stock", Registers())))
    reg = app.extensions["clinicadmin"]
    assert {"peel.frosting", "bare_code", "peelings.x"} <= set(reg.conditions)
    assert {"peel-sessions", "peel-pro-sessions", "stock-on-hand"} <= set(reg.reports)


def test_an_enabled_plugin_that_is_not_installed_is_logged_and_the_clinic_starts(app_factory, caplog):
    with caplog.at_level(logging.WARNING, logger="clinicadmin.plugins"):
        app = app_factory(PLUGINS_ENABLED=["removed_peel"], EXTRA_PLUGINS=[("fake", FakeModality())])
    assert "fake" in {p.name for p in app.extensions["clinicadmin"].loaded}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'removed_peel'" in m and "not installed" in m for m in warnings), warnings
