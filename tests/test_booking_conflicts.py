"""The appointment book: a booking lasts its modality's time (or the one booked), takes a room or device of each kind
the modality needs, and no practitioner, room, device or client is ever in two overlapping bookings, even when twenty
front desks book the same slot at once; cancelled and archived bookings free their time. Bookings outside working
hours or on time off need a manager's confirmation. On SQLite and PostgreSQL."""

import html
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fake_modality import KEY, FakeModality
from sqlalchemy.exc import IntegrityError

from clinicadmin import clock
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, BookingSlot, Resource, TimeOff, Treatment, WorkingHours
from clinicadmin.plugin_api import Modality, hookimpl
from clinicadmin.testing import StaffClient
from clinicadmin.treatment_flow import TreatmentRejected, archive, cancel

ROOMED = "roomed"


class Roomed:
    """A modality of 45 minutes that takes a treatment room, with 10 minutes to prepare and 5 to clean up."""

    @hookimpl
    def register_modality(self):
        return Modality(
            ROOMED,
            "Roomed session",
            duration_minutes=45,
            prep_minutes=10,
            cleanup_minutes=5,
            resources=("treatment_room",),
        )


@pytest.fixture
def app_config():
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), ("roomed", Roomed())]}


@pytest.fixture
def colleague(app, core):
    """A second practitioner, certified for both modalities, as ``core.staff["colleague"]``."""
    from flask_security import hash_password

    from clinicadmin.demo import _role
    from clinicadmin.testing import TEST_PASSWORD

    user = app.security.datastore.create_user(
        email="colleague@test.example.com",
        full_name="Second practitioner",
        password=hash_password(TEST_PASSWORD),
        roles=[_role("practitioner")],
        location=core.location,
    )
    db.session.commit()
    core.staff["colleague"] = user
    for key in (KEY, ROOMED):
        core.certify("colleague", key)
    return user


@pytest.fixture
def day():
    """Tomorrow at 15:00 (a naive time is taken as UTC)."""
    return (datetime.now(UTC) + timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0)


def _hm(naive):
    return clock.shown(clock.aware(naive), None, "%H:%M")


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _book_form(core, client, when, modality=KEY, practitioner="practitioner", **extra):
    return {
        "client": client.id,
        "modality": modality,
        "practitioner": core.staff[practitioner].id,
        "location": core.location.id,
        "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
        **extra,
    }


def _bookings():
    return db.session.execute(db.select(Treatment).order_by(Treatment.id)).scalars().all()


def test_twenty_front_desks_booking_one_practitioner_and_slot_book_once(core, login, day):
    clients = [core.client(first=f"Cli{i:02d}", last=f"Ent{i:02d}") for i in range(20)]
    desk = login("front_desk")
    browsers = [StaffClient.__new__(StaffClient) for _ in clients]
    for twin in browsers:
        twin.app, twin.email, twin.http = desk.app, desk.email, desk.app.test_client()
        for cookie in desk.http._cookies.values():
            twin.http.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    token, start, responses = desk.token(), threading.Barrier(len(clients)), [None] * len(clients)
    forms = [{**_book_form(core, client, day), "csrf_token": token} for client in clients]

    def send(i):
        start.wait()
        responses[i] = browsers[i].post("/admin/desk/book", data=forms[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(r.status_code for r in responses) == [200] * 19 + [302]
    [booked] = _bookings()
    winner = booked.client
    said = (
        f"Test practitioner is booked {_hm(day)}–{_hm(day + timedelta(minutes=60))} on {day:%Y-%m-%d} for "
        f"{winner.first_name[0]}.{winner.last_name[0]}. at Test Clinic."
    )
    refusals = [_text(r) for r in responses if r.status_code == 200]
    assert all(said in page for page in refusals), refusals[0][-3000:]
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "treatment.book")
        ).scalar()
        == 1
    )
    assert db.session.execute(db.select(db.func.count()).select_from(BookingSlot)).scalar() == 2


def test_a_booking_lasts_the_modalitys_time_or_the_one_booked(core, login, day):
    core.certify("practitioner", ROOMED)
    http = login("front_desk")
    assert http.post("/admin/desk/book", data=_book_form(core, core.client(), day, ROOMED)).status_code == 302
    assert (
        http.post(
            "/admin/desk/book",
            data=_book_form(core, core.client(first="Two"), day + timedelta(hours=2), ROOMED, duration_minutes="20"),
        ).status_code
        == 302
    )
    usual, short = _bookings()
    assert (usual.ends_at - clock.aware(usual.scheduled_at), usual.busy_from, usual.busy_until) == (
        timedelta(minutes=45),
        clock.aware(day) - timedelta(minutes=10),
        clock.aware(day) + timedelta(minutes=50),
    )
    assert short.ends_at - clock.aware(short.scheduled_at) == timedelta(minutes=20)
    for bad in ("0", "1441", "ten"):
        page = _text(
            http.post(
                "/admin/desk/book",
                data=_book_form(core, core.client(first="Bad"), day + timedelta(hours=4), duration_minutes=bad),
            )
        )
        assert "Number must be between 1 and 1440." in page or "Not a valid integer value." in page
    assert len(_bookings()) == 2


