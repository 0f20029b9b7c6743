"""Every state change happens once: a double click, a replayed POST or two people pressing the same button change
nothing the second time, and the second is told who got there first. Each step is sent twice in a row, and the ones
that move stock are also sent 20 times at once (threads in this process: real concurrent transactions on SQLite and
PostgreSQL; tests/test_live_server.py does the same through several server processes)."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from concurrency import all_at_once

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, ScreeningFinding, StockLot, StockMovement, Stocktake, Treatment

KEY = "testmod"
TIMES = 20


def _record_form(product_id, amount="1"):
    return {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-product": str(product_id),
        "details-amount": str(amount),
        "notes": "",
        "acknowledgement_note": "",
    }


def _count(model, *where):
    db.session.expire_all()
    return db.session.execute(db.select(db.func.count()).select_from(model).where(*where)).scalar()


def _fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def _audits(action):
    return _count(AuditEvent, AuditEvent.action == action)


def test_the_same_recording_sent_twenty_times_at_once_records_once(core, login):
    client = core.client(consents=[KEY])
    core.lot(core.supply, "L1", 50)
    treatment = core.booked(client, KEY)
    http = login("practitioner")
    responses = all_at_once(http, f"/admin/desk/{treatment.id}/record", _record_form(core.supply.id, "2"))
    assert all(r is not None and r.status_code in (200, 302) for r in responses), [
        r and r.status_code for r in responses
    ]
    # The winner and any request that loaded the page after it committed are redirected to the treatment (the
    # latter with the message of the replay test below); the rest lost the race inside the transaction.
    refused = [r.get_data(as_text=True) for r in responses if r.status_code == 200]
    assert all(f"already recorded by {core.staff['practitioner']}" in page for page in refused)
    assert _count(Treatment, Treatment.status == "performed") == 1
    assert _count(StockMovement, StockMovement.reason == "consumption") == 1
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 48
    assert _audits("treatment.record") == 1
    assert db.session.get(Treatment, treatment.id).consumed == {str(core.supply.id): "2"}


def test_a_replayed_recording_changes_nothing_and_says_who_recorded_it(core, login):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    core.lot(core.supply, "L1", 10)
    http = login("practitioner")
    form = _record_form(core.supply.id)
    assert http.post(f"/admin/desk/{treatment.id}/record", data=form).status_code == 302
    again = http.post(f"/admin/desk/{treatment.id}/record", data=form, follow_redirects=True)
    page = again.get_data(as_text=True)
    assert again.status_code == 200
    assert re.search(r"already recorded by Test practitioner at \d\d:\d\d on \d{4}-\d\d-\d\d", page)
    assert _count(StockMovement, StockMovement.reason == "consumption") == 1
    assert _audits("treatment.record") == 1


def test_cancel_override_acknowledge_and_archive_happen_once(core, login):
    manager = login("manager")
    blocked = core.booked(core.client(first="Pregnant", history=[("pregnancy", 30)], consents=[KEY]), KEY)
    block = next(f for f in blocked.current_findings() if f.severity == "block")
    override = {"finding_id": block.id, "reason": "Obstetrician's written clearance on file"}
    manager.post(f"/admin/desk/{blocked.id}/override", data=override)
    second = manager.post(
        f"/admin/desk/{blocked.id}/override", data={**override, "reason": "A different reason"}, follow_redirects=True
    )
    assert "already overridden by Test manager" in second.get_data(as_text=True)
    assert _fresh(ScreeningFinding, block.id).override_reason == "Obstetrician's written clearance on file"
    assert _audits("finding.override") == 1

    warned = core.booked(core.client(first="Diabetic", history=[("diabetes", 300)], consents=[KEY]), KEY)
    warning = next(f for f in warned.current_findings() if f.severity == "warn")
    for note in ("Glucose checked", "Checked again"):
        manager.post(f"/admin/desk/{warned.id}/acknowledge", data={"finding_id": warning.id, "note": note})
    assert _fresh(ScreeningFinding, warning.id).acknowledgement_note == "Glucose checked"
    assert _audits("finding.acknowledge") == 1

    cancelled = core.booked(core.client(first="Cancel", consents=[KEY]), KEY)
    for reason in ("client phoned", "clinic closed"):
        manager.post(f"/admin/desk/{cancelled.id}/cancel", data={"reason": reason, "by": "client"})
    db.session.expire_all()
    row = db.session.get(Treatment, cancelled.id)
    assert (row.status, row.cancel_reason, row.cancelled_by_id) == (
        "cancelled",
        "client phoned",
        core.staff["manager"].id,
    )
    assert _audits("treatment.cancel") == 1

    archived = core.booked(core.client(first="Archive", consents=[KEY]), KEY)
    for reason in ("entered twice by mistake", "another reason"):
        manager.post(f"/admin/desk/{archived.id}/archive", data={"reason": reason})
    assert _fresh(Treatment, archived.id).archive_reason == "entered twice by mistake"
    assert _audits("treatment.archive") == 1


def test_an_override_of_a_finding_from_an_older_screening_run_changes_nothing(core, login):
    treatment = core.booked(core.client(history=[("pregnancy", 30)], consents=[KEY]), KEY)
    old = next(f for f in treatment.current_findings() if f.severity == "block")
    manager = login("manager")
    manager.post(f"/admin/desk/{treatment.id}/screen")
    page = manager.post(
        f"/admin/desk/{treatment.id}/override",
        follow_redirects=True,
        data={"finding_id": old.id, "reason": "Written clearance from the GP"},
    ).get_data(as_text=True)
    assert "Screening has run again since" in page
    assert _count(ScreeningFinding, ScreeningFinding.overridden_at.is_not(None)) == 0


@pytest.mark.parametrize("step", ["write-off", "adjust", "transfer"])
def test_a_stock_form_sent_twenty_times_at_once_is_applied_once(core, login, step):
    from clinicadmin.models import Location

    annex = Location(name="Annex")
    db.session.add(annex)
    db.session.commit()
    lot = core.lot(core.supply, "L1", 100)
    data = {
        "write-off": {"quantity": "3", "note": "dropped on the floor"},
        "adjust": {"delta": "-3", "note": "miscounted delivery"},
        "transfer": {"to_location": str(annex.id), "quantity": "3", "note": "to the annex"},
    }[step]
    http = login("stock_clerk")
    responses = all_at_once(http, f"/admin/lot/{lot.id}/{step}", {**data, "once": "one-form-one-token"})
    assert all(r.status_code == 302 for r in responses), [r.status_code for r in responses]
    db.session.expire_all()
    assert db.session.get(StockLot, lot.id).quantity == 97
    assert _count(StockMovement, StockMovement.lot_id == lot.id) == 2  # the receipt and one movement
    # A new form (a new token) is a new operation.
    assert http.post(f"/admin/lot/{lot.id}/{step}", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(StockLot, lot.id).quantity == 94


def test_a_form_without_its_one_time_token_is_refused(core, login):
    lot = core.lot(core.supply, "L1", 10)
    http = login("stock_clerk")
    response = http.post(
        f"/admin/lot/{lot.id}/write-off",
        data={"quantity": "1", "note": "broken vial", "once": ""},
        follow_redirects=True,
    )
    assert "This form is out of date" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(StockLot, lot.id).quantity == 10


def test_a_receipt_is_reversed_once_even_from_two_pages(core, login):
    lot = core.lot(core.supply, "L1", 10)
    receipt = db.session.execute(db.select(StockMovement)).scalar_one()
    http = login("stock_clerk")
    responses = all_at_once(
        http, f"/admin/lot/{lot.id}/reverse", {"receipt_id": str(receipt.id), "note": "wrong product"}, times=2
    )
    # The same form twice, then a second page's form (another token) for the same receipt.
    third = http.post(f"/admin/lot/{lot.id}/reverse", data={"receipt_id": str(receipt.id), "note": "wrong lot"})
    assert all(r.status_code in (200, 302) for r in [*responses, third])
    assert "reversed already by Test stock_clerk" in third.get_data(as_text=True)
    assert _count(StockMovement, StockMovement.reason == "receipt_reversal") == 1
    assert db.session.get(StockLot, lot.id).quantity == 0


def test_a_receipt_and_a_stocktake_sent_twice_are_applied_once(core, login):
    http = login("stock_clerk")
    supplier = core.supplier()
    receipt = {
        "product": str(core.supply.id),
        "location": str(core.location.id),
        "lot_number": "NEW-1",
        "expires_on": "2031-01-01",
        "packs": "2",
        "supplier": str(supplier.id),
        "once": "receipt-token",
    }
    first = http.post("/admin/receive/", data=receipt)
    second = http.post("/admin/receive/", data=receipt, follow_redirects=True)
    assert first.status_code == 302
    assert "already submitted by Test stock_clerk" in second.get_data(as_text=True)
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 2
    lot = db.session.execute(db.select(StockLot)).scalar_one()
    sheet = {
        "location_id": str(core.location.id),
        f"expected-{lot.id}": "2",
        f"counted-{lot.id}": "1",
        "once": "sheet-token",
    }
    http.post(f"/admin/stocktake/new?location_id={core.location.id}", data=sheet)
    again = http.post(f"/admin/stocktake/new?location_id={core.location.id}", data=sheet, follow_redirects=True)
    assert "already submitted" in again.get_data(as_text=True)
    assert _count(Stocktake) == 1
    assert db.session.get(StockLot, lot.id).quantity == 1


def test_a_booking_sent_twice_books_once(core, login):
    client = core.client(consents=[KEY])
    http = login("front_desk")
    form = {
        "client": str(client.id),
        "modality": KEY,
        "practitioner": str(core.staff["practitioner"].id),
        "location": str(core.location.id),
        "scheduled_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "once": "booking-token",
    }
    responses = all_at_once(http, "/admin/desk/book", form, times=5)
    assert all(r.status_code == 302 for r in responses)
    assert _count(Treatment) == 1 and _audits("treatment.book") == 1


def test_check_names_a_treatment_whose_ledger_consumption_differs_from_its_record(core, login, cli):
    core.lot(core.supply, "L1", 10)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    login("practitioner").post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, "2"))
    assert cli("check").exit_code == 0
    # Stock taken a second time for the same session (what a recording that ran twice would leave), with its lot
    # kept in step so that only the per-treatment comparison can notice.
    lot = db.session.execute(db.select(StockLot)).scalar_one()
    db.session.add(
        StockMovement(lot_id=lot.id, quantity=Decimal("-2"), reason="consumption", treatment_id=treatment.id)
    )
    db.session.execute(db.update(StockLot).values(quantity=StockLot.quantity - 2))
    db.session.commit()
    result = cli("check")
    assert result.exit_code == 1
    assert (
        f"TREATMENTS: treatment {treatment.id} recorded using 2 of product {core.supply.id}; the ledger took 4"
        in result.output
    )
