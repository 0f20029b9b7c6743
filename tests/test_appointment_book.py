"""The appointment book (issue 15, items 6, 7 and 9): a location's day with practitioners as columns and bookings
placed by their local time and length, a practitioner's week, the printed day sheet, booking from an empty slot,
and moving a booking (a reschedule: screened again, audited with before and after, refused when stale)."""

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fake_modality import KEY, FakeModality

from clinicadmin import clock
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Location, Treatment

TOKYO = "Asia/Tokyo"  # UTC+9: a morning there is the previous evening in UTC


@pytest.fixture
def app_config():
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality())]}


@pytest.fixture
def desk(clinic, staff):
    """The clinic in Tokyo, its practitioner at home there and certified for the fake modality."""
    clinic.location.time_zone = TOKYO
    staff["practitioner"].location = clinic.location
    db.session.commit()
    clinic.certify("practitioner", KEY)
    clinic.tz = ZoneInfo(TOKYO)
    clinic.tomorrow = datetime.now(clinic.tz).date() + timedelta(days=1)
    return clinic


def _at(clinic, hour, minute=0, day=None):
    wall = datetime.combine(day or clinic.tomorrow, time(hour, minute), tzinfo=clinic.tz)
    return wall.astimezone(UTC)


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _blocks(page):
    return re.findall(
        r'class="cal-block cal-r-(\d+) cal-s-(\d+) cal-([a-z-]+)"[^>]*>\s*<span class="cal-when">'
        r'([^<]+)</span>\s*<span class="cal-who">([^<]+)<',
        page,
    )


def test_the_day_shows_each_practitioner_with_bookings_placed_by_local_time_and_length(app, desk, login):
    client = desk.client(first="Aiko", last="Tanaka", consents=[KEY])
    desk.booked(client, KEY, when=_at(desk, 9, 30))
    other = desk.client(first="Ben", last="Cancelled", consents=[KEY])
    cancelled = desk.booked(other, KEY, when=_at(desk, 11))
    login("front_desk").post(f"/admin/desk/{cancelled.id}/cancel", data={"by": "client", "reason": "moving away"})
    http = login("front_desk")
    page = _text(http.get(f"/admin/calendar/?location={desk.location.id}&day={desk.tomorrow.isoformat()}"))
    assert 'aria-label="Test practitioner"' in page
    # 09:30 is the seventh 15-minute row from 08:00; the fake modality's usual hour spans four rows.
    assert _blocks(page) == [("7", "4", "clear", "09:30–10:30", "Aiko Tanaka")]
    assert "Asia/Tokyo" in page
    with_cancelled = _text(
        http.get(f"/admin/calendar/?location={desk.location.id}&day={desk.tomorrow.isoformat()}&cancelled=1")
    )
    assert ("cancelled", "11:00–12:00") in {(tone, when) for _, _, tone, when, _ in _blocks(with_cancelled)}


def test_a_booking_early_or_late_in_the_day_widens_the_hours_shown(app, desk, login):
    desk.booked(desk.client(consents=[KEY]), KEY, when=_at(desk, 6, 45))
    page = _text(
        login("front_desk").get(f"/admin/calendar/?day={desk.tomorrow.isoformat()}&location={desk.location.id}")
    )
    assert ">06:00<" in page and _blocks(page)[0][:2] == ("4", "4")


def test_an_empty_slot_opens_the_booking_form_filled_in(app, desk, login, staff):
    http = login("front_desk")
    page = _text(http.get(f"/admin/calendar/?location={desk.location.id}&day={desk.tomorrow.isoformat()}"))
    at = f"{desk.tomorrow.isoformat()}T14:30"
    link = re.search(
        rf'href="(/admin/desk/book\?practitioner={staff["practitioner"].id}&location='
        rf'{desk.location.id}&at={at})"',
        page,
    )
    assert link, "no slot at 14:30 for the practitioner"
    form = _text(http.get(link.group(1)))
    assert f'value="{at}"' in form
    assert re.search(
        rf'<option selected value="{staff["practitioner"].id}">|<option value="{staff["practitioner"].id}"'
        rf" selected>",
        form,
    )
    assert re.search(
        rf'<option selected value="{desk.location.id}">|<option value="{desk.location.id}" selected>', form
    )
    client = desk.client(first="Slot", consents=[KEY])
    booked = http.post(
        "/admin/desk/book",
        data={
            "client": str(client.id),
            "modality": KEY,
            "scheduled_at": at,
            "practitioner": str(staff["practitioner"].id),
            "location": str(desk.location.id),
        },
    )
    assert booked.status_code == 302
    treatment = db.session.execute(db.select(Treatment).where(Treatment.client_id == client.id)).scalar_one()
    assert treatment.scheduled_at == _at(desk, 14, 30)