def test_a_room_is_never_in_two_bookings(core, colleague, login, day):
    core.certify("practitioner", ROOMED)
    room = db.session.execute(db.select(Resource).where(Resource.kind == "treatment_room")).scalar_one()
    http = login("front_desk")
    first = core.client(first="Ada", last="Byron")
    assert http.post("/admin/desk/book", data=_book_form(core, first, day, ROOMED)).status_code == 302
    assert [r.resource_id for r in _bookings()[0].resources] == [room.id]
    shown = _text(http.get(f"/admin/desk/{_bookings()[0].id}"))
    assert f"{day:%Y-%m-%d %H:%M}–{day + timedelta(minutes=45):%H:%M}" in shown  # as stored (UTC) until the zones
    assert "Test treatment room" in shown
    other = core.client(first="Other")
    later = day + timedelta(minutes=30)
    chosen = _text(
        http.post(
            "/admin/desk/book",
            data=_book_form(core, other, later, ROOMED, practitioner="colleague", resources=str(room.id)),
        )
    )
    assert (
        f"Test treatment room is booked {_hm(day)}–{_hm(day + timedelta(minutes=45))} on {day:%Y-%m-%d} (with "
        f"preparation and clean-up, {_hm(day - timedelta(minutes=10))}–{_hm(day + timedelta(minutes=50))} on "
        f"{day:%Y-%m-%d}) for A.B. at Test Clinic."
    ) in chosen
    first_free = _text(
        http.post("/admin/desk/book", data=_book_form(core, other, later, ROOMED, practitioner="colleague"))
    )
    assert "No treatment room is free at Test Clinic" in first_free
    assert len(_bookings()) == 1
    db.session.add(Resource(location=core.location, kind="treatment_room", name="Room B"))
    db.session.commit()
    assert (
        http.post("/admin/desk/book", data=_book_form(core, other, later, ROOMED, practitioner="colleague")).status_code
        == 302
    )
    assert [r.resource.name for r in _bookings()[1].resources] == ["Room B"]


def test_the_database_itself_refuses_overlapping_slots_on_postgresql(core, day):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no exclusion constraints; its bookings check under the write lock")
    treatment = core.booked(core.client(), KEY, when=day)
    db.session.add(
        BookingSlot(
            treatment_id=treatment.id,
            practitioner_id=treatment.practitioner_id,
            busy_from=clock.aware(day) + timedelta(minutes=59),
            busy_until=clock.aware(day) + timedelta(hours=2),
        )
    )
    with pytest.raises(IntegrityError, match="ex_booking_slot_practitioner"):
        db.session.commit()
    db.session.rollback()


def test_a_client_is_never_in_two_bookings(core, colleague, login, day):
    client = core.client()
    core.booked(client, KEY, when=day)
    page = _text(
        login("front_desk").post(
            "/admin/desk/book", data=_book_form(core, client, day + timedelta(minutes=59), practitioner="colleague")
        )
    )
    assert (
        f"This client already has a booking {_hm(day)}–{_hm(day + timedelta(hours=1))} on {day:%Y-%m-%d} at "
        "Test Clinic with Test practitioner."
    ) in page
    assert len(_bookings()) == 1


def test_back_to_back_bookings_do_not_conflict_but_preparation_and_clean_up_count(core, colleague, day):
    core.certify("practitioner", ROOMED)
    db.session.add(Resource(location=core.location, kind="treatment_room", name="Room B"))
    db.session.commit()
    client = core.client()
    core.booked(client, KEY, when=day, minutes=45)
    core.booked(client, KEY, when=day + timedelta(minutes=45), minutes=45)  # 15:00-15:45, then 15:45-16:30
    padded = core.booked(core.client(first="Pad"), ROOMED, when=day + timedelta(hours=3))  # busy 17:50-18:50
    with pytest.raises(TreatmentRejected, match="with preparation and clean-up"):
        core.booked(core.client(first="Next"), ROOMED, when=day + timedelta(hours=3, minutes=45))
    core.booked(core.client(first="Next"), ROOMED, when=day + timedelta(hours=4))  # its preparation starts 18:50
    # The client is not held while the room is cleaned: the same client with someone else straight after.
    core.booked(padded.client, ROOMED, practitioner="colleague", when=day + timedelta(hours=3, minutes=45))
    assert len(_bookings()) == 5


