"""Duplicate clients: creating a probable duplicate (same name and birth date, e-mail or phone) warns and links to
the record on file; a manager merges two records of one person in one transaction, audited, and screening of the
kept record then sees the history of both."""

from datetime import UTC, date, datetime, timedelta

import pytest
from concurrency import all_at_once

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Client, Consent, HealthEntry, Treatment

KEY = "testmod"


def _clients():
    db.session.expire_all()
    return db.session.execute(db.select(Client).order_by(Client.id)).scalars().all()


@pytest.mark.parametrize(
    "view, form",
    [
        ("client", {"first_name": "ada", "last_name": "LOVELACE", "date_of_birth": "1985-05-05"}),
        ("client", {"first_name": "Augusta", "last_name": "King", "email": "ADA@example.com"}),
        ("client", {"first_name": "Augusta", "last_name": "King", "phone": "+44 (0)7700-900123"}),
        ("client_desk", {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1985-05-05"}),
    ],
)
def test_a_probable_duplicate_warns_links_to_the_record_and_saves_only_when_confirmed(core, login, view, form):
    on_file = core.client(first="Ada", last="Lovelace")
    on_file.email, on_file.phone = "ada@example.com", "07700 900123"
    db.session.commit()
    http = login("practitioner" if view == "client" else "front_desk")
    warned = http.post(f"/admin/{view}/new/", data=form)
    page = warned.get_data(as_text=True)
    assert warned.status_code == 200 and "This may be a client already on file" in page
    assert f"/admin/{view}/details/?id={on_file.id}" in page
    assert len(_clients()) == 1
    saved = http.post(f"/admin/{view}/new/", data={**form, "confirm_new_person": "y"})
    assert saved.status_code == 302 and len(_clients()) == 2


def test_a_different_person_is_not_held_up(core, login):
    core.client(first="Ada", last="Lovelace")
    http = login("practitioner")
    saved = http.post(
        "/admin/client/new/",
        data={"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1990-01-01", "phone": "0161 496 0000"},
    )
    assert saved.status_code == 302 and len(_clients()) == 2


def _merge(http, keep, duplicate, reason="Same person: booked twice by phone"):
    return http.post(
        "/admin/client-merge/", data={"keep": keep.id, "merge": duplicate.id, "reason": reason}, follow_redirects=True
    )


def test_merging_moves_history_consents_treatments_and_courses_and_screening_sees_them(core, login):
    from clinicadmin.models import Course

    keep = core.client(first="Ada", last="Lovelace", consents=[KEY])
    duplicate = core.client(first="Ada", last="Lovelace", history=[("pregnancy", 20)], consents=[KEY])
    course = Course(client=duplicate, modality=KEY, planned_sessions=3)
    db.session.add(course)
    db.session.commit()
    past = core.booked(duplicate, KEY, when=datetime.now(UTC) - timedelta(days=1))
    booked = core.booked(keep, KEY, when=datetime.now(UTC) + timedelta(days=2))
    assert booked.screening_status == "clear"
    manager = login("manager")
    preview = manager.get(f"/admin/client-merge/?keep={keep.id}&merge={duplicate.id}").get_data(as_text=True)
    assert "Merge into #" in preview and "health entry" in preview
    page = _merge(manager, keep, duplicate).get_data(as_text=True)
    assert "Merged the duplicate record" in page
    db.session.expire_all()
    kept = db.session.get(Client, keep.id)
    assert [e.code for e in kept.health_entries] == ["pregnancy"]
    assert len(db.session.execute(db.select(Consent).where(Consent.client_id == keep.id)).all()) == 2
    assert db.session.get(Treatment, past.id).client_id == keep.id
    assert db.session.get(Course, course.id).client_id == keep.id
    merged = db.session.get(Client, duplicate.id)
    assert merged.archived_at is not None and merged.merged_into_id == keep.id
    assert merged.archive_reason.startswith(f"Merged into client #{keep.id}")
    assert db.session.get(Treatment, booked.id).screening_status == "blocked"  # the duplicate's pregnancy
    actions = dict(
        db.session.execute(
            db.select(AuditEvent.action, AuditEvent.client_id).where(
                AuditEvent.action.in_(["client.merge", "client.merged_into"])
            )
        ).all()
    )
    assert actions == {"client.merge": keep.id, "client.merged_into": duplicate.id}
    # The merged record is archived: no second merge, no lists.
    again = manager.post("/admin/client-merge/", data={"keep": keep.id, "merge": duplicate.id, "reason": "once more"})
    assert again.status_code == 404
    assert f"?id={duplicate.id}" not in manager.get("/admin/client/").get_data(as_text=True)


def test_the_same_merge_sent_twice_at_once_merges_once(core, login):
    keep = core.client(first="Ada", last="Lovelace")
    duplicate = core.client(first="Ada", last="Lovelace", history=[("diabetes", 400)])
    responses = all_at_once(
        login("manager"),
        "/admin/client-merge/",
        {"keep": keep.id, "merge": duplicate.id, "reason": "Same person"},
        times=5,
    )
    assert all(r.status_code in (302, 404) for r in responses)
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "client.merge")
        ).scalar()
        == 1
    )
    assert db.session.execute(db.select(db.func.count()).select_from(HealthEntry)).scalar() == 1


def test_only_managers_merge_and_a_reason_is_needed(core, login):
    keep, duplicate = core.client(first="A"), core.client(first="B")
    for role in ("practitioner", "front_desk", "stock_clerk"):
        assert (
            login(role)
            .post("/admin/client-merge/", data={"keep": keep.id, "merge": duplicate.id, "reason": "Same person"})
            .status_code
            == 403
        )
    assert "Say why" in _merge(login("manager"), keep, duplicate, reason="").get_data(as_text=True)
    assert all(c.archived_at is None for c in _clients())


def test_find_duplicates_lists_probable_matches_with_merge_links(core, login):
    ada = core.client(first="Ada", last="Lovelace")
    other = core.client(first="ADA", last="lovelace")
    core.client(first="Grace", last="Hopper")
    page = login("manager").get(f"/admin/client-merge/candidates/{ada.id}").get_data(as_text=True)
    assert f"#{other.id}" in page and "same name and date of birth" in page and "Hopper" not in page
    assert f"keep={ada.id}&amp;merge={other.id}" in page
    assert date(1985, 5, 5) == other.date_of_birth


def test_a_merge_moves_the_rows_of_a_plugin_that_is_not_loaded(core, login):
    """A plugin removed from this clinic left rows that reference clients: they move with the merge too."""
    keep, duplicate = core.client(first="Ada"), core.client(first="Ada")
    db.session.commit()  # no transaction of the test's own in the way of the DDL
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE unloaded_plugin_note (id INTEGER PRIMARY KEY, "
            "client_id INTEGER NOT NULL REFERENCES client (id))"
        )
        conn.exec_driver_sql(f"INSERT INTO unloaded_plugin_note (id, client_id) VALUES (1, {duplicate.id})")
    try:
        _merge(login("manager"), keep, duplicate)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT client_id FROM unloaded_plugin_note").scalar() == keep.id
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE unloaded_plugin_note")