def test_the_week_shows_a_practitioners_bookings_by_day(app, desk, login, staff):
    monday = desk.tomorrow - timedelta(days=desk.tomorrow.weekday())
    desk.booked(desk.client(first="Wed", consents=[KEY]), KEY, when=_at(desk, 10, day=monday + timedelta(days=2)))
    page = _text(
        login("front_desk").get(
            f"/admin/calendar/week?practitioner={staff['practitioner'].id}"
            f"&location={desk.location.id}&week={desk.tomorrow.isoformat()}"
        )
    )
    columns = re.findall(r'<section class="cal-col" aria-label="([^"]+)">', page)
    assert columns == [f"{d:%a} {d.isoformat()}" for d in (monday + timedelta(days=i) for i in range(7))]
    wednesday = page.split(f'aria-label="{monday + timedelta(days=2):%a} ')[1].split("</section>")[0]
    assert "10:00–11:00" in wednesday and "Wed Client" in wednesday


def test_the_day_sheet_prints_every_booking_and_is_audited(app, desk, login):
    login("manager").post("/admin/settings/", data={"core.clinic_phone": "+81 3 5555 0100"})
    client = desk.client(first="Sheet", last="Reader", consents=[KEY])
    desk.booked(client, KEY, when=_at(desk, 13))
    page = _text(
        login("front_desk").get(f"/admin/calendar/sheet?location={desk.location.id}&day={desk.tomorrow.isoformat()}")
    )
    assert "Day sheet" in page and "13:00–14:00" in page and "Sheet Reader" in page and 'id="print-button"' in page
    assert "+81 3 5555 0100" in page  # under the clinic's letterhead
    viewed = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "calendar.view")).scalars().all()
    assert viewed and client.id in viewed[-1].detail["clients"]


def test_moving_a_booking_screens_it_again_and_audits_before_and_after(app, desk, login, staff):
    client = desk.client(first="Move", consents=[KEY])
    client.consents[0].expires_on = desk.tomorrow  # in force tomorrow, expired the day after
    treatment = desk.booked(client, KEY, when=_at(desk, 9))
    first_run, first_status = treatment.screening_run, treatment.screening_status
    other = staff["manager"]
    other.roles.append(
        db.session.execute(
            db.select(type(other.roles[0])).where(type(other.roles[0]).name == "practitioner")
        ).scalar_one()
    )
    db.session.commit()
    desk.certify("manager", KEY)
    http = login("front_desk")
    form = _text(http.get(f"/admin/desk/{treatment.id}/move"))
    assert f'value="{desk.tomorrow.isoformat()}T09:00"' in form
    day_after = desk.tomorrow + timedelta(days=1)
    response = http.post(
        f"/admin/desk/{treatment.id}/move",
        data={
            "scheduled_at": f"{day_after.isoformat()}T16:30",
            "practitioner": str(other.id),
            "location": str(desk.location.id),
            "reason": "client asked",
            "expected_at": treatment.scheduled_at.isoformat(),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(Treatment, treatment.id)
    assert (moved.scheduled_at, moved.practitioner_id) == (_at(desk, 16, 30, day_after), other.id)
    # Screened again as of the new day: the consent that covered tomorrow has expired by then.
    assert first_status == "clear" and moved.screening_run == first_run + 1 and moved.screening_status == "blocked"
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "treatment.reschedule")).scalar_one()
    assert event.detail["before"]["local"] == f"{desk.tomorrow.isoformat()} 09:00"
    assert event.detail["after"]["local"] == f"{day_after.isoformat()} 16:30"
    assert event.detail["reason"] == "client asked"


