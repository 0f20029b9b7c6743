"""What the front desk answers when a prolotherapy session is booked (the sites, the anaesthetic) is screened at
booking, kept with the booking, and shown pre-filled on the recording form."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import Treatment

KEY = "prolotherapy"


def _book(pt, http, client, **details):
    when = (datetime.now(UTC) + timedelta(days=2)).replace(hour=11, minute=0, second=0, microsecond=0)
    data = {
        "client": str(client.id),
        "modality": KEY,
        "practitioner": str(pt.staff["practitioner"].id),
        "location": str(pt.location.id),
        "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
        "questions_for": KEY,  # as the page showing the booking questions sends it
        **{f"details-{name}": value for name, value in details.items()},
    }
    return http.post("/admin/desk/book", data=data)


def _treatments():
    db.session.expire_all()
    return db.session.execute(db.select(Treatment)).scalars().all()


def test_the_booking_form_asks_the_sites_once_the_modality_is_chosen(pt, login):
    page = login("front_desk").get(f"/admin/desk/book?modality={KEY}").get_data(as_text=True)
    assert 'name="details-sites"' in page and 'name="details-local_anaesthetic"' in page
    assert 'name="details-sites"' not in login("front_desk").get("/admin/desk/book").get_data(as_text=True)


@pytest.mark.parametrize("sites, status", [(["lower_back", "knee"], "blocked"), (["knee"], "warnings")])
def test_pregnancy_blocks_injections_at_the_lower_back_only(pt, login, sites, status):
    client = pt.client(history=[("pregnancy", 60)], consents=[KEY])
    response = _book(pt, login("front_desk"), client, sites=sites)
    assert response.status_code == 302
    [treatment] = _treatments()
    assert treatment.screening_status == status and treatment.details["sites"] == sites
    page = html.unescape(login("practitioner").get(f"/admin/desk/{treatment.id}").get_data(as_text=True))
    if status == "blocked":
        assert "Pregnancy: no injections at the lower back or pelvis (lower back / sacroiliac)." in page
    else:
        assert "Pregnancy: discuss with the client's physician; avoid the lower back and pelvis." in page


@pytest.mark.parametrize(
    "details, message", [({}, "Choose at least one injection site."), ({"sites": ["moon"]}, "is not a valid choice")]
)
def test_bad_booking_answers_say_why_and_book_nothing(pt, login, details, message):
    response = _book(pt, login("front_desk"), pt.client(consents=[KEY]), **details)
    assert response.status_code == 200 and message in html.unescape(response.get_data(as_text=True))
    assert _treatments() == []


def test_an_anaesthetic_allergy_blocks_only_a_solution_with_anaesthetic(pt):
    client = pt.client(history=[("allergy_anesthetic", None)], consents=[KEY])
    first = pt.booked(client, KEY, details={"sites": ["knee"], "local_anaesthetic": True})
    codes = {(f.code, f.severity) for f in first.current_findings()}
    assert ("prolotherapy.allergy_anesthetic", "block") in codes
    later = pt.booked(
        client,
        KEY,
        when=datetime.now(UTC) + timedelta(days=30),
        details={"sites": ["knee"], "local_anaesthetic": False},
    )
    assert ("prolotherapy.allergy_anesthetic", "warn") in {(f.code, f.severity) for f in later.current_findings()}


def test_the_answers_are_pre_filled_on_the_recording_form_and_kept_when_recorded(pt, login):
    pt.lot(pt.dextrose, "D1", 50)
    assert (
        _book(
            pt, login("front_desk"), pt.client(consents=[KEY]), sites=["knee", "hip"], local_anaesthetic="y"
        ).status_code
        == 302
    )
    [treatment] = _treatments()
    http = login("practitioner")
    form = http.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    checked = set(re.findall(r'<input checked[^>]*name="details-(\w+)"[^>]*value="(\w+)"', form))
    assert {("sites", "knee"), ("sites", "hip"), ("local_anaesthetic", "y")} <= checked
    assert ("sites", "shoulder") not in checked
    data = {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-sites": ["knee"],
        "details-side": "left",
        "details-solution_product": pt.dextrose.id,
        "details-dextrose_percent": "15",
        "details-volume_ml": "10",
        "details-injections": "8",
        "details-local_anaesthetic": "y",
        "notes": "",
        "acknowledgement_note": "",
    }
    assert http.post(f"/admin/desk/{treatment.id}/record", data=data).status_code == 302
    [treatment] = _treatments()
    assert treatment.status == "performed" and treatment.details["sites"] == ["knee"]
    assert treatment.details["local_anaesthetic"] is True


def test_moving_a_booking_keeps_its_answers_and_screens_them_again(pt, login):
    client = pt.client(history=[("pregnancy", 60)], consents=[KEY])
    assert _book(pt, login("front_desk"), client, sites=["hip"]).status_code == 302
    [treatment] = _treatments()
    later = (treatment.scheduled_at + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = login("front_desk").post(
        f"/admin/desk/{treatment.id}/move",
        data={
            "scheduled_at": later,
            "practitioner": str(pt.staff["practitioner"].id),
            "location": str(pt.location.id),
            "expected_at": treatment.scheduled_at.isoformat(),
            "reason": "client asked",
        },
    )
    assert response.status_code == 302
    [moved] = _treatments()
    assert moved.scheduled_at.strftime("%Y-%m-%dT%H:%M") == later
    assert moved.details == {"sites": ["hip"], "local_anaesthetic": False}
    assert moved.screening_status == "blocked"
    assert any(f.code == "prolotherapy.pregnancy" and f.severity == "block" for f in moved.current_findings())
