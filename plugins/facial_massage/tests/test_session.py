"""A facial massage session through the pages: the form (its areas on a chart), the oil taken from stock, the report,
aftercare."""

from datetime import UTC, datetime

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import StockLot, Treatment

KEY = "facial_massage"


def _record(fm, **extra):
    data = {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-techniques": ["lymphatic_drainage", "sinus_pressure_points"],
        "details-areas": ["face", "neck"],
        "details-duration_minutes": "45",
        "details-pressure": "light",
        "details-product": fm.oil.id,
        "details-product_ml": "2.5",
        "notes": "",
        "acknowledgement_note": "",
    }
    data.update(extra)
    return data


def _oil():
    db.session.expire_all()
    return db.session.execute(db.select(StockLot.quantity)).scalar_one()


def test_a_session_uses_its_oil_and_shows_in_the_report(fm, login):
    fm.lot(fm.oil, "O1", 100)
    treatment = fm.booked(fm.client(consents=[KEY]), KEY)
    http = login("practitioner")
    form = http.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    assert '<figure class="diagram diagram-form" data-field="details-areas">' in form  # the areas, tapped on a figure
    assert form.count('class="diagram-shape diagram-region" data-code="hands"') == 2
    assert http.post(f"/admin/desk/{treatment.id}/record", data=_record(fm)).status_code == 302
    assert _oil() == 97.5
    page = http.get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    assert "Lymphatic drainage, Sinus pressure points" in page
    assert 'aria-label="Areas treated: Face, Neck"' in page
    assert 'class="diagram-shape diagram-region chosen" data-code="neck"' in page
    report = login("manager").get("/admin/reports/facial-massage-techniques").get_data(as_text=True)
    assert f"<td>{datetime.now(UTC).date():%Y-%m}</td><td>1</td><td>1</td><td>1</td><td>0</td><td>45</td>" in report
    assert "Drink plenty of water today." in http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)


def test_a_session_without_oil_uses_no_stock(fm, login):
    fm.lot(fm.oil, "O1", 100)
    treatment = fm.booked(fm.client(consents=[KEY]), KEY)
    response = login("practitioner").post(
        f"/admin/desk/{treatment.id}/record", data=_record(fm, **{"details-product": "", "details-product_ml": ""})
    )
    assert response.status_code == 302 and _oil() == 100


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"details-techniques": []}, "Choose at least one technique."),
        ({"details-areas": []}, "Choose at least one area."),
        ({"details-duration_minutes": "500"}, "Number must be between 5 and 180."),
        ({"details-product_ml": ""}, "Give the amount of oil, serum or cream used."),
        ({"details-product_ml": "NaN"}, "Enter a number."),
    ],
)
def test_the_form_refuses_bad_details_and_writes_nothing(fm, login, bad, message):
    fm.lot(fm.oil, "O1", 100)
    treatment = fm.booked(fm.client(consents=[KEY]), KEY)
    response = login("practitioner").post(f"/admin/desk/{treatment.id}/record", data=_record(fm, **bad))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _oil() == 100 and db.session.get(Treatment, treatment.id).status == "booked"


def test_neck_work_with_hyperthyroidism_is_blocked_at_recording(fm, login):
    fm.lot(fm.oil, "O1", 100)
    treatment = fm.booked(fm.client(history=[("hyperthyroidism", None)], consents=[KEY]), KEY)
    http = login("practitioner")
    response = http.post(f"/admin/desk/{treatment.id}/record", data=_record(fm, acknowledgement_note="Face only"))
    assert "Hyperthyroidism: the neck must not be massaged." in response.get_data(as_text=True)
    assert _oil() == 100
    done = http.post(
        f"/admin/desk/{treatment.id}/record",
        data=_record(fm, **{"details-areas": ["face"], "acknowledgement_note": "Face only"}),
    )
    assert done.status_code == 302 and _oil() == 97.5
