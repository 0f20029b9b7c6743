"""The booking form (issue 15, item 9): the menu's "Book a treatment" opens it, and it offers, preselects and accepts
only practitioners certified for the chosen modality on the booking's day, with or without JavaScript."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_security import hash_password

from clinicadmin.demo import _role
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, FormSubmission, Treatment
from clinicadmin.testing import TEST_PASSWORD, StaffClient

KEY = "testmod"


@pytest.fixture
def uncertified(core):
    """A second practitioner, with no certification."""
    user = core.app.security.datastore.create_user(
        email="uncertified@test.example.com",
        full_name="Una Uncertified",
        password=hash_password(TEST_PASSWORD),
        roles=[_role("practitioner")],
        location=core.location,
    )
    db.session.commit()
    return user


def _options(page):
    """{practitioner option text: selected?} of the practitioner select, without its empty "choose" option."""
    select = re.search(r'<select[^>]*name="practitioner".*?</select>', page, re.S).group(0)
    return {
        html.unescape(text).strip(): "selected" in attrs
        for attrs, text in re.findall(r"<option([^>]*)>(.*?)</option>", select, re.S)
        if 'value=""' not in attrs
    }


def _form(client, practitioner, location, when, **extra):
    return {
        "client": str(client.id),
        "modality": KEY,
        "practitioner": str(practitioner.id),
        "location": str(location.id),
        "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
        **extra,
    }


def _booked():
    return db.session.execute(db.select(db.func.count()).select_from(Treatment)).scalar()


def test_the_menus_book_a_treatment_opens_the_booking_form(core, login):
    desk = login("front_desk")
    home = desk.get("/admin/", follow_redirects=True).get_data(as_text=True)  # the front desk's home
    link = re.search(r'<a class="dropdown-item[^"]*" href="([^"]+)">\s*Book a treatment</a>', home)  # the menu
    page = desk.get(link.group(1))
    assert page.status_code == 200, link.group(1)
    text = page.get_data(as_text=True)
    assert "Book and screen" in text and 'name="client"' in text and 'name="practitioner"' in text
    client = core.client(consents=[KEY])
    when = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    response = desk.post(link.group(1), data=_form(client, core.staff["practitioner"], core.location, when))
    assert response.status_code == 302 and _booked() == 1


def test_nobody_uncertified_is_offered_or_preselected(core, uncertified):
    certified = core.staff["practitioner"]
    mine = StaffClient(core.app, uncertified.email)
    known = _options(mine.get(f"/admin/desk/book?modality={KEY}").get_data(as_text=True))
    assert str(certified) in known and str(uncertified) not in known
    assert not any(known.values())  # the uncertified practitioner is not preselected, and nobody else is
    unknown = _options(mine.get("/admin/desk/book").get_data(as_text=True))
    assert unknown[f"{certified} (Test modality)"] is False
    assert unknown[f"{uncertified} (no valid certification)"] is False
    for url in ("/admin/desk/book", f"/admin/desk/book?modality={KEY}"):
        theirs = _options(StaffClient(core.app, certified.email).get(url).get_data(as_text=True))
        assert [text for text, chosen in theirs.items() if chosen][0].startswith(str(certified)), url


def test_booking_an_uncertified_practitioner_is_refused_in_words_and_writes_nothing(core, login, uncertified):
    client = core.client(consents=[KEY])
    when = (datetime.now(UTC) + timedelta(days=2)).replace(hour=11, minute=0, second=0, microsecond=0)
    response = login("front_desk").post("/admin/desk/book", data=_form(client, uncertified, core.location, when))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert (
        f"Una Uncertified holds no certification for Test modality valid on {when.date().isoformat()}; "
        "choose a practitioner certified for it."
    ) in page
    assert _booked() == 0 and db.session.execute(db.select(db.func.count()).select_from(FormSubmission)).scalar() == 0
    assert not db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "treatment.book")).first()
    assert str(uncertified) not in _options(response.get_data(as_text=True))  # the list is now the certified ones


def test_certification_is_judged_on_the_bookings_day(core, login):
    practitioner = core.staff["practitioner"]  # certified for 365 days from today
    client = core.client(consents=[KEY])
    desk = login("front_desk")
    later = (datetime.now(UTC) + timedelta(days=400)).replace(hour=9, minute=0, second=0, microsecond=0)
    refused = desk.post("/admin/desk/book", data=_form(client, practitioner, core.location, later))
    assert refused.status_code == 200 and "holds no certification for Test modality valid on" in html.unescape(
        refused.get_data(as_text=True)
    )
    assert "Nobody is certified for Test modality" in refused.get_data(as_text=True)
    soon = later - timedelta(days=390)
    assert desk.post("/admin/desk/book", data=_form(client, practitioner, core.location, soon)).status_code == 302
    assert _booked() == 1


def test_without_javascript_the_form_narrows_the_list_to_the_certified(core, login, uncertified):
    client = core.client(consents=[KEY])
    when = (datetime.now(UTC) + timedelta(days=3)).replace(hour=14, minute=0, second=0, microsecond=0)
    data = _form(client, uncertified, core.location, when, refresh="1")
    response = login("front_desk").post("/admin/desk/book", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and _booked() == 0
    options = _options(page)
    assert str(core.staff["practitioner"]) in options and str(uncertified) not in options
    assert not any(options.values()) and "holds no certification" not in page
    assert f'value="{when.strftime("%Y-%m-%dT%H:%M")}"' in page  # what was typed is kept
