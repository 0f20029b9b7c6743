"""A dry needling session through the pages: the form, needles taken from stock, the report, aftercare."""

from datetime import UTC, datetime

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import StockLot, Treatment

KEY = "dry_needling"


def _record(dn, **extra):
    data = {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-muscles": ["upper_trapezius", "infraspinatus"],
        "details-side": "left",
        "details-needle_product": dn.needle.id,
        "details-needles": "5",
        "details-technique": "pistoning",
        "details-twitch_response": "y",
        "details-soreness_after": "4",
        "notes": "",
        "acknowledgement_note": "",
    }
    data.update(extra)
    return data


def _needles():
    db.session.expire_all()
    return db.session.execute(db.select(StockLot.quantity)).scalar_one()


def test_a_session_uses_its_needles_and_shows_in_the_report(dn, login):
    dn.lot(dn.needle, "N1", 100)
    treatment = dn.booked(dn.client(consents=[KEY]), KEY)
    http = login("practitioner")
    assert http.post(f"/admin/desk/{treatment.id}/record", data=_record(dn)).status_code == 302
    assert _needles() == 95
    page = http.get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    assert "Upper trapezius, Infraspinatus" in page and "In and out (pistoning)" in page
    report = login("manager").get("/admin/reports/dry-needling-muscles").get_data(as_text=True)
    assert "<td>Infraspinatus</td><td>1</td><td>1</td><td>1</td>" in report
    assert "Muscle soreness" in http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"details-muscles": []}, "Choose at least one muscle."),
        ({"details-needles": "0"}, "Number must be between 1 and 100."),
        ({"details-soreness_after": "11"}, "Number must be between 0 and 10."),
        ({"details-needle_product": ""}, "This field is required."),
    ],
)
def test_the_form_refuses_bad_details_and_writes_nothing(dn, login, bad, message):
    dn.lot(dn.needle, "N1", 100)
    treatment = dn.booked(dn.client(consents=[KEY]), KEY)
    response = login("practitioner").post(f"/admin/desk/{treatment.id}/record", data=_record(dn, **bad))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _needles() == 100 and db.session.get(Treatment, treatment.id).status == "booked"
