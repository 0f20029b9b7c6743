"""A plugin that is removed leaves its codes and details on the records exactly as they were: shown as "unknown code
(plugin not loaded)", preselected in the forms, and never changed by saving a form (issue 14, item 7).

Each test records with the fake plugin loaded, restarts the app on the same database without it, then opens the
record for editing and saves it as a browser would.
"""

import html
import re
from datetime import timedelta

import pytest
from fake_modality import KEY

from clinicadmin.app import create_app
from clinicadmin.clock import local_today
from clinicadmin.extensions import db
from clinicadmin.models import Certification, Client, Consent, Course, HealthEntry, Treatment
from clinicadmin.testing import StaffClient

KEPT_CONFIG = (
    "SQLALCHEMY_DATABASE_URI",
    "TESTING",
    "SECRET_KEY",
    "SECURITY_PASSWORD_SALT",
    "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS",
)


@pytest.fixture
def restarted(app):
    """``restarted()``: the same clinic started again on the same database with no plugin but the core's."""
    made = []

    def start():
        again = create_app(
            {**{key: app.config[key] for key in KEPT_CONFIG}, "INSTANCE_PATH": app.instance_path, "PLUGINS_ENABLED": []}
        )
        made.append(again)
        return again

    yield start
    for again in made:
        with again.app_context():
            db.session.remove()
            db.engine.dispose()


def _selected(page, name):
    """The value a browser submits for the select ``name``: the selected option, else the first one."""
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {name}"
    options = re.findall(r'<option([^>]*)value="([^"]*)"([^>]*)>(.*?)</option>', select.group(1), re.S)
    chosen = [o for o in options if "selected" in o[0] + o[2]] or options[:1]
    return html.unescape(chosen[0][1]), html.unescape(chosen[0][3])


def _fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def test_a_health_entry_whose_plugin_is_gone_keeps_its_code_through_an_edit(core, login, staff, restarted):
    ten_days_ago = (local_today() - timedelta(days=10)).isoformat()
    login("practitioner").post(
        "/admin/client/new/",
        data={
            "first_name": "Ida",
            "last_name": "Kept",
            "date_of_birth": "1980-01-01",
            "intake_reviewed_on": ten_days_ago,
            "health_entries-0-code": "test_condition",
            "health_entries-0-onset": ten_days_ago,
            "health_entries-0-notes": "from the plugin's vocabulary",
        },
    )
    client = db.session.execute(db.select(Client)).scalar_one()
    entry_id = client.health_entries[0].id

    http = StaffClient(restarted(), staff["practitioner"].email)
    details = http.get(f"/admin/client/details/?id={client.id}").get_data(as_text=True)
    assert "test_condition: unknown code (plugin not loaded)" in html.unescape(details)
    page = http.get(f"/admin/client/edit/?id={client.id}").get_data(as_text=True)
    code, label = _selected(page, "health_entries-0-code")
    assert (code, html.unescape(label)) == ("test_condition", "test_condition: unknown code (plugin not loaded)")

    form = {
        "first_name": "Ida",
        "last_name": "Kept",
        "date_of_birth": "1980-01-01",
        "intake_reviewed_on": ten_days_ago,
        "health_entries-0-id": str(entry_id),
        "health_entries-0-code": code,
        "health_entries-0-onset": ten_days_ago,
        "health_entries-0-notes": "still on record",
    }
    assert http.post(f"/admin/client/edit/?id={client.id}", data=form).status_code == 302
    entry = _fresh(HealthEntry, entry_id)
    assert (entry.code, entry.onset.isoformat(), entry.notes) == ("test_condition", ten_days_ago, "still on record")

    # Neither another code in its place nor a new entry with a code no loaded plugin knows is accepted.
    for bad in (
        {**form, "health_entries-0-code": "diabetes"},
        {**form, "health_entries-1-code": "test_condition", "health_entries-1-onset": ten_days_ago},
    ):
        assert http.post(f"/admin/client/edit/?id={client.id}", data=bad).status_code == 200
        assert [(e.code, e.id) for e in _fresh(Client, client.id).health_entries] == [("test_condition", entry_id)]