def test_a_move_to_a_practitioner_not_certified_for_it_is_refused(app, desk, login, staff):
    treatment = desk.booked(desk.client(first="Scope", consents=[KEY]), KEY, when=_at(desk, 9))
    uncertified = staff["admin"]  # a practitioner too, with no certification for the modality
    uncertified.roles.append(
        db.session.execute(
            db.select(type(uncertified.roles[0])).where(type(uncertified.roles[0]).name == "practitioner")
        ).scalar_one()
    )
    db.session.commit()
    http = login("front_desk")
    for data in ({"next": "/admin/calendar/"}, {}):  # dragged on the calendar, or from the form
        response = http.post(
            f"/admin/desk/{treatment.id}/move",
            data={
                "scheduled_at": f"{desk.tomorrow.isoformat()}T11:00",
                "practitioner": str(uncertified.id),
                "location": str(desk.location.id),
                **data,
            },
            follow_redirects=True,
        )
        assert "holds no certification for Test modality" in _text(response)
    db.session.expire_all()
    assert (db.session.get(Treatment, treatment.id).practitioner_id, treatment.scheduled_at) == (
        staff["practitioner"].id,
        _at(desk, 9),
    )


def test_a_move_from_a_stale_page_is_refused_and_changes_nothing(app, desk, login, staff):
    treatment = desk.booked(desk.client(first="Stale", consents=[KEY]), KEY, when=_at(desk, 9))
    seen = treatment.scheduled_at.isoformat()
    http = login("front_desk")
    first = {
        "scheduled_at": f"{desk.tomorrow.isoformat()}T10:00",
        "practitioner": str(staff["practitioner"].id),
        "location": str(desk.location.id),
        "expected_at": seen,
        "next": "/admin/calendar/",
    }
    assert http.post(f"/admin/desk/{treatment.id}/move", data=first).status_code == 302
    second = {**first, "scheduled_at": f"{desk.tomorrow.isoformat()}T15:00"}
    response = http.post(f"/admin/desk/{treatment.id}/move", data=second, follow_redirects=True)
    assert "moved by someone else meanwhile" in _text(response)
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).scheduled_at == _at(desk, 10)
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "treatment.reschedule")
        ).scalar()
        == 1
    )


@pytest.mark.parametrize(
    "data, message",
    [
        ({"scheduled_at": "9999-01-01T10:00"}, "booking window"),
        ({"scheduled_at": "not a time"}, "Not a valid datetime"),
        ({"practitioner": "999999"}, "Not a valid choice"),
    ],
)
def test_a_move_to_somewhere_impossible_is_refused_with_a_message(app, desk, login, staff, data, message):
    treatment = desk.booked(desk.client(first="Bad", consents=[KEY]), KEY, when=_at(desk, 9))
    payload = {
        "scheduled_at": f"{desk.tomorrow.isoformat()}T10:00",
        "practitioner": str(staff["practitioner"].id),
        "location": str(desk.location.id),
        **data,
    }
    response = login("front_desk").post(f"/admin/desk/{treatment.id}/move", data=payload)
    assert response.status_code == 200 and message in _text(response)
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).scheduled_at == _at(desk, 9)


def test_a_move_does_not_send_anyone_off_site(app, desk, login, staff):
    treatment = desk.booked(desk.client(first="Away", consents=[KEY]), KEY, when=_at(desk, 9))
    response = login("front_desk").post(
        f"/admin/desk/{treatment.id}/move",
        data={
            "scheduled_at": f"{desk.tomorrow.isoformat()}T10:00",
            "practitioner": str(staff["practitioner"].id),
            "location": str(desk.location.id),
            "next": "//evil.example/phish",
        },
    )
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]


def test_the_front_desks_home_is_todays_book_and_the_stock_clerk_has_none(app, desk, login):
    response = login("front_desk").get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/calendar/")
    assert login("stock_clerk").get("/admin/calendar/").status_code == 403
    assert login("manager").get("/admin/").status_code == 200  # a manager's home is still the dashboard


