"""Calling a booking off (issue 15, item 6): the desk says who cancelled (the client or the clinic) and why; a client
who cancels inside the clinic's notice period has cancelled late; a client who does not come is a no-show; both
are counted on the client's record. Each happens once, however often it is sent."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from fake_modality import KEY, FakeModality

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Treatment


@pytest.fixture
def app_config():
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality())]}


def _booking(clinic, client, hours_ahead):
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours_ahead)
    return clinic.booked(client, KEY, when=when).id


def _state(treatment_id):
    db.session.expire_all()
    return db.session.get(Treatment, treatment_id)


def _page(http, treatment_id):
    return html.unescape(http.get(f"/admin/desk/{treatment_id}").get_data(as_text=True))


@pytest.mark.parametrize(
    "data, message",
    [
        ({"reason": "travelling"}, "Say who cancelled"),
        ({"by": "nobody", "reason": "travelling"}, "Say who cancelled"),
        ({"by": "client", "reason": "  \u200b "}, "Say why the booking is cancelled"),
        ({"by": "client"}, "Say why the booking is cancelled"),
    ],
)
def test_a_cancellation_says_who_and_why_or_changes_nothing(app, clinic, login, data, message):
    treatment_id = _booking(clinic, clinic.client(consents=[KEY]), 72)
    http = login("front_desk")
    response = http.post(f"/admin/desk/{treatment_id}/cancel", data=data, follow_redirects=True)
    assert message in html.unescape(response.get_data(as_text=True))
    assert _state(treatment_id).status == "booked"


@pytest.mark.parametrize(
    "by, hours_ahead, late, label",
    [
        ("client", 2, True, "cancelled by the client (late)"),
        ("client", 72, False, "cancelled by the client"),
        ("clinic", 2, False, "cancelled by the clinic"),
    ],
)
def test_a_client_cancelling_inside_the_notice_period_has_cancelled_late(
    app, clinic, login, by, hours_ahead, late, label
):
    client = clinic.client(consents=[KEY])
    treatment_id = _booking(clinic, client, hours_ahead)
    http = login("front_desk")
    http.post(f"/admin/desk/{treatment_id}/cancel", data={"by": by, "reason": "unwell"})
    treatment = _state(treatment_id)
    assert (treatment.status, treatment.cancellation, treatment.cancelled_late) == ("cancelled", by, late)
    assert treatment.cancel_reason == "unwell" and treatment.cancelled_by == clinic.staff["front_desk"]
    assert label in _page(http, treatment_id)
    record = html.unescape(http.get(f"/admin/client_desk/details/?id={client.id}").get_data(as_text=True))
    assert f"Late cancellations: {1 if late else 0}." in record


def test_the_notice_period_is_the_clinics_setting(app, clinic, login):
    login("manager").post("/admin/settings/", data={"core.late_cancel_hours": "1"})
    treatment_id = _booking(clinic, clinic.client(consents=[KEY]), 2)
    login("front_desk").post(f"/admin/desk/{treatment_id}/cancel", data={"by": "client", "reason": "unwell"})
    assert _state(treatment_id).cancelled_late is False


def test_a_no_show_is_marked_once_its_time_has_come_and_counts_on_the_record(app, clinic, login):
    client = clinic.client(consents=[KEY])
    ahead, passed = _booking(clinic, client, 3), _booking(clinic, client, -1)
    http = login("front_desk")
    assert "did not come (no-show)" not in _page(http, ahead)
    refused = http.post(f"/admin/desk/{ahead}/no-show", data={}, follow_redirects=True)
    assert "once its time has come" in html.unescape(refused.get_data(as_text=True))
    assert _state(ahead).status == "booked"

    assert "did not come (no-show)" in _page(http, passed)
    http.post(f"/admin/desk/{passed}/no-show", data={"note": "no answer on the phone"})
    treatment = _state(passed)
    assert (treatment.status, treatment.cancellation, treatment.cancel_reason) == (
        "cancelled",
        "no_show",
        "no answer on the phone",
    )
    record = html.unescape(http.get(f"/admin/client_desk/details/?id={client.id}").get_data(as_text=True))
    assert "No-shows: 1." in record and "no-show" in record
    assert "1 no-show" in _page(http, ahead)  # the desk sees it when it opens the client's next booking


def test_a_no_show_or_cancellation_sent_twice_happens_once(app, clinic, login):
    client = clinic.client(consents=[KEY])
    passed, ahead = _booking(clinic, client, -1), _booking(clinic, client, 48)
    http = login("front_desk")
    for _ in range(2):
        second = http.post(f"/admin/desk/{passed}/no-show", data={}, follow_redirects=True)
    assert "already" in html.unescape(second.get_data(as_text=True)) or "marked as a no-show by" in html.unescape(
        second.get_data(as_text=True)
    )
    for _ in range(2):
        again = http.post(
            f"/admin/desk/{ahead}/cancel", data={"by": "clinic", "reason": "room flooded"}, follow_redirects=True
        )
    assert "was cancelled by" in html.unescape(again.get_data(as_text=True))
    actions = [
        a
        for (a,) in db.session.execute(
            db.select(AuditEvent.action).where(AuditEvent.action.in_(("treatment.no_show", "treatment.cancel")))
        ).all()
    ]
    assert sorted(actions) == ["treatment.cancel", "treatment.no_show"]
    with_count = http.get(f"/admin/client_desk/details/?id={client.id}").get_data(as_text=True)
    assert "No-shows: 1." in with_count


def test_a_cancelled_or_missed_booking_cannot_be_recorded_afterwards(app, clinic, login):
    client = clinic.client(consents=[KEY])
    passed = _booking(clinic, client, -1)
    http = login("practitioner")
    http.post(f"/admin/desk/{passed}/no-show", data={})
    response = http.get(f"/admin/desk/{passed}/record", follow_redirects=True)
    assert "marked as a no-show" in html.unescape(response.get_data(as_text=True))


def test_a_no_show_frees_its_time_for_someone_else(app, clinic, login):
    # The client is twenty minutes late and marked a no-show: the practitioner's rest of that hour takes a walk-in,
    # as it would after a cancellation.
    started = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20)
    missed = clinic.booked(clinic.client(first="Absent", consents=[KEY]), KEY, when=started, minutes=60).id
    login("front_desk").post(f"/admin/desk/{missed}/no-show", data={})
    assert _state(missed).cancellation == "no_show"
    walk_in = clinic.booked(
        clinic.client(first="Walk", last="In", consents=[KEY]), KEY, when=started + timedelta(minutes=30), minutes=20
    )
    assert walk_in.status == "booked"
