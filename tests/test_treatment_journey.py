"""Booking, screening, acknowledging, overriding and recording a treatment, through the HTTP pages."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, ScreeningFinding, StockException, StockLot, StockMovement, Treatment

KEY = "testmod"


def _record_form(product_id, amount="1", **extra):
    data = {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-product": str(product_id),
        "details-amount": str(amount),
        "notes": "",
        "acknowledgement_note": "",
    }
    data.update(extra)
    return data


def _book(http, client, practitioner, location, when=None):
    return http.post(
        "/admin/desk/book",
        data={
            "client": str(client.id),
            "modality": KEY,
            "practitioner": str(practitioner.id),
            "location": str(location.id),
            "scheduled_at": (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M"),
        },
    )


def test_booking_screens_and_shows_the_result(core):
    client = core.client(history=[("diabetes", 400)], consents=[KEY])
    from clinicadmin.testing import StaffClient

    http = StaffClient(core.app, core.staff["practitioner"].email)
    response = _book(http, client, core.staff["practitioner"], core.location)
    assert response.status_code == 302
    treatment = db.session.execute(db.select(Treatment)).scalar_one()
    assert treatment.status == "booked" and treatment.screening_status == "warnings"
    page = http.get(response.headers["Location"]).get_data(as_text=True)
    assert "Diabetic: take care." in page and "WARN" in page


def test_pregnant_client_is_blocked_and_recording_writes_nothing(core, login):
    client = core.client(history=[("pregnancy", 30)], consents=[KEY])
    core.lot(core.supply, "L1", 10)
    treatment = core.booked(client, KEY)
    assert treatment.screening_status == "blocked"
    http = login("practitioner")
    response = http.post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Not recorded; nothing was saved." in page
    assert "Pregnant: not allowed." in page
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).status == "booked"
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 10
    assert db.session.execute(db.select(db.func.count()).select_from(StockMovement)).scalar() == 1  # the receipt


def test_only_a_manager_overrides_a_block_with_a_reason_then_it_records(core, login):
    client = core.client(history=[("pregnancy", 30)], consents=[KEY])
    core.lot(core.supply, "L1", 10)
    treatment = core.booked(client, KEY)
    block = next(f for f in treatment.current_findings() if f.severity == "block")
    practitioner = login("practitioner")
    practitioner.post(f"/admin/desk/{treatment.id}/override", data={"finding_id": block.id, "reason": "doctor said ok"})
    db.session.expire_all()
    assert db.session.get(ScreeningFinding, block.id).overridden_at is None
    manager = login("manager")
    manager.post(f"/admin/desk/{treatment.id}/override", data={"finding_id": block.id, "reason": "short"})
    db.session.expire_all()
    assert db.session.get(ScreeningFinding, block.id).overridden_at is None
    manager.post(
        f"/admin/desk/{treatment.id}/override",
        data={"finding_id": block.id, "reason": "Obstetrician's written clearance on file"},
    )
    db.session.expire_all()
    assert db.session.get(ScreeningFinding, block.id).override_reason == "Obstetrician's written clearance on file"
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "finding.override")).scalar_one()
    response = practitioner.post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, "2"))
    assert response.status_code == 302
    db.session.expire_all()
    recorded = db.session.get(Treatment, treatment.id)
    assert recorded.status == "performed"
    latest = recorded.current_findings()
    assert latest[0].stage == "recording" and latest[0].overridden_at is not None  # carried over, stored anew


def test_a_warning_must_be_acknowledged_before_recording(core, login):
    client = core.client(history=[("diabetes", 400)], consents=[KEY])
    core.lot(core.supply, "L1", 10)
    treatment = core.booked(client, KEY)
    http = login("practitioner")
    refused = http.post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id))
    assert "Warning to acknowledge" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).status == "booked"
    done = http.post(
        f"/admin/desk/{treatment.id}/record",
        data=_record_form(core.supply.id, acknowledgement_note="Glucose checked: 6.1 mmol/L"),
    )
    assert done.status_code == 302
    db.session.expire_all()
    warning = db.session.get(Treatment, treatment.id).current_findings()
    assert [(f.severity, f.acknowledgement_note) for f in warning if f.code == "testmod.diabetes"] == [
        ("warn", "Glucose checked: 6.1 mmol/L")
    ]


def test_recording_consumes_fefo_records_lots_and_shows_them(core, login):
    client = core.client(consents=[KEY])
    later = core.lot(core.supply, "LATE", 5, expires_in_days=300)
    sooner = core.lot(core.supply, "SOON", 2, expires_in_days=20)
    core.lot(core.supply, "EXPIRED", 50, expires_in_days=-1)
    treatment = core.booked(client, KEY)
    assert treatment.screening_status == "clear"
    http = login("practitioner")
    assert http.post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, "3")).status_code == 302
    db.session.expire_all()
    quantities = dict(db.session.execute(db.select(StockLot.lot_number, StockLot.quantity)).all())
    assert quantities == {"LATE": 4, "SOON": 0, "EXPIRED": 50}
    moves = db.session.execute(
        db.select(StockMovement.lot_id, StockMovement.quantity)
        .where(StockMovement.treatment_id == treatment.id)
        .order_by(StockMovement.id)
    ).all()
    assert moves == [(sooner.id, Decimal("-2")), (later.id, Decimal("-1"))]
    page = http.get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    assert "SOON" in page and "LATE" in page and "EXPIRED" not in page


def test_not_enough_stock_never_blocks_the_record_it_becomes_a_stock_exception(core, login):
    client = core.client(consents=[KEY])
    core.lot(core.supply, "L1", 1)
    core.lot(core.supply, "OLD", 9, expires_in_days=-3)
    treatment = core.booked(client, KEY)
    http = login("practitioner")
    response = http.post(
        f"/admin/desk/{treatment.id}/record",
        data={**_record_form(core.supply.id, "2"), "notes": "Findings: mild erythema."},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "1 mL of Product SUP-1 used is a stock exception" in page
    db.session.expire_all()
    recorded = db.session.get(Treatment, treatment.id)
    assert recorded.status == "performed" and recorded.notes == "Findings: mild erythema."
    # The unit in date is taken, the expired lot never; the missing unit is owed, not taken below zero.
    assert dict(db.session.execute(db.select(StockLot.lot_number, StockLot.quantity)).all()) == {"L1": 0, "OLD": 9}
    assert db.session.execute(db.select(StockException.quantity, StockException.treatment_id)).all() == [
        (1, treatment.id)
    ]


def test_plugin_form_validation_rejects_bad_details(core, login):
    client = core.client(consents=[KEY])
    core.lot(core.supply, "L1", 10)
    treatment = core.booked(client, KEY)
    http = login("practitioner")
    for amount in ("-1", "NaN", "abc", "1000000"):
        response = http.post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, amount))
        assert response.status_code == 200
    future = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = http.post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, performed_at=future))
    assert "cannot be recorded as performed in the future" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).status == "booked"
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 10


def test_aftercare_sheet_comes_from_the_plugin(core, login):
    treatment = core.booked(core.client(first="Ada", consents=[KEY]), KEY)
    page = login("practitioner").get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert "Rest for a day." in page and "Drink water." in page and "Ada" in page


def test_front_desk_books_but_does_not_see_findings_or_record(core, login):
    client = core.client(history=[("pregnancy", 30)], consents=[KEY])
    http = login("front_desk")
    response = _book(http, client, core.staff["practitioner"], core.location)
    assert response.status_code == 302
    page = http.get(response.headers["Location"]).get_data(as_text=True)
    assert "blocked" in page and "Pregnant: not allowed." not in page
    treatment = db.session.execute(db.select(Treatment)).scalar_one()
    http.post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id))
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).status == "booked"


def test_booking_from_a_clients_record_starts_with_that_client(core, login):
    client = core.client(first="Wren", last="Abara", consents=[KEY])
    http = login("front_desk")
    for record in (f"/admin/client_desk/details/?id={client.id}", f"/admin/client/details/?id={client.id}"):
        viewer = http if "desk" in record else login("practitioner")
        assert f"/admin/desk/book?client_id={client.id}" in viewer.get(record).get_data(as_text=True)
    page = http.get(f"/admin/desk/book?client_id={client.id}").get_data(as_text=True)
    assert f'value="{client.id}"' in page and "Abara, Wren" in page
    assert "Abara" not in http.get("/admin/desk/book?client_id=x").get_data(as_text=True)


def test_a_treatment_entered_in_error_is_archived_not_deleted(core, login):
    core.lot(core.supply, "L1", 10)
    client = core.client(first="Erin", last="Error", consents=[KEY])
    treatment = core.booked(client, KEY)
    from clinicadmin.treatment_flow import record

    record(
        treatment,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=treatment.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    practitioner, manager = login("practitioner"), login("manager")
    refused = practitioner.post(
        f"/admin/desk/{treatment.id}/archive", data={"reason": "wrong client"}, follow_redirects=True
    )
    assert "Only a manager can archive a treatment." in refused.get_data(as_text=True)
    too_short = manager.post(f"/admin/desk/{treatment.id}/archive", data={"reason": "no"}, follow_redirects=True)
    assert "Say why the treatment is archived" in too_short.get_data(as_text=True)
    assert (
        manager.post(f"/admin/desk/{treatment.id}/archive", data={"reason": "entered for the wrong client"}).status_code
        == 302
    )
    db.session.expire_all()
    kept = db.session.get(Treatment, treatment.id)
    assert kept.archived_by_id == core.staff["manager"].id and kept.status == "performed"
    assert "Erin Error" not in manager.get("/admin/treatment/").get_data(as_text=True)
    assert "Error, Erin" in manager.get("/admin/treatment_archived/").get_data(as_text=True)
    assert "entered for the wrong client" in manager.get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    assert practitioner.get(f"/admin/desk/{treatment.id}").status_code == 404
    record_page = practitioner.get(f"/admin/client/details/?id={client.id}").get_data(as_text=True)
    assert "No treatments yet." in record_page
    assert db.session.execute(db.select(StockMovement).where(StockMovement.treatment_id == treatment.id)).first()
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "treatment.archive")).first()


def test_several_treatments_are_archived_at_once_with_one_reason(core, login):
    client = core.client(first="Bulk", last="Booked", consents=[KEY])
    treatments = [core.booked(client, KEY, when=datetime(2026, 3, day, 10, 0, tzinfo=UTC)) for day in (2, 3, 4)]
    ids = [t.id for t in treatments]
    manager = login("manager")
    assert "Archive with a reason" in manager.get("/admin/treatment/").get_data(as_text=True)
    chosen = manager.post("/admin/treatment/action/", data={"action": "archive", "rowid": ids[:2]})
    assert chosen.status_code == 302 and "/admin/treatment/archive/" in chosen.headers["Location"]
    page = manager.get(chosen.headers["Location"]).get_data(as_text=True)
    assert "Archive 2 treatments" in page and "2026-03-02 10:00" in page and "2026-03-04" not in page
    refused = manager.post("/admin/treatment/archive/", data={"ids": f"{ids[0]},{ids[1]}", "reason": "no"})
    assert "nothing was archived" in refused.get_data(as_text=True)
    done = manager.post(
        "/admin/treatment/archive/",
        data={"ids": f"{ids[0]},{ids[1]}", "reason": "booked twice by mistake"},
        follow_redirects=True,
    )
    assert "Archived" in done.get_data(as_text=True)
    db.session.expire_all()
    archived = {
        t.id for t in db.session.execute(db.select(Treatment).where(Treatment.archived_at.is_not(None))).scalars()
    }
    assert archived == set(ids[:2])
    assert {db.session.get(Treatment, i).archive_reason for i in ids[:2]} == {"booked twice by mistake"}
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "treatment.archive")
        ).scalar()
        == 2
    )
    # archived ones cannot be chosen again: they are no longer on the active list
    again = manager.post(
        "/admin/treatment/archive/", data={"ids": str(ids[0]), "reason": "archive it twice"}, follow_redirects=True
    )
    assert "None of those treatments is on the active list." in again.get_data(as_text=True)
    assert "Archive with a reason" not in manager.get("/admin/treatment_archived/").get_data(as_text=True)
    front_desk = login("front_desk")
    assert "Archive with a reason" not in front_desk.get("/admin/treatment/").get_data(as_text=True)
    front_desk.post("/admin/treatment/action/", data={"action": "archive", "rowid": [ids[2]]})
    front_desk.post("/admin/treatment/archive/", data={"ids": str(ids[2]), "reason": "not allowed to"})
    db.session.expire_all()
    assert db.session.get(Treatment, ids[2]).archived_at is None