def test_cancelled_and_archived_bookings_free_their_time(core, login, day):
    http = login("front_desk")
    first = core.booked(core.client(first="Gone"), KEY, when=day)
    with pytest.raises(TreatmentRejected, match="Test practitioner is booked"):
        core.booked(core.client(first="Wait"), KEY, when=day)
    assert (
        http.post(f"/admin/desk/{first.id}/cancel", data={"reason": "client rang", "by": "client"}).status_code == 302
    )
    second = core.booked(core.client(first="Wait"), KEY, when=day)
    archive(second, user=core.staff["manager"], reason="entered in error")
    third = core.booked(core.client(first="Third"), KEY, when=day)
    assert third.status == "booked"
    assert db.session.execute(db.select(BookingSlot.treatment_id).distinct()).scalars().all() == [third.id]
    assert [
        r.action
        for r in db.session.execute(
            db.select(AuditEvent)
            .where(AuditEvent.action.in_(("treatment.book", "treatment.cancel", "treatment.archive")))
            .order_by(AuditEvent.id)
        ).scalars()
    ] == ["treatment.book", "treatment.cancel", "treatment.book", "treatment.archive", "treatment.book"]
    cancel(third, reason="done")


def test_outside_working_hours_only_a_managers_confirmation_books(core, login, day):
    practitioner = core.staff["practitioner"]
    wall = clock.local(clock.aware(day), core.location)
    db.session.add(
        WorkingHours(
            user=practitioner,
            location=core.location,
            weekday=wall.weekday(),
            starts=(wall - timedelta(hours=6)).time(),
            ends=(wall - timedelta(hours=3)).time(),
        )
    )
    db.session.commit()
    client = core.client()
    form = _book_form(core, client, day)
    refused = _text(login("front_desk").post("/admin/desk/book", data=form))
    hours = f"{wall - timedelta(hours=6):%H:%M}–{wall - timedelta(hours=3):%H:%M}"
    assert f"Test practitioner's working hours at Test Clinic on {wall:%A}s are {hours}" in refused
    assert "A manager may confirm a booking outside working hours." in refused
    desk = login("front_desk")
    assert 'name="confirm_outside_hours"' not in desk.get("/admin/desk/book").get_data(as_text=True)
    not_theirs = _text(desk.post("/admin/desk/book", data={**form, "confirm_outside_hours": "y"}))
    assert "A manager may confirm a booking outside working hours." in not_theirs
    assert 'name="confirm_outside_hours"' in login("manager").get("/admin/desk/book").get_data(as_text=True)
    with pytest.raises(TreatmentRejected, match="Only a manager can confirm a booking outside working hours."):
        core.booked(client, KEY, when=day, confirm_outside_hours=True, user=core.staff["front_desk"])
    assert _bookings() == []
    assert login("manager").post("/admin/desk/book", data={**form, "confirm_outside_hours": "y"}).status_code == 302
    [booked] = _bookings()
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "treatment.book")).scalar_one()
    assert "outside them" in event.detail["outside_hours_confirmed"] and event.user_id == core.staff["manager"].id
    # Within the hours no confirmation is needed.
    core.booked(core.client(first="Early"), KEY, when=day - timedelta(hours=5))


def test_time_off_needs_a_managers_confirmation(core, login, day):
    wall = clock.local(clock.aware(day), core.location)
    db.session.add(
        TimeOff(user=core.staff["practitioner"], first_day=wall.date(), last_day=wall.date(), reason="training")
    )
    db.session.commit()
    refused = _text(login("front_desk").post("/admin/desk/book", data=_book_form(core, core.client(), day)))
    assert re.search(rf"Test practitioner is off from {wall:%Y-%m-%d} to {wall:%Y-%m-%d} \(training\)", refused)
    assert _bookings() == []