def test_the_day_reads_in_a_constant_number_of_statements(app, desk, login, staff):
    from clinicadmin.testing import sql_statements

    http = login("front_desk")
    url = f"/admin/calendar/?location={desk.location.id}&day={desk.tomorrow.isoformat()}"

    def count():
        with sql_statements() as seen:
            assert http.get(url).status_code == 200
        return len(seen)

    desk.booked(desk.client(first="One", consents=[KEY]), KEY, when=_at(desk, 9))
    few = count()
    for hour in range(10, 18):
        desk.booked(desk.client(first=f"H{hour}", consents=[KEY]), KEY, when=_at(desk, hour))
    assert count() == few


def test_a_location_without_a_zone_uses_the_clinics(app, desk, login):
    desk.location.time_zone = None
    db.session.commit()
    login("manager").post("/admin/settings/", data={clock.TIME_ZONE: "America/Sao_Paulo"})
    page = _text(login("front_desk").get(f"/admin/calendar/?location={desk.location.id}"))
    assert "America/Sao_Paulo" in page
    assert db.session.get(Location, desk.location.id).time_zone is None


def test_a_move_onto_a_taken_time_is_refused_naming_it_and_the_old_time_is_freed(app, desk, login, staff):
    moving = desk.booked(desk.client(first="Mover", consents=[KEY]), KEY, when=_at(desk, 9), minutes=45)
    desk.booked(desk.client(first="Holder", last="Stays", consents=[KEY]), KEY, when=_at(desk, 11))
    http = login("front_desk")
    form = {"practitioner": str(staff["practitioner"].id), "location": str(desk.location.id)}
    refused = http.post(
        f"/admin/desk/{moving.id}/move", data={**form, "scheduled_at": f"{desk.tomorrow.isoformat()}T10:30"}
    )
    assert refused.status_code == 200
    assert "Test practitioner is booked 11:00–12:00" in _text(refused) and "for H.S." in _text(refused)
    db.session.expire_all()
    assert db.session.get(Treatment, moving.id).scheduled_at == _at(desk, 9)
    # Moved later in the day: it keeps its 45 minutes, and its old time is free for someone else.
    assert (
        http.post(
            f"/admin/desk/{moving.id}/move", data={**form, "scheduled_at": f"{desk.tomorrow.isoformat()}T14:00"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    moved = db.session.get(Treatment, moving.id)
    assert (moved.scheduled_at, moved.ends_at) == (_at(desk, 14), _at(desk, 14, 45))
    other = desk.booked(desk.client(first="Takes", consents=[KEY]), KEY, when=_at(desk, 9))
    assert other.status == "booked"


def test_two_moves_into_one_time_at_once_move_one(app, desk, login, staff):
    import threading

    from concurrency import same_browser

    first = desk.booked(desk.client(first="Uno", consents=[KEY]), KEY, when=_at(desk, 9))
    second = desk.booked(desk.client(first="Dos", consents=[KEY]), KEY, when=_at(desk, 10))
    http = login("front_desk")
    target = {
        "scheduled_at": f"{desk.tomorrow.isoformat()}T15:00",
        "practitioner": str(staff["practitioner"].id),
        "location": str(desk.location.id),
        "csrf_token": http.token(),
    }
    twins, answers, start = [same_browser(http), same_browser(http)], [None, None], threading.Barrier(2)

    def move(i, treatment_id):
        start.wait()
        answers[i] = twins[i].post(f"/admin/desk/{treatment_id}/move", data=dict(target))

    threads = [threading.Thread(target=move, args=(i, t.id)) for i, t in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(a.status_code for a in answers) == [200, 302]
    assert "Test practitioner is booked 15:00–16:00" in _text(next(a for a in answers if a.status_code == 200))
    db.session.expire_all()
    at_three = [
        t
        for t in (db.session.get(Treatment, first.id), db.session.get(Treatment, second.id))
        if t.scheduled_at == _at(desk, 15)
    ]
    assert len(at_three) == 1


def test_the_day_by_room_shows_each_room_and_device_with_what_takes_it(app, desk, login):
    from clinicadmin.models import Resource

    room = db.session.execute(db.select(Resource).where(Resource.location_id == desk.location.id)).scalars().first()
    desk.booked(desk.client(first="Roomless", consents=[KEY]), KEY, when=_at(desk, 9))
    http = login("front_desk")
    page = _text(http.get(f"/admin/calendar/?location={desk.location.id}&day={desk.tomorrow.isoformat()}&by=room"))
    columns = re.findall(r'<section class="cal-col" aria-label="([^"]+)">', page)
    assert columns[0].startswith(room.name) and columns[-1] == "No room or device"
    # The fake modality takes no room: its booking is in the last column, and a room's empty slot books that room.
    last = page.split('aria-label="No room or device"')[1]
    assert "Roomless" in last
    link = re.search(rf'href="(/admin/desk/book\?resource={room.id}&location={desk.location.id}&at=[^"]+)"', page)
    form = _text(http.get(link.group(1)))
    assert re.search(rf'<option selected value="{room.id}">|<option value="{room.id}" selected>', form)


@pytest.mark.parametrize(
    "target", ["/\t/evil.example/phish", "/\n/evil.example/phish", "/\r\n/evil.example", "/ /evil.example"]
)
def test_a_move_is_not_sent_off_site_by_a_tab_or_line_break_in_its_return_path(app, desk, login, staff, target):
    # A browser drops tabs and line breaks from a URL: "/\t/evil.example" would be "//evil.example", another site;
    # a line break cannot go in a header at all (it was a 500).
    treatment = desk.booked(desk.client(first="Away", consents=[KEY]), KEY, when=_at(desk, 9))
    http = login("front_desk")
    response = http.post(
        f"/admin/desk/{treatment.id}/move",
        data={
            "scheduled_at": f"{desk.tomorrow.isoformat()}T10:00",
            "practitioner": str(staff["practitioner"].id),
            "location": str(desk.location.id),
            "next": target,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/desk/{treatment.id}")
    # A booking no longer booked sends its move page back, also on a GET.
    http.post(f"/admin/desk/{treatment.id}/cancel", data={"by": "client", "reason": "moving away"})
    again = http.get(f"/admin/desk/{treatment.id}/move", query_string={"next": target})
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/admin/desk/{treatment.id}")


def test_in_a_week_only_the_bookings_at_its_location_can_be_dragged(app, desk, login, staff):
    # The week at one location also shows the practitioner's bookings elsewhere; the week's empty times book at its
    # own location, so a drop there would quietly move a New York booking to Tokyo. Those are moved from their own
    # location's book (or the move form).
    from clinicadmin.treatment_flow import book

    new_york = Location(name="New York", time_zone="America/New_York")
    db.session.add(new_york)
    db.session.commit()
    here = desk.booked(desk.client(first="Here", consents=[KEY]), KEY, when=_at(desk, 10))
    there = book(
        client=desk.client(first="There", consents=[KEY]),
        modality=KEY,
        practitioner=staff["practitioner"],
        location=new_york,
        scheduled_at=_at(desk, 15),
        user=staff["manager"],
    )
    http = login("front_desk")
    week = _text(
        http.get(
            f"/admin/calendar/week?practitioner={staff['practitioner'].id}"
            f"&location={desk.location.id}&week={desk.tomorrow.isoformat()}"
        )
    )
    movable = set(re.findall(r'data-move="/admin/desk/(\d+)/move"', week))
    assert f'href="/admin/desk/{there.id}"' in week and movable == {str(here.id)}
    new_york_day = _text(http.get(f"/admin/calendar/?location={new_york.id}&day={desk.tomorrow.isoformat()}"))
    assert f'data-move="/admin/desk/{there.id}/move"' in new_york_day


@pytest.mark.parametrize("month, ends", [(3, "03:00"), (10, "01:00")])
def test_on_the_day_the_clocks_change_a_booking_ends_when_it_really_ends(app, desk, login, month, ends):
    # London, the last Sunday of March (01:00 GMT is 02:00 BST) and of October (02:00 BST is 01:00 GMT): ninety
    # minutes from 00:30 end at 03:00 in spring and at 01:00 in autumn, not at 02:00 both times.
    desk.location.time_zone = "Europe/London"
    db.session.commit()
    london = ZoneInfo("Europe/London")
    year = datetime.now(london).year + 1
    sunday = max(date(year, month, d) for d in range(25, 32) if date(year, month, d).weekday() == 6)
    starts = datetime.combine(sunday, time(0, 30), tzinfo=london).astimezone(UTC)
    desk.booked(desk.client(first="Night", last="Owl", consents=[KEY]), KEY, when=starts, minutes=90)
    http = login("front_desk")
    day = _text(http.get(f"/admin/calendar/?location={desk.location.id}&day={sunday.isoformat()}"))
    assert [when for _, _, _, when, _ in _blocks(day)] == [f"00:30–{ends}"]
    sheet = _text(http.get(f"/admin/calendar/sheet?location={desk.location.id}&day={sunday.isoformat()}"))
    assert f"00:30–{ends}" in sheet


def test_a_booking_past_midnight_shows_on_the_next_day_too(app, desk, login, staff):
    monday = desk.tomorrow + timedelta(days=(7 - desk.tomorrow.weekday()) % 7)
    tuesday = monday + timedelta(days=1)
    late = desk.booked(
        desk.client(first="Late", last="Night", consents=[KEY]), KEY, when=_at(desk, 23, day=monday), minutes=120
    )
    http = login("front_desk")
    url = f"/admin/calendar/?location={desk.location.id}&day="
    assert [b[2:] for b in _blocks(_text(http.get(url + monday.isoformat())))] == [
        ("clear", "23:00–01:00", "Late Night")
    ]
    # The next day starts at midnight, with the booking's last hour at its top.
    next_day = _text(http.get(url + tuesday.isoformat()))
    assert _blocks(next_day) == [("1", "4", "clear", "23:00–01:00", "Late Night")]
    assert ">00:00<" in next_day and f"at={tuesday.isoformat()}T00:00" in next_day  # the grid starts at midnight
    rooms = _text(http.get(url + tuesday.isoformat() + "&by=room"))
    assert "Late Night" in rooms
    sheet = _text(http.get(f"/admin/calendar/sheet?location={desk.location.id}&day={tuesday.isoformat()}"))
    assert "23:00–01:00" in sheet and "Late Night" in sheet
    week = _text(
        http.get(
            f"/admin/calendar/week?practitioner={staff['practitioner'].id}"
            f"&location={desk.location.id}&week={monday.isoformat()}"
        )
    )
    assert week.count(f'href="/admin/desk/{late.id}"') == 2  # Monday's column and Tuesday's


@pytest.mark.parametrize(
    "path",
    [
        "/admin/calendar/?day={}",
        "/admin/calendar/?by=room&day={}",
        "/admin/calendar/sheet?day={}",
        "/admin/calendar/week?practitioner={p}&week={}",
    ],
)
@pytest.mark.parametrize("far", ["9999-12-31", "0001-01-01", "0001-01-08"])
def test_a_day_at_the_ends_of_the_calendar_opens_today(app, desk, login, staff, path, far):
    # The day after 9999-12-31 and the UTC start of 0001-01-01 in Tokyo do not exist: those pages were refused.
    response = login("front_desk").get(path.format(far, p=staff["practitioner"].id) + f"&location={desk.location.id}")
    assert response.status_code == 200
    assert clock.local_today(desk.location).isoformat() in _text(response)


def test_the_days_neighbours_keep_the_rooms_view_and_the_cancelled_bookings(app, desk, login):
    # Looking at the rooms, "next day" showed practitioners again (and dropped the cancelled bookings).
    day = desk.tomorrow.isoformat()
    page = _text(login("front_desk").get(f"/admin/calendar/?location={desk.location.id}&day={day}&by=room&cancelled=1"))
    following = (desk.tomorrow + timedelta(days=1)).isoformat()
    links = re.findall(r'<a class="btn btn-outline-secondary btn-sm" href="([^"]+)"', page)
    assert len(links) == 3 and all("by=room" in link and "cancelled=1" in link for link in links)
    assert f"day={following}" in links[2]


def test_a_rooms_column_says_who_the_booking_is_with(app, desk, login):
    # By room, the front desk still needs to see whose session fills the room.
    desk.booked(desk.client(first="Roomless", consents=[KEY]), KEY, when=_at(desk, 9))
    http = login("front_desk")
    url = f"/admin/calendar/?location={desk.location.id}&day={desk.tomorrow.isoformat()}"
    rooms = _text(http.get(url + "&by=room")).split('aria-label="No room or device"')[1]
    assert '<span class="cal-with">Test practitioner</span>' in rooms
    assert 'class="cal-with"' not in _text(http.get(url))  # a practitioner's column is theirs already
