"""A prolotherapy session through the pages: the form, the solution and needles taken from stock, the report."""

from datetime import UTC, datetime

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import StockException, StockLot, Treatment

KEY = "prolotherapy"


def _record(pt, **extra):
    data = {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-sites": ["knee", "hip"],
        "details-side": "left",
        "details-solution_product": pt.dextrose.id,
        "details-dextrose_percent": "15",
        "details-volume_ml": "10",
        "details-injections": "8",
        "details-needle_product": pt.needle.id,
        "details-needles": "2",
        "details-local_anaesthetic": "y",
        "notes": "",
        "acknowledgement_note": "",
    }
    data.update(extra)
    return data


def _stock():
    db.session.expire_all()
    return dict(db.session.execute(db.select(StockLot.lot_number, StockLot.quantity)).all())


def test_a_session_uses_its_solution_and_shows_in_the_report(pt, login):
    pt.lot(pt.dextrose, "D1", 50)
    pt.lot(pt.needle, "N1", 100)
    treatment = pt.booked(pt.client(consents=[KEY]), KEY)
    http = login("practitioner")
    assert http.post(f"/admin/desk/{treatment.id}/record", data=_record(pt)).status_code == 302
    assert _stock() == {"D1": 40, "N1": 98}
    assert "Knee, Hip" in http.get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    report = login("manager").get("/admin/reports/prolotherapy-sites").get_data(as_text=True)
    assert "<td>Knee</td><td>1</td><td>1</td><td>5.0</td>" in report
    sheet = http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert "NSAIDs" in sheet and "No heavy activity or strenuous exercise for 3 days" in sheet


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"details-sites": []}, "Choose at least one injection site."),
        ({"details-dextrose_percent": "75"}, "Dextrose concentration must be 5 to 50 percent."),
        ({"details-volume_ml": "0"}, "Number must be between 0.5 and 60."),
        ({"details-solution_product": ""}, "This field is required."),
        ({"details-needles": ""}, "Give the amount of needles used."),
    ],
)
def test_the_form_refuses_bad_details_and_writes_nothing(pt, login, bad, message):
    pt.lot(pt.dextrose, "D1", 50)
    pt.lot(pt.needle, "N1", 100)
    treatment = pt.booked(pt.client(consents=[KEY]), KEY)
    response = login("practitioner").post(f"/admin/desk/{treatment.id}/record", data=_record(pt, **bad))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _stock() == {"D1": 50, "N1": 100} and db.session.get(Treatment, treatment.id).status == "booked"


def test_too_little_solution_still_records_the_session_and_the_rest_is_a_stock_exception(pt, login):
    pt.lot(pt.dextrose, "D1", 5)
    pt.lot(pt.needle, "N1", 100)
    pt.lot(pt.needle, "N2", 100)
    treatment = pt.booked(pt.client(consents=[KEY]), KEY)
    n2 = db.session.execute(db.select(StockLot.id).where(StockLot.lot_number == "N2")).scalar_one()
    response = login("practitioner").post(
        f"/admin/desk/{treatment.id}/record", data=_record(pt, **{"lots-needle_product": n2}), follow_redirects=True
    )
    assert "5 mL of " in response.get_data(as_text=True) and "is a stock exception" in response.get_data(as_text=True)
    # The 5 mL on file are taken, the needles from the lot the practitioner opened; 5 mL are owed.
    assert _stock() == {"D1": 0, "N1": 100, "N2": 98}
    assert db.session.get(Treatment, treatment.id).status == "performed"
    assert db.session.execute(db.select(StockException.product_id, StockException.quantity)).all() == [
        (pt.dextrose.id, 5)
    ]
