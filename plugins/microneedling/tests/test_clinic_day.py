"""The clinic day of issue 2, through the browser's HTTP requests: client, stock, booking, screening, recording,
stock deducted from the right lots, aftercare, reports."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import Client, StockException, StockLot, StockMovement, Treatment

KEY = "microneedling"


def _record(cartridge, serum=None, serum_ml="", depth="1.0", **extra):
    data = {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-device": "pen",
        "details-needle_product": cartridge.id,
        "details-needle_depth_mm": depth,
        "details-areas": ["face", "neck"],
        "details-passes": "3",
        "details-serum_product": serum.id if serum else "",
        "details-serum_ml": serum_ml,
        "details-anesthetic_product": "",
        "details-anesthetic_amount": "",
        "details-skin_reaction": "mild_erythema",
        "details-reaction_notes": "",
        "notes": "Went well",
        "acknowledgement_note": "",
    }
    data.update(extra)
    return data


def test_a_managers_clinic_day(mn, login):
    http = login("manager")
    expiry = (datetime.now(UTC).date() + timedelta(days=400)).isoformat()
    # A client with a health history.
    assert (
        http.post(
            "/admin/client/new/",
            data={
                "first_name": "Ivy",
                "last_name": "Diaz",
                "date_of_birth": "1990-01-02",
                "intake_reviewed_on": datetime.now(UTC).date().isoformat(),
                "health_entries-0-code": "diabetes",
                "health_entries-0-onset": "2015-06-01",
            },
        ).status_code
        == 302
    )
    client = db.session.execute(db.select(Client)).scalar_one()
    http.post(
        "/admin/consent/new/",
        data={"client": client.id, "modality": KEY, "signed_on": datetime.now(UTC).date().isoformat()},
    )
    # A box of 10 cartridges and a serum, plus an older cartridge lot that expires sooner.
    assert (
        http.post(
            "/admin/receive/",
            data={
                "product": mn.cartridge.id,
                "location": mn.location.id,
                "supplier": mn.supplier().id,
                "lot_number": "C-NEW",
                "expires_on": expiry,
                "packs": "1",
            },
        ).status_code
        == 302
    )
    http.post(
        "/admin/receive/",
        data={
            "product": mn.cartridge.id,
            "location": mn.location.id,
            "supplier": mn.supplier().id,
            "lot_number": "C-OLD",
            "expires_on": (datetime.now(UTC).date() + timedelta(20)).isoformat(),
            "packs": "1",
        },
    )
    http.post(
        "/admin/receive/",
        data={
            "product": mn.serum.id,
            "location": mn.location.id,
            "supplier": mn.supplier().id,
            "lot_number": "S-1",
            "expires_on": expiry,
            "packs": "1",
        },
    )
    # Book: the diabetic client warns.
    response = http.post(
        "/admin/desk/book",
        data={
            "client": client.id,
            "modality": KEY,
            "practitioner": mn.staff["practitioner"].id,
            "location": mn.location.id,
            "scheduled_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    page = http.get(response.headers["Location"]).get_data(as_text=True)
    assert "Diabetes: healing may be slower" in page
    treatment = db.session.execute(db.select(Treatment)).scalar_one()
    assert treatment.screening_status == "warnings"
    # Record with the microneedling form, acknowledging the warning.
    practitioner = login("practitioner")
    form = practitioner.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    assert "Needle depth (mm)" in form and "details-areas" in form
    # Fields keep the plugin's order, including those whose help text the core escapes.
    assert form.index("Device") < form.index("Cartridge or roller used") < form.index("Needle depth (mm)")
    done = practitioner.post(
        f"/admin/desk/{treatment.id}/record",
        data=_record(mn.cartridge, mn.serum, "1.5", acknowledgement_note="HbA1c normal; 1.0 mm"),
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    db.session.expire_all()
    left = dict(db.session.execute(db.select(StockLot.lot_number, StockLot.quantity)).all())
    assert left == {"C-NEW": 10, "C-OLD": 9, "S-1": 28.5}
    recorded = db.session.get(Treatment, treatment.id)
    assert recorded.status == "performed"
    assert Decimal(recorded.details["needle_depth_mm"]) == 1 and recorded.details["areas"] == ["face", "neck"]
    page = http.get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    assert "C-OLD" in page and "S-1" in page
    # The recorded details read as the form asked them: labels, choice labels and product names, not ids.
    for shown in (
        "Needle depth (mm)",
        "Microneedling pen (cartridge)",
        "Face, Neck",
        "Product SERUM [SERUM]",
        "Mild erythema",
    ):
        assert shown in page, shown
    aftercare = http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert "No make-up for at least 1 day" in aftercare and "Ivy Diaz" in aftercare
    stock = http.get("/admin/reports/stock-on-hand").get_data(as_text=True)
    assert "Product CART" in stock and "19 cartridge" in stock
    report = http.get("/admin/reports/microneedling-sessions").get_data(as_text=True)
    assert f"<td>{datetime.now(UTC).date():%Y-%m}</td>" in report and "<td>1.00</td>" in report


def test_a_pregnant_client_is_blocked(mn, login):
    client = mn.client(history=[("pregnancy", 60)], consents=[KEY])
    mn.lot(mn.cartridge, "C", 10)
    treatment = mn.booked(client, KEY)
    assert treatment.screening_status == "blocked"
    response = login("practitioner").post(f"/admin/desk/{treatment.id}/record", data=_record(mn.cartridge))
    assert "Pregnancy: microneedling must not be performed." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 10


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"details-needle_depth_mm": "0.2"}, "Needle depth must be 0.25 to 2.5 mm."),
        ({"details-needle_depth_mm": "2.6"}, "Needle depth must be 0.25 to 2.5 mm."),
        ({"details-needle_depth_mm": "NaN"}, "Enter a number."),
        ({"details-areas": []}, "Choose at least one area."),
        ({"details-serum_ml": "1"}, "Choose the serum product"),
        ({"details-device": "hammer"}, "Not a valid choice"),
        ({"details-passes": "0"}, "Number must be between 1 and 10."),
        ({"details-needle_product": ""}, "This field is required."),
        ({"details-device": "roller"}, "A roller uses a roller; Product CART is a cartridge."),
        ({"details-anesthetic_amount": "2"}, "Choose the numbing gel product, or leave the amount empty."),
    ],
)
def test_the_form_refuses_bad_details(mn, login, bad, message):
    mn.lot(mn.cartridge, "C", 10)
    treatment = mn.booked(mn.client(consents=[KEY]), KEY)
    response = login("practitioner").post(f"/admin/desk/{treatment.id}/record", data=_record(mn.cartridge, **bad))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).status == "booked"


def test_serum_needs_its_amount(mn, login):
    mn.lot(mn.cartridge, "C", 10)
    treatment = mn.booked(mn.client(consents=[KEY]), KEY)
    response = login("practitioner").post(f"/admin/desk/{treatment.id}/record", data=_record(mn.cartridge, mn.serum))
    assert "Give the amount of serum used." in response.get_data(as_text=True)


def test_no_cartridge_in_date_still_records_the_session_and_opens_a_stock_exception(mn, login):
    mn.lot(mn.cartridge, "OLD", 10, expires_in_days=-2)
    treatment = mn.booked(mn.client(consents=[KEY]), KEY)
    response = login("practitioner").post(
        f"/admin/desk/{treatment.id}/record", data=_record(mn.cartridge), follow_redirects=True
    )
    assert "1 cartridge of Product CART used is a stock exception" in response.get_data(as_text=True)
    db.session.expire_all()
    recorded = db.session.get(Treatment, treatment.id)
    assert recorded.status == "performed" and recorded.notes == "Went well"
    assert db.session.execute(db.select(db.func.count()).select_from(StockMovement)).scalar() == 1  # the receipt
    assert db.session.execute(db.select(StockException.quantity, StockException.product_id)).all() == [
        (1, mn.cartridge.id)
    ]


def test_aftercare_never_tells_clients_to_avoid_sunscreen(mn, login):
    treatment = mn.booked(mn.client(consents=[KEY]), KEY)
    sheet = login("practitioner").get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True).lower()
    assert "sunscreen" in sheet and "no sunscreen" not in sheet and "avoid sunscreen" not in sheet


@pytest.mark.parametrize("app_config", [{}])
def test_demo_clinic_has_todays_screening_cases(app):
    from clinicadmin.demo import FIRST, LAST, load_demo
    from clinicadmin.models import Client

    load_demo()
    # This plugin's three cases (the demo's first, fourth and twenty-first clients), among the week the demo books.
    names = [(FIRST[i], LAST[i]) for i in (0, 3, 20)]
    tomorrow = (
        db.session.execute(
            db.select(Treatment)
            .join(Client, Client.id == Treatment.client_id)
            .where(
                Treatment.status == "booked",
                Treatment.modality == KEY,
                db.tuple_(Client.first_name, Client.last_name).in_(names),
            )
            .order_by(Treatment.scheduled_at)
        )
        .scalars()
        .all()
    )
    assert [t.screening_status for t in tomorrow][:3] == ["blocked", "warnings", "clear"]
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(Treatment).where(Treatment.status == "performed")
        ).scalar()
        >= 4
    )