def test_a_consent_a_course_and_a_certification_whose_plugin_is_gone_keep_their_modality(core, staff, restarted):
    client = core.client(consents=[KEY])
    consent = client.consents[0]
    course = Course(client=client, modality=KEY, planned_sessions=4, started_on=local_today())
    db.session.add(course)
    db.session.commit()
    certification = staff["practitioner"].certifications[0]
    http = StaffClient(restarted(), staff["manager"].email)

    page = http.get(f"/admin/consent/edit/?id={consent.id}").get_data(as_text=True)
    assert _selected(page, "modality") == (KEY, f"{KEY} (plugin not loaded)")
    withdrawn = local_today().isoformat()
    response = http.post(
        f"/admin/consent/edit/?id={consent.id}",
        data={
            "client": str(client.id),
            "modality": KEY,
            "signed_on": consent.signed_on.isoformat(),
            "expires_on": "",
            "withdrawn_on": withdrawn,
        },
    )
    assert response.status_code == 302
    kept = _fresh(Consent, consent.id)
    assert (kept.modality, kept.withdrawn_on.isoformat()) == (KEY, withdrawn)

    page = http.get(f"/admin/course/edit/?id={course.id}").get_data(as_text=True)
    assert _selected(page, "modality") == (KEY, f"{KEY} (plugin not loaded)")
    response = http.post(
        f"/admin/course/edit/?id={course.id}",
        data={
            "client": str(client.id),
            "modality": KEY,
            "planned_sessions": "6",
            "started_on": local_today().isoformat(),
            "notes": "six after all",
        },
    )
    assert response.status_code == 302
    kept = _fresh(Course, course.id)
    assert (kept.modality, kept.planned_sessions) == (KEY, 6)

    page = http.get(f"/admin/certification/edit/?id={certification.id}").get_data(as_text=True)
    assert _selected(page, "scope")[0] == KEY
    until = (local_today() + timedelta(days=30)).isoformat()
    response = http.post(
        f"/admin/certification/edit/?id={certification.id}",
        data={
            "user": str(staff["practitioner"].id),
            "scope": KEY,
            "licence_number": "T-1",
            "valid_from": "",
            "valid_until": until,
        },
    )
    assert response.status_code == 302
    kept = _fresh(Certification, certification.id)
    assert (kept.scope, kept.valid_until.isoformat()) == (KEY, until)


def test_a_treatment_whose_plugin_is_gone_shows_its_details_as_stored_and_cannot_be_recorded(core, staff, restarted):
    client = core.client(consents=[KEY])
    done = core.booked(client, KEY)
    stored = {"product": core.supply.id, "amount": "1.5", "areas": ["cheek", "forehead"]}
    done.details, done.status = stored, "performed"
    booked = core.booked(client, KEY)
    booked.details = {}
    db.session.commit()
    http = StaffClient(restarted(), staff["manager"].email)

    page = html.unescape(http.get(f"/admin/desk/{done.id}").get_data(as_text=True))
    assert "Plugin not loaded: the details are shown as stored" in page
    for key, text in (("product", str(core.supply.id)), ("amount", "1.5"), ("areas", '["cheek", "forehead"]')):
        assert re.search(rf"<dt[^>]*>{key}</dt><dd[^>]*>{re.escape(text)}</dd>", page), key

    assert "Record as performed" not in http.get(f"/admin/desk/{booked.id}").get_data(as_text=True)
    http.post(f"/admin/desk/{booked.id}/record", data={"performed_at": "2020-01-01T10:00", "details-amount": "9"})
    assert (_fresh(Treatment, booked.id).status, _fresh(Treatment, booked.id).details) == ("booked", {})
    assert _fresh(Treatment, done.id).details == stored
