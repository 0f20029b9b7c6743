"""Client records: created with a coded health history, validated, archived (never deleted), audited."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from clinicadmin.clock import local_today
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Client, Consent, HealthEntry


def _client_form(**extra):
    form = {
        "first_name": "Lena",
        "last_name": "Berg",
        "date_of_birth": "1980-03-04",
        "email": "lena@example.net",
        "phone": "555-0100",
        "intake_reviewed_on": local_today().isoformat(),
        "clinical_notes": "",
    }
    form.update(extra)
    return form


def _actions():
    db.session.expire_all()
    return [a for (a,) in db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id))]


def test_a_practitioner_adds_a_client_with_a_dated_health_history(core, login):
    http = login("practitioner")
    ten_days_ago = (local_today() - timedelta(days=10)).isoformat()
    response = http.post(
        "/admin/client/new/",
        data=_client_form(
            **{
                "health_entries-0-code": "pregnancy",
                "health_entries-0-onset": "",
                "health_entries-1-code": "dermal_filler",
                "health_entries-1-onset": ten_days_ago,
            }
        ),
    )
    assert response.status_code == 302
    client = db.session.execute(db.select(Client)).scalar_one()
    entries = {(e.code, e.onset, e.recorded_by_id) for e in client.health_entries}
    assert entries == {
        ("pregnancy", None, core.staff["practitioner"].id),
        ("dermal_filler", local_today() - timedelta(days=10), core.staff["practitioner"].id),
    }
    page = http.get(f"/admin/client/details/?id={client.id}").get_data(as_text=True)
    assert "Dermal filler" in page and "Pregnant" in page
    assert {"client.create", "client.view"} <= set(_actions())


@pytest.mark.parametrize(
    "bad",
    [
        {"first_name": ""},
        {"first_name": "x" * 81},
        {"date_of_birth": (datetime.now(UTC).date() + timedelta(days=1)).isoformat()},  # the test clinic's zone: UTC
        {"date_of_birth": "2023-02-30"},
        {"last_name": "Evil\u202eman"},
        {"last_name": "Nul\x00l"},
        {"health_entries-0-code": "dermal_filler", "health_entries-0-onset": ""},
        {"health_entries-0-code": "not-a-code"},
        {
            "health_entries-0-code": "diabetes",
            "health_entries-0-onset": "2020-01-10",
            "health_entries-0-ended": "2019-01-10",
        },
    ],
)
def test_bad_client_input_gets_a_message_and_writes_nothing(core, login, bad):
    response = login("manager").post("/admin/client/new/", data=_client_form(**bad))
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.execute(db.select(db.func.count()).select_from(Client)).scalar() == 0
    assert db.session.execute(db.select(db.func.count()).select_from(HealthEntry)).scalar() == 0


def test_clients_are_archived_with_a_reason_not_deleted(core, login):
    client = core.client(first="Kept")
    manager = login("manager")
    assert manager.post("/admin/client/delete/", data={"id": client.id}).status_code == 403
    practitioner = login("practitioner")
    practitioner.post("/admin/client/archive/", data={"id": client.id, "reason": "moved away"})
    db.session.expire_all()
    assert db.session.get(Client, client.id).archived_at is None
    manager.post("/admin/client/archive/", data={"id": client.id, "reason": "Client moved abroad"})
    db.session.expire_all()
    archived = db.session.get(Client, client.id)
    assert archived.archived_at is not None and archived.archive_reason == "Client moved abroad"
    manager.get("/admin/client/")  # shows the confirmation once
    assert "Kept" not in manager.get("/admin/client/").get_data(as_text=True)
    assert manager.get(f"/admin/client/details/?id={client.id}").status_code in (302, 404)
    assert "Kept" in manager.get("/admin/client_archived/").get_data(as_text=True)
    assert "client.archive" in _actions()


def test_reads_and_writes_of_client_records_are_audited(core, login):
    client = core.client(first="Watched")
    http = login("practitioner")
    http.get("/admin/client/")
    http.get(f"/admin/client/details/?id={client.id}")
    http.post(f"/admin/client/edit/?id={client.id}", data=_client_form(first_name="Watched", last_name="Renamed"))
    db.session.expire_all()
    rows = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    by_action = {r.action: r for r in rows}
    assert {"client.list", "client.view", "client.update"} <= set(by_action)
    update = by_action["client.update"]
    assert update.client_id == client.id and update.user_id == core.staff["practitioner"].id
    assert update.detail["changes"]["last_name"] == ["Client", "Renamed"]
    assert by_action["client.view"].client_id == client.id and by_action["client.view"].roles == "practitioner"


def test_the_audit_log_cannot_be_rewritten(core):
    from clinicadmin.audit import audit

    event = audit("test.event")
    db.session.commit()
    event.action = "changed"
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()


def test_client_lookup_is_a_literal_prefix_search_of_active_clients(core, login):
    core.client(first="Anna", last="O'Brien")
    core.client(first="Percent", last="100%Real")
    gone = core.client(first="Gone", last="Obrist")
    gone.archived_at = gone.created_at
    db.session.commit()
    http = login("practitioner")

    def names(query):
        data = http.get("/admin/desk/ajax/lookup/", query_string={"name": "client", "query": query}).get_json()
        return sorted(label for _, label in data)

    assert names("o'b") == ["O'Brien, Anna (b. 1985-05-05)"]
    assert names("%") == []
    assert names("100%") == ["100%Real, Percent (b. 1985-05-05)"]
    assert names("_") == []
    assert names("x" * 10000) == []
    assert names("o") == ["O'Brien, Anna (b. 1985-05-05)"]  # archived Obrist is not offered


def test_consent_is_recorded_against_the_text_the_plugin_supplies(core, login):
    client = core.client(first="Signe")
    http = login("front_desk")
    page = http.get("/admin/consent/new/").get_data(as_text=True)
    assert "I agree to the &lt;b&gt;test&lt;/b&gt; modality." in page
    assert (
        http.post(
            "/admin/consent/new/",
            data={"client": client.id, "modality": "testmod", "signed_on": local_today().isoformat()},
        ).status_code
        == 302
    )
    consent = db.session.execute(db.select(Consent)).scalar_one()
    details = http.get(f"/admin/consent/details/?id={consent.id}").get_data(as_text=True)
    assert "What the client consented to" in details and "I agree to the &lt;b&gt;test&lt;/b&gt; modality." in details
    assert consent.recorded_by_id == core.staff["front_desk"].id


@pytest.mark.parametrize(
    "search, found",
    [
        ("%", ["%Percent"]),
        ("_", ["_Under"]),
        ("o'b", ["O'Brien"]),
        ("back\\", ["Back\\slash"]),
        ("SMI", ["Smith"]),
        ("smith nobody", []),
        ("x" * 10000, []),
        ('"; DROP TABLE client; --', []),
    ],
)
def test_list_search_is_a_literal_prefix_match_that_never_fails(core, login, search, found):
    for last in ("%Percent", "_Under", "O'Brien", "Back\\slash", "Smith"):
        core.client(first="Ann", last=last)
    response = login("practitioner").get("/admin/client/", query_string={"search": search})
    assert response.status_code == 200
    cells = re.findall(r'<td class="col-last_name">\s*(.*?)\s*</td>', response.get_data(as_text=True), flags=re.S)
    assert [html.unescape(c) for c in cells] == found
    assert db.session.execute(db.select(db.func.count()).select_from(Client)).scalar() == 5


def test_several_clients_are_archived_at_once_with_one_reason(core, login):
    ids = [core.client(first=f"Bulk{i}", last="Moved").id for i in range(3)]
    stays = core.client(first="Stays", last="Here")
    manager = login("manager")
    listing = manager.get("/admin/client/").get_data(as_text=True)
    assert "Archive with a reason" in listing
    chosen = manager.post("/admin/client/action/", data={"action": "archive", "rowid": ids[:2]})
    assert chosen.status_code == 302 and "/admin/client/archive/" in chosen.headers["Location"]
    page = manager.get(chosen.headers["Location"]).get_data(as_text=True)
    assert "Archive 2 clients" in page and "Moved, Bulk0" in page and "Moved, Bulk2" not in page
    refused = manager.post("/admin/client/archive/", data={"ids": f"{ids[0]},{ids[1]}", "reason": "no"})
    assert "nothing was archived" in refused.get_data(as_text=True)
    assert (
        manager.post(
            "/admin/client/archive/", data={"ids": f"{ids[0]},{ids[1]}", "reason": "moved to another clinic"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    archived = {
        c.first_name for c in db.session.execute(db.select(Client).where(Client.archived_at.is_not(None))).scalars()
    }
    assert archived == {"Bulk0", "Bulk1"} and db.session.get(Client, stays.id).archived_at is None
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "client.archive")
        ).scalar()
        == 2
    )
    practitioner = login("practitioner")
    assert "Archive with a reason" not in practitioner.get("/admin/client/").get_data(as_text=True)
    practitioner.post("/admin/client/action/", data={"action": "archive", "rowid": [ids[2]]})
    practitioner.post("/admin/client/archive/", data={"ids": str(ids[2]), "reason": "not allowed to"})
    db.session.expire_all()
    assert db.session.get(Client, ids[2]).archived_at is None
