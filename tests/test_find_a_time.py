"""Find a time (issue 15, item 8): for a client and a modality, the next openings where a certified practitioner, a
room of the kind the modality takes and the client are all free, within working hours, off time off, and far enough
from the client's other sessions of the modality. Through the page, whose openings book in one click."""

import html
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fake_modality import KEY, FakeModality
from test_booking_conflicts import ROOMED, Roomed

from clinicadmin.extensions import db
from clinicadmin.models import TimeOff, Treatment, WorkingHours

ZONE = "America/Chicago"


@pytest.fixture
def app_config():
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), ("roomed", Roomed())]}


@pytest.fixture
def week(app, clinic, staff):
    """A clinic in Chicago (with the test fixture's one treatment room); the practitioner certified for both
    modalities, working 09:00-12:00 every day there; ``week.day`` is the day after tomorrow."""
    clinic.location.time_zone = ZONE
    staff["practitioner"].location = clinic.location
    for weekday in range(7):
        db.session.add(
            WorkingHours(
                user=staff["practitioner"], location=clinic.location, weekday=weekday, starts=time(9), ends=time(12)
            )
        )
    db.session.commit()
    for key in (KEY, ROOMED):
        clinic.certify("practitioner", key)
    clinic.tz = ZoneInfo(ZONE)
    clinic.day = datetime.now(clinic.tz).date() + timedelta(days=2)
    return clinic


def _at(week, hour, minute=0, day=None):
    return datetime.combine(day or week.day, time(hour, minute), tzinfo=week.tz).astimezone(UTC)


def _openings(http, week, client, modality=KEY, **args):
    query = {
        "client": client.id,
        "modality": modality,
        "location": week.location.id,
        "first_day": week.day.isoformat(),
        **args,
    }
    page = html.unescape(http.get("/admin/desk/find", query_string=query).get_data(as_text=True))
    return page, re.findall(r"<td>(\w{3} \d{4}-\d\d-\d\d \d\d:\d\d)–(\d\d:\d\d)</td>\s*<td>([^<]+)</td>", page)


def test_openings_are_the_free_hours_of_a_certified_practitioner_in_local_time(app, week, login, staff):
    booked = week.client(first="Early", consents=[KEY])
    week.booked(booked, KEY, when=_at(week, 9))
    client = week.client(first="Seeker", consents=[KEY])
    page, found = _openings(login("front_desk"), week, client)
    day = f"{week.day:%a %Y-%m-%d}"
    assert found[:2] == [(f"{day} 10:00", "11:00", "Test practitioner"), (f"{day} 11:00", "12:00", "Test practitioner")]
    assert all(who == "Test practitioner" for _, _, who in found)  # nobody uncertified, nobody without hours here
    assert found[2][0].endswith("09:00") and found[2][0] != f"{day} 09:00"  # then the next day


def test_the_client_a_room_and_time_off_are_respected(app, week, login, staff):
    client = week.client(first="Busy", consents=[KEY, ROOMED])
    other = week.client(first="Other", consents=[ROOMED])
    # The client is elsewhere at 10:00 (another practitioner, not held to hours) ...
    week.certify("manager", KEY)
    week.booked(client, KEY, practitioner="manager", when=_at(week, 10))
    # ... and the only room is taken at 11:00 by someone else's roomed session (45 minutes, with 10 and 5 around it).
    week.certify("admin", ROOMED)
    week.booked(other, ROOMED, practitioner="admin", when=_at(week, 11))
    page, found = _openings(login("front_desk"), week, client, modality=ROOMED)
    starts = [when for when, _, _ in found if when.startswith(f"{week.day:%a %Y-%m-%d}")]
    # 09:10-09:55 (after 10 minutes' preparation) ends before the client's 10:00; until 11:00 the client is
    # elsewhere; from 11:05 the room is still taken (10:50-11:50), and 11:20 would end past 12:00 with clean-up.
    assert starts == [f"{week.day:%a %Y-%m-%d} 09:10"]
    db.session.add(
        TimeOff(
            user=staff["practitioner"],
            first_day=week.day + timedelta(days=1),
            last_day=week.day + timedelta(days=1),
            reason="course",
        )
    )
    db.session.commit()
    page, found = _openings(login("front_desk"), week, client, modality=ROOMED)
    assert found and not any(when.startswith(f"{week.day + timedelta(days=1):%a %Y-%m-%d}") for when, _, _ in found)


def test_the_courses_minimum_interval_keeps_openings_away_from_the_clients_other_sessions(app, week, login):
    client = week.client(first="Course", consents=[KEY])
    week.booked(client, KEY, when=_at(week, 9, day=week.day + timedelta(days=3)))
    login("manager").post("/admin/settings/", data={"testmod.interval_days": "3"})
    page, found = _openings(login("front_desk"), week, client)
    days = sorted({when[4:14] for when, _, _ in found})
    booked_day = week.day + timedelta(days=3)
    assert days and all(abs((datetime.fromisoformat(d).date() - booked_day).days) >= 3 for d in days)


def test_an_opening_books_in_one_click_with_everything_filled_in(app, week, login, staff):
    client = week.client(first="Click", consents=[KEY])
    http = login("front_desk")
    page, found = _openings(http, week, client)
    link = html.unescape(re.search(r'href="(/admin/desk/book\?[^"]+)">Book this', page).group(1))
    form = html.unescape(http.get(link).get_data(as_text=True))
    assert f'value="{week.day.isoformat()}T09:00"' in form
    response = http.post(
        "/admin/desk/book",
        data={
            "client": str(client.id),
            "modality": KEY,
            "practitioner": str(staff["practitioner"].id),
            "location": str(week.location.id),
            "scheduled_at": f"{week.day.isoformat()}T09:00",
        },
    )
    assert response.status_code == 302
    treatment = db.session.execute(db.select(Treatment).where(Treatment.client_id == client.id)).scalar_one()
    assert treatment.scheduled_at == _at(week, 9)
    _, again = _openings(http, week, client)
    assert not any(when.endswith(f"{week.day.isoformat()} 09:00") for when, _, _ in again)


def test_the_page_asks_for_what_it_needs_and_never_fails(app, week, login):
    http = login("front_desk")
    assert http.get("/admin/desk/find").status_code == 200
    for args in (
        {"client": "999999", "modality": KEY},
        {"client": "x", "modality": "nope"},
        {"client": "1", "modality": KEY, "first_day": "9999-99-99"},
        {"client": "1", "location": "abc"},
    ):
        response = http.get("/admin/desk/find", query_string=args)
        assert response.status_code in (200, 400), args
        assert "Openings" not in response.get_data(as_text=True), args


def test_openings_stay_within_the_booking_window_and_a_day_outside_it_is_a_message(app, week, login):
    # A far "From" day was a page of nothing but "out of range"; days past the window were offered, then refused.
    login("manager").post("/admin/settings/", data={"core.booking_days_ahead": "3"})
    http = login("front_desk")
    client = week.client(first="Seeker", consents=[KEY])
    today = datetime.now(week.tz).date()
    page, found = _openings(http, week, client)
    assert found and {when[4:14] for when, _, _ in found} <= {(today + timedelta(days=d)).isoformat() for d in range(4)}
    for far in ("9999-12-31", "0001-01-01", (today + timedelta(days=30)).isoformat()):
        response = http.get(
            "/admin/desk/find",
            query_string={"client": client.id, "modality": KEY, "location": week.location.id, "first_day": far},
        )
        text = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 200 and "booking window" in text and "Openings" not in text, far