def test_managers_keep_rooms_hours_and_time_off_and_others_cannot(core, login):
    manager = login("manager")
    assert (
        manager.post(
            "/admin/working_hours/new/",
            data={
                "user": core.staff["practitioner"].id,
                "location": core.location.id,
                "weekday": "2",
                "starts": "09:00",
                "ends": "08:00",
            },
        ).status_code
        == 200
    )  # ends before it starts: refused, nothing saved
    assert db.session.execute(db.select(WorkingHours)).scalars().all() == []
    assert (
        manager.post(
            "/admin/working_hours/new/",
            data={
                "user": core.staff["practitioner"].id,
                "location": core.location.id,
                "weekday": "2",
                "starts": "09:00",
                "ends": "17:30",
            },
        ).status_code
        == 302
    )
    assert "Wednesday" in manager.get("/admin/working_hours/").get_data(as_text=True)
    assert (
        manager.post(
            "/admin/time_off/new/",
            data={"user": core.staff["practitioner"].id, "first_day": "2027-01-10", "last_day": "2027-01-03"},
        ).status_code
        == 200
    )
    assert db.session.execute(db.select(TimeOff)).scalars().all() == []
    actions = db.session.execute(db.select(AuditEvent.action).where(AuditEvent.action.like("working_hours.%")))
    assert actions.scalars().all() == ["working_hours.create"]
    for role in ("front_desk", "practitioner", "stock_clerk"):
        http = login(role)
        for url in ("/admin/resource/", "/admin/working_hours/", "/admin/time_off/"):
            assert http.get(url).status_code == 403, (role, url)


def test_two_records_booked_at_overlapping_times_are_not_merged(core, colleague, login, day):
    keep = core.client(first="Ada", last="Lovelace")
    duplicate = core.client(first="Ada", last="Lovelace")
    core.booked(keep, KEY, when=day)
    core.booked(duplicate, KEY, practitioner="colleague", when=day + timedelta(minutes=30))
    page = _text(
        login("manager").post(
            "/admin/client-merge/",
            data={"keep": keep.id, "merge": duplicate.id, "reason": "Same person, booked twice"},
            follow_redirects=True,
        )
    )
    assert "The two records have bookings at overlapping times" in page
    assert (
        f"Lovelace, Ada (b. 1985-05-05) is booked {_hm(day + timedelta(minutes=30))}–"
        f"{_hm(day + timedelta(minutes=90))} on {day:%Y-%m-%d} at Test Clinic"
    ) in page
    db.session.expire_all()
    assert db.session.get(type(duplicate), duplicate.id).archived_at is None
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(BookingSlot).where(BookingSlot.client_id == keep.id)
        ).scalar()
        == 1
    )


class NeedsAnUnknownDevice:
    @hookimpl
    def register_modality(self):
        return Modality("odd", "Odd session", resources=("teleporter",))


def test_a_modality_must_say_its_minutes_and_take_only_registered_kinds(app_factory):
    from clinicadmin.plugins import PluginError

    for minutes in (0, 1441, 30.5, True):
        with pytest.raises(ValueError, match="duration_minutes must be whole minutes"):
            Modality("odd", "Odd session", duration_minutes=minutes)
    with pytest.raises(ValueError, match="prep_minutes"):
        Modality("odd", "Odd session", prep_minutes=-5)
    with pytest.raises(PluginError, match="takes a resource of kind 'teleporter', which no plugin registers"):
        app_factory(PLUGINS_ENABLED=[], EXTRA_PLUGINS=[("odd", NeedsAnUnknownDevice())])


def test_a_booking_dropped_on_a_rooms_column_moves_into_that_room(core, login, day):
    # The day by rooms: dragging a booking from Test treatment room's column to Room B's moves it there (it stayed
    # in its room, or was "already there" at the same time), and a room that is taken is named.
    core.certify("practitioner", ROOMED)
    room_b = Resource(location=core.location, kind="treatment_room", name="Room B")
    db.session.add(room_b)
    db.session.commit()
    first_room = db.session.execute(db.select(Resource).where(Resource.name == "Test treatment room")).scalar_one()
    moving = core.booked(core.client(first="Mover"), ROOMED, when=day, resources=[first_room])
    http = login("front_desk")
    drop = {
        "scheduled_at": day.strftime("%Y-%m-%dT%H:%M"),
        "practitioner": core.staff["practitioner"].id,
        "location": core.location.id,
        "expected_at": clock.aware(day).isoformat(),
        "resource": room_b.id,
        "next": "/admin/calendar/?by=room",
    }
    assert http.post(f"/admin/desk/{moving.id}/move", data=drop).status_code == 302
    db.session.expire_all()
    assert [r.resource.name for r in db.session.get(Treatment, moving.id).resources] == ["Room B"]
    # Room B is taken now: the other booking dropped on it is refused, naming who has it.
    other = core.booked(core.client(first="Other"), ROOMED, when=day + timedelta(hours=2), resources=[first_room])
    refused = _text(
        http.post(
            f"/admin/desk/{other.id}/move",
            data={
                **drop,
                "expected_at": other.scheduled_at.isoformat(),
                "scheduled_at": (day + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
            },
            follow_redirects=True,
        )
    )
    assert "Room B is booked" in refused
    db.session.expire_all()
    assert [r.resource.name for r in db.session.get(Treatment, other.id).resources] == ["Test treatment room"]
