"""History is never erased or silently rewritten (issue 14, item 6): health-history entries are ended or marked
entered in error, never deleted or recoded; every change of an entry, consent, certification or staff role is audited
with its before and after values."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from fake_modality import KEY

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Certification, Client, Consent, HealthEntry, Role, User

TODAY = datetime.now(UTC).date()  # the test clinic keeps the default zone, UTC


def _days_ago(n):
    return (TODAY - timedelta(days=n)).isoformat()


def _client_form(client, entries):
    """The client form as a browser posts it, with ``entries`` as [(id or None, {field: value})]."""
    form = {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "date_of_birth": client.date_of_birth.isoformat(),
        "intake_reviewed_on": _days_ago(3),
    }
    for i, (entry_id, fields) in enumerate(entries):
        if entry_id is not None:
            form[f"health_entries-{i}-id"] = str(entry_id)
        form.update({f"health_entries-{i}-{k}": v for k, v in fields.items()})
    return form


def _entries(client_id):
    db.session.expire_all()
    return (
        db.session.execute(db.select(HealthEntry).where(HealthEntry.client_id == client_id).order_by(HealthEntry.id))
        .scalars()
        .all()
    )


def _audit(action):
    db.session.expire_all()
    return (
        db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        .scalars()
        .all()
    )


@pytest.fixture
def pregnant(core):
    client = core.client(first="Nora", history=[("pregnancy", 20)], consents=[KEY])
    return client, client.health_entries[0]


def test_the_client_form_offers_no_delete_and_a_posted_delete_removes_nothing(core, login, pregnant):
    client, entry = pregnant
    http = login("practitioner")
    page = http.get(f"/admin/client/edit/?id={client.id}").get_data(as_text=True)
    assert 'name="del-health_entries-0"' not in page
    form = _client_form(client, [(entry.id, {"code": "pregnancy", "onset": _days_ago(20)})])
    response = http.post(f"/admin/client/edit/?id={client.id}", data={**form, "del-health_entries-0": "y"})
    assert response.status_code in (200, 302)
    assert [(e.id, e.code, e.ended, e.entered_in_error_at) for e in _entries(client.id)] == [
        (entry.id, "pregnancy", None, None)
    ]


def test_an_entry_is_never_deleted_even_from_code(core, pregnant):
    client, entry = pregnant
    db.session.delete(entry)
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()
    assert len(_entries(client.id)) == 1


def test_recoding_an_entry_in_place_is_refused(core, login, pregnant):
    client, entry = pregnant
    http = login("practitioner")
    response = http.post(
        f"/admin/client/edit/?id={client.id}",
        data=_client_form(client, [(entry.id, {"code": "diabetes", "onset": _days_ago(20)})]),
    )
    assert response.status_code == 200
    assert "cannot be changed" in html.unescape(response.get_data(as_text=True))
    assert [(e.code, e.onset) for e in _entries(client.id)] == [("pregnancy", TODAY - timedelta(days=20))]
    assert not _audit("health_entry.update") and not _audit("client.update")


def test_an_entry_entered_in_error_stays_on_record_is_ignored_by_screening_and_is_frozen(core, login, pregnant):
    client, entry = pregnant
    http = login("practitioner")
    assert "testmod.pregnancy" in _findings(core.booked(client, KEY))
    response = http.post(
        f"/admin/client/edit/?id={client.id}",
        data=_client_form(
            client,
            [
                (
                    entry.id,
                    {"code": "pregnancy", "onset": _days_ago(20), "entered_in_error_reason": "Wrong client's form"},
                ),
                (None, {"code": "diabetes", "onset": ""}),
            ],
        ),
    )
    assert response.status_code == 302
    kept, added = _entries(client.id)
    assert (kept.id, kept.code, kept.entered_in_error_reason) == (entry.id, "pregnancy", "Wrong client's form")
    assert kept.entered_in_error_at is not None and kept.entered_in_error_by_id == core.staff["practitioner"].id
    assert added.code == "diabetes"

    # Screening ignores it; the record shows it, struck through, with why.
    found = _findings(core.booked(_fresh_client(client.id), KEY))
    assert "testmod.diabetes" in found and "testmod.pregnancy" not in found
    page = html.unescape(http.get(f"/admin/client/details/?id={client.id}").get_data(as_text=True))
    assert re.search(r"<s>Pregnant since [0-9-]+</s> entered in error: Wrong client's form", page)

    marked = _audit("health_entry.entered_in_error")[0]
    assert marked.object_id == str(entry.id) and marked.client_id == client.id
    assert marked.detail["changes"]["entered_in_error_reason"] == [None, "Wrong client's form"]
    assert _audit("health_entry.add")[0].detail["changes"]["code"] == [None, "diabetes"]

    # Once marked, it stays as it is: no new dates, no taking the mark back.
    for change in ({"ended": _days_ago(1)}, {"entered_in_error_reason": ""}):
        fields = {
            "code": "pregnancy",
            "onset": _days_ago(20),
            "entered_in_error_reason": "Wrong client's form",
            **change,
        }
        response = http.post(
            f"/admin/client/edit/?id={client.id}",
            data=_client_form(client, [(entry.id, fields), (added.id, {"code": "diabetes", "onset": ""})]),
        )
        assert response.status_code == 200
        again = _entries(client.id)[0]
        assert (again.ended, again.entered_in_error_reason) == (None, "Wrong client's form")


def _findings(treatment):
    return {f.code for f in treatment.current_findings()}


def _fresh_client(client_id):
    db.session.expire_all()
    return db.session.get(Client, client_id)


def test_ending_and_changing_an_entry_are_audited_with_before_and_after(core, login, pregnant):
    client, entry = pregnant
    http = login("practitioner")
    assert (
        http.post(
            f"/admin/client/edit/?id={client.id}",
            data=_client_form(
                client, [(entry.id, {"code": "pregnancy", "onset": _days_ago(20), "ended": _days_ago(2)})]
            ),
        ).status_code
        == 302
    )
    assert (
        http.post(
            f"/admin/client/edit/?id={client.id}",
            data=_client_form(
                client,
                [
                    (
                        entry.id,
                        {"code": "pregnancy", "onset": _days_ago(21), "ended": _days_ago(2), "notes": "dates checked"},
                    )
                ],
            ),
        ).status_code
        == 302
    )
    (ended,) = _audit("health_entry.end")
    assert ended.object_id == str(entry.id) and ended.detail["changes"] == {"ended": [None, _days_ago(2)]}
    (changed,) = _audit("health_entry.update")
    assert changed.detail["changes"] == {"onset": [_days_ago(20), _days_ago(21)], "notes": [None, "dates checked"]}
    assert [(e.code, e.ended) for e in _entries(client.id)] == [("pregnancy", TODAY - timedelta(days=2))]


def test_consent_edits_are_audited_with_before_and_after_and_consents_are_never_deleted(core, login):
    client = core.client(consents=[KEY])
    other = core.client(first="Other")
    consent = client.consents[0]
    http = login("manager")
    response = http.post(
        f"/admin/consent/edit/?id={consent.id}",
        data={
            "client": str(other.id),
            "modality": KEY,
            "signed_on": consent.signed_on.isoformat(),
            "withdrawn_on": _days_ago(0),
        },
    )
    assert response.status_code == 302
    changes = _audit("consent.update")[0].detail["changes"]
    assert changes["withdrawn_on"] == [None, _days_ago(0)]
    assert changes["client_id"] == [str(client.id), str(other.id)]

    assert http.post("/admin/consent/delete/", data={"id": consent.id}).status_code == 403
    db.session.delete(db.session.get(Consent, consent.id))
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()


def test_certification_edits_are_audited_with_before_and_after(core, login, staff):
    certification = staff["practitioner"].certifications[0]
    http = login("manager")
    until = (TODAY + timedelta(days=30)).isoformat()
    response = http.post(
        f"/admin/certification/edit/?id={certification.id}",
        data={"user": str(staff["admin"].id), "scope": KEY, "licence_number": "T-2", "valid_until": until},
    )
    assert response.status_code == 302
    changes = _audit("certification.update")[0].detail["changes"]
    assert changes["licence_number"] == ["T-1", "T-2"] and changes["valid_until"][1] == until
    assert changes["user_id"] == [str(staff["practitioner"].id), str(staff["admin"].id)]
    assert db.session.get(Certification, certification.id).user_id == staff["admin"].id
    assert http.post("/admin/certification/delete/", data={"id": certification.id}).status_code == 403


def test_staff_role_changes_are_audited_with_before_and_after(core, login, staff):
    person = staff["front_desk"]
    roles = {r.name: r.id for r in db.session.execute(db.select(Role)).scalars()}
    response = login("manager").post(
        f"/admin/staff/edit/?id={person.id}",
        data={
            "email": person.email,
            "full_name": person.full_name,
            "location": str(person.location_id),
            "active": "y",
            "roles": [str(roles["front_desk"]), str(roles["practitioner"])],
        },
    )
    assert response.status_code == 302
    assert {r.name for r in db.session.get(User, person.id).roles} == {"front_desk", "practitioner"}
    update = _audit("user.update")[0]
    assert update.detail["changes"]["roles"] == [["front_desk"], ["front_desk", "practitioner"]]
