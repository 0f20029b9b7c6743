"""Courses: planned through the admin, booked session by session, with done and remaining, and screening that holds
sessions apart by the course's interval (or the clinic's setting) and notices a course that is complete."""

import re
from datetime import UTC, datetime, timedelta

from clinicadmin.extensions import db
from clinicadmin.models import Course, Treatment
from clinicadmin.treatment_flow import record

KEY = "testmod"


def _codes(treatment):
    return {f.code for f in treatment.current_findings()}


def _perform(core, treatment):
    record(
        treatment,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=treatment.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )


def _plan(http, client, sessions="2", interval=""):
    return http.post(
        "/admin/course/new/",
        data={
            "client": client.id,
            "modality": KEY,
            "planned_sessions": sessions,
            "min_interval_days": interval,
            "started_on": datetime.now(UTC).date().isoformat(),
            "notes": "Texture",
        },
    )


def test_a_course_is_planned_booked_session_by_session_and_counted(core, login):
    core.lot(core.supply, "L", 10)
    client = core.client(first="Cora", consents=[KEY])
    practitioner = login("practitioner")
    assert _plan(practitioner, client).status_code == 302
    course = db.session.execute(db.select(Course)).scalar_one()
    listing = practitioner.get("/admin/course/").get_data(as_text=True)
    assert "Book next session" in listing and "clinic setting" in listing
    booking_page = login("front_desk").get(f"/admin/desk/book?client_id={client.id}&course_id={course.id}")
    assert "Test modality course\n  (0 of 2 done)" in booking_page.get_data(as_text=True)
    response = login("front_desk").post(
        "/admin/desk/book",
        data={
            "client": client.id,
            "modality": KEY,
            "practitioner": core.staff["practitioner"].id,
            "location": core.location.id,
            "scheduled_at": (datetime.now(UTC) - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M"),
            "course": course.id,
        },
    )
    assert response.status_code == 302
    first = db.session.execute(db.select(Treatment)).scalar_one()
    assert first.course_id == course.id
    _perform(core, first)
    second = core.booked(client, KEY, when=datetime.now(UTC) - timedelta(days=1))
    second.course = course
    db.session.commit()
    _perform(core, second)
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert (course.sessions_done, course.sessions_remaining) == (2, 0)
    row = re.search(
        r"<tr>(?:(?!</tr>).)*Cora(?:(?!</tr>).)*</tr>",
        practitioner.get("/admin/course/").get_data(as_text=True),
        flags=re.S,
    ).group(0)
    assert "complete" in row and "Book next session" not in row
    # A third session of a two-session course is flagged.
    third = core.booked(client, KEY)
    third.course = course
    db.session.commit()
    from clinicadmin.treatment_flow import rescreen

    rescreen(third)
    assert "course-complete" in _codes(third)


def test_a_course_may_be_planned_with_the_modalitys_usual_sessions(core, login):
    assert _plan(login("manager"), core.client(consents=[KEY]), sessions="").status_code == 200  # no default: asked
    assert db.session.execute(db.select(Course)).first() is None


def test_the_courses_own_interval_overrides_the_setting(core, login):
    core.lot(core.supply, "L", 10)
    client = core.client(consents=[KEY])
    _plan(login("manager"), client, sessions="6", interval="21")
    course = db.session.execute(db.select(Course)).scalar_one()
    last = core.booked(client, KEY, when=datetime.now(UTC) - timedelta(days=9))
    last.course = course
    db.session.commit()
    _perform(core, last)
    # 9 days is more than the setting's 7, but less than the course's 21.
    plain = core.booked(core.client(first="Other", consents=[KEY]), KEY)
    assert "course-interval-too-short" not in _codes(plain)
    from clinicadmin.treatment_flow import book

    in_course = book(
        client=client,
        modality=KEY,
        practitioner=core.staff["practitioner"],
        location=core.location,
        scheduled_at=datetime.now(UTC) + timedelta(hours=1),
        user=core.staff["manager"],
        course=course,
    )
    finding = next(f for f in in_course.current_findings() if f.code == "course-interval-too-short")
    assert "9 days before this one" in finding.message and "minimum interval is 21 days" in finding.message


def test_two_bookings_too_close_together_are_flagged(core):
    client = core.client(consents=[KEY])
    core.booked(client, KEY, when=datetime.now(UTC) + timedelta(days=10))
    early = core.booked(client, KEY, when=datetime.now(UTC) + timedelta(days=7))
    finding = next(f for f in early.current_findings() if f.code == "course-interval-too-short")
    assert "3 days after this one" in finding.message
    later = core.booked(client, KEY, when=datetime.now(UTC) + timedelta(days=30))
    assert "course-interval-too-short" not in _codes(later)


def test_a_course_cannot_be_booked_for_another_client(core, login):
    mine, theirs = core.client(first="Mine", consents=[KEY]), core.client(first="Theirs", consents=[KEY])
    _plan(login("manager"), mine)
    course = db.session.execute(db.select(Course)).scalar_one()
    response = login("front_desk").post(
        "/admin/desk/book",
        data={
            "client": theirs.id,
            "modality": KEY,
            "practitioner": core.staff["practitioner"].id,
            "location": core.location.id,
            "scheduled_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
            "course": course.id,
        },
    )
    assert "That course belongs to another client or modality." in response.get_data(as_text=True)
    assert db.session.execute(db.select(Treatment)).first() is None
