"""A manager's override of the pregnancy block at booking holds for the sites it was given on: recording those
sites is allowed; recording other sites brings the block back with the reason, and nothing is recorded."""

import html
from datetime import UTC, datetime, timedelta

from clinicadmin.extensions import db
from clinicadmin.models import StockLot, Treatment

KEY = "prolotherapy"
REASON = "Physician cleared the hip injections only"


def _booked_and_overridden(pt, login):
    when = (datetime.now(UTC) + timedelta(days=1)).replace(hour=11, minute=0, second=0, microsecond=0)
    client = pt.client(history=[("pregnancy", 60)], consents=[KEY])
    response = login("front_desk").post(
        "/admin/desk/book",
        data={
            "client": str(client.id),
            "modality": KEY,
            "practitioner": str(pt.staff["practitioner"].id),
            "location": str(pt.location.id),
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
            "details-sites": ["hip"],
            "questions_for": KEY,
        },
    )
    assert response.status_code == 302
    treatment = db.session.execute(db.select(Treatment)).scalar_one()
    block = next(f for f in treatment.current_findings() if f.code == f"{KEY}.pregnancy")
    assert block.severity == "block"
    assert login("manager").override(block, REASON).status_code == 302
    pt.d1 = pt.lot(pt.dextrose, "D1", 50)
    return treatment


def _record(pt, login, treatment, sites):
    details = {
        "sites": sites,
        "side": "left",
        "solution_product": pt.dextrose.id,
        "dextrose_percent": "15",
        "volume_ml": "10",
        "injections": "8",
    }
    response = login("practitioner").record(treatment, details)
    db.session.expire_all()
    return response, db.session.get(Treatment, treatment.id)


def test_the_override_holds_for_the_sites_it_was_given_on(pt, login):
    response, treatment = _record(pt, login, _booked_and_overridden(pt, login), ["hip"])
    assert response.status_code == 302 and treatment.status == "performed"
    assert next(f for f in treatment.current_findings() if f.code == f"{KEY}.pregnancy").override_reason == REASON


def test_the_override_does_not_cover_other_sites(pt, login):
    response, treatment = _record(pt, login, _booked_and_overridden(pt, login), ["lower_back", "hip"])
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Pregnancy: no injections at the lower back or pelvis (lower back / sacroiliac, hip)." in page
    assert (
        f"The override given earlier ('{REASON}') no longer holds: the answers changed since it was overridden." in page
    )
    assert treatment.status == "booked" and treatment.details["sites"] == ["hip"]
    assert db.session.get(StockLot, pt.d1.id).quantity == 50  # no stock taken
