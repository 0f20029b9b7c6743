"""A stock clerk's movements on a lot, through its page: transfer, write-off, adjustment, reversal of a receipt;
each one transaction, refused with a reason and no change when it cannot be done; and ``clinicadmin check``."""

from datetime import timedelta
from decimal import Decimal

import pytest

from clinicadmin.clock import local_today
from clinicadmin.extensions import db
from clinicadmin.models import Location, StockLot, StockMovement


def _lots():
    db.session.expire_all()
    return {
        (lot.location.name, lot.lot_number): lot.quantity for lot in db.session.execute(db.select(StockLot)).scalars()
    }


def _ledger():
    db.session.expire_all()
    return [
        (m.reason, m.quantity)
        for m in db.session.execute(db.select(StockMovement).order_by(StockMovement.id)).scalars()
    ]


@pytest.fixture
def annex(core):
    location = Location(name="Annex")
    db.session.add(location)
    db.session.commit()
    return location


def test_a_transfer_moves_stock_to_the_same_lot_at_the_other_location(core, annex, login):
    lot = core.lot(core.supply, "L1", 10, expires_in_days=100)
    http = login("stock_clerk")
    assert "Transfer to another location" in http.get(f"/admin/lot/{lot.id}").get_data(as_text=True)
    response = http.post(
        f"/admin/lot/{lot.id}/transfer", data={"to_location": annex.id, "quantity": "4", "note": "for Saturday"}
    )
    assert response.status_code == 302
    assert _lots() == {("Test Clinic", "L1"): 6, ("Annex", "L1"): 4}
    moved = db.session.execute(db.select(StockLot).where(StockLot.location_id == annex.id)).scalar_one()
    assert moved.expires_on == lot.expires_on
    assert _ledger()[1:] == [("transfer_out", -4), ("transfer_in", 4)]


def test_a_transfer_that_fails_half_way_leaves_both_sides_untouched(core, annex, login):
    lot = core.lot(core.supply, "L1", 10, expires_in_days=100)
    db.session.add(
        StockLot(
            product=core.supply,
            location=annex,
            lot_number="L1",
            quantity=0,
            expires_on=local_today() + timedelta(days=50),
        )
    )
    db.session.commit()
    before, ledger = _lots(), _ledger()
    response = login("stock_clerk").post(
        f"/admin/lot/{lot.id}/transfer", data={"to_location": annex.id, "quantity": "4"}
    )
    assert "Nothing was changed" in response.get_data(as_text=True) and "another expiry" in response.get_data(
        as_text=True
    )
    assert _lots() == before and _ledger() == ledger


@pytest.mark.parametrize(
    "quantity, message",
    [
        ("11", "holds 10 mL; 11 cannot be taken"),
        ("0", "more than 0"),
        ("-2", "more than 0"),
        ("NaN", "Enter a number"),
        ("1.0001", "At most three decimal places"),
    ],
)
def test_a_transfer_of_more_than_the_lot_holds_is_refused(core, annex, login, quantity, message):
    lot = core.lot(core.supply, "L1", 10)
    response = login("stock_clerk").post(
        f"/admin/lot/{lot.id}/transfer", data={"to_location": annex.id, "quantity": quantity}
    )
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _lots() == {("Test Clinic", "L1"): 10}


def test_an_expired_lot_is_written_off_but_never_transferred_or_consumed(core, annex, login):
    from clinicadmin.stock import OutOfStock, consume

    lot = core.lot(core.supply, "OLD", 5, expires_in_days=-1)
    http = login("stock_clerk")
    page = http.get(f"/admin/lot/{lot.id}").get_data(as_text=True)
    assert "EXPIRED: write it off" in page and "An expired lot is never transferred." in page
    refused = http.post(f"/admin/lot/{lot.id}/transfer", data={"to_location": annex.id, "quantity": "1"})
    assert "an expired lot can only be written off" in refused.get_data(as_text=True)
    with pytest.raises(OutOfStock):
        consume(product=core.supply, location=core.location, quantity=1, user=None)
    db.session.rollback()
    assert http.post(f"/admin/lot/{lot.id}/write-off", data={"quantity": "5", "note": "expired"}).status_code == 302
    assert _lots() == {("Test Clinic", "OLD"): 0}
    assert _ledger()[-1] == ("waste", -5)
    assert "Written off (waste)" in http.get("/admin/ledger/").get_data(as_text=True)


def test_a_write_off_needs_a_reason(core, login):
    lot = core.lot(core.supply, "L1", 5)
    response = login("stock_clerk").post(f"/admin/lot/{lot.id}/write-off", data={"quantity": "1", "note": ""})
    assert "Say why." in response.get_data(as_text=True) and _lots() == {("Test Clinic", "L1"): 5}


def test_adjustments_go_both_ways_but_never_below_zero(core, login):
    lot = core.lot(core.supply, "L1", 5)
    http = login("stock_clerk")
    assert http.post(f"/admin/lot/{lot.id}/adjust", data={"delta": "2", "note": "found a box"}).status_code == 302
    assert http.post(f"/admin/lot/{lot.id}/adjust", data={"delta": "-1.5", "note": "spilled"}).status_code == 302
    refused = http.post(f"/admin/lot/{lot.id}/adjust", data={"delta": "-6", "note": "missing"})
    assert "cannot be taken" in refused.get_data(as_text=True)
    assert _lots() == {("Test Clinic", "L1"): Decimal("5.5")}
    assert _ledger()[1:] == [("adjustment", 2), ("adjustment", Decimal("-1.5"))]


def test_a_mistaken_receipt_is_reversed_by_a_new_row_once(core, login):
    from clinicadmin.stock import receive

    lot = receive(
        product=core.supply,
        location=core.location,
        lot_number="R1",
        expires_on=local_today() + timedelta(days=90),
        packs=3,
        user=None,
        supplier=core.supplier(),
    )
    db.session.commit()
    receipt = db.session.execute(db.select(StockMovement)).scalar_one()
    http = login("stock_clerk")
    assert (
        http.post(f"/admin/lot/{lot.id}/reverse", data={"receipt_id": receipt.id, "note": "wrong product"}).status_code
        == 302
    )
    assert _lots() == {("Test Clinic", "R1"): 0}
    assert _ledger() == [("receipt", 3), ("receipt_reversal", -3)]
    again = http.post(f"/admin/lot/{lot.id}/reverse", data={"receipt_id": receipt.id, "note": "again"})
    assert "reversed already" in again.get_data(as_text=True) and len(_ledger()) == 2


def test_a_receipt_already_used_cannot_be_reversed(core, login):
    from clinicadmin.stock import consume

    lot = core.lot(core.supply, "R1", 3)
    consume(product=core.supply, location=core.location, quantity=1, user=None)
    db.session.commit()
    receipt = db.session.execute(db.select(StockMovement).where(StockMovement.reason == "receipt")).scalar_one()
    response = login("stock_clerk").post(
        f"/admin/lot/{lot.id}/reverse", data={"receipt_id": receipt.id, "note": "wrong lot"}
    )
    assert "holds 2 of the 3 received" in response.get_data(as_text=True)
    assert _lots() == {("Test Clinic", "R1"): 2}


def test_the_ledger_is_append_only(core):
    core.lot(core.supply, "L1", 3)
    row = db.session.execute(db.select(StockMovement)).scalar_one()
    row.quantity = 300
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.execute(db.select(StockMovement)).scalar_one())
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()


def test_only_stock_roles_reach_a_lot(core, login):
    lot = core.lot(core.supply, "L1", 3)
    for role, status in (("stock_clerk", 200), ("manager", 200), ("practitioner", 403), ("front_desk", 403)):
        assert login(role).get(f"/admin/lot/{lot.id}").status_code == status


def _sheet(http, location, counts, expected=None):
    data = {"location_id": location.id, "note": "month end"}
    for lot, counted in counts.items():
        data[f"counted-{lot.id}"] = counted
        data[f"expected-{lot.id}"] = str((expected or {}).get(lot, lot.quantity))
    return http.post(f"/admin/stocktake/new?location_id={location.id}", data=data)


def test_a_stocktake_writes_the_differences_in_one_step_and_keeps_a_variance_sheet(core, login):
    a, b, c = core.lot(core.supply, "A", 10), core.lot(core.supply, "B", 4), core.lot(core.supply, "C", 2)
    http = login("stock_clerk")
    sheet = http.get(f"/admin/stocktake/new?location_id={core.location.id}").get_data(as_text=True)
    assert all(f'name="counted-{lot.id}"' for lot in (a, b, c)) and "Ledger says" in sheet
    response = _sheet(http, core.location, {a: "9", b: "4", c: "2.5"})
    assert response.status_code == 302
    assert _lots() == {("Test Clinic", "A"): 9, ("Test Clinic", "B"): 4, ("Test Clinic", "C"): Decimal("2.5")}
    assert _ledger()[3:] == [("stocktake", -1), ("stocktake", Decimal("0.5"))]
    variance = http.get(response.headers["Location"]).get_data(as_text=True)
    assert variance.count("table-warning") == 2 and "-1 mL" in variance and "+0.5 mL" in variance
    assert "month end" in http.get("/admin/stocktake/").get_data(as_text=True)


def test_a_lot_used_while_it_was_counted_refuses_the_stocktake(core, login):
    from clinicadmin.stock import consume

    a, b = core.lot(core.supply, "A", 10), core.lot(core.supply, "B", 4)
    seen = {a: Decimal(10), b: Decimal(4)}
    consume(product=core.supply, location=core.location, quantity=1, user=None)  # a treatment meanwhile
    db.session.commit()
    response = _sheet(login("stock_clerk"), core.location, {a: "8", b: "3"}, expected=seen)
    text = response.get_data(as_text=True)
    assert "changed while it was counted" in text and "Nothing was changed" in text
    assert _lots() == {("Test Clinic", "A"): 9, ("Test Clinic", "B"): 4}
    from clinicadmin.models import Stocktake

    assert db.session.execute(db.select(Stocktake)).first() is None


@pytest.mark.parametrize("bad", ["", "-1", "abc", "1.0001", "NaN"])
def test_a_stocktake_with_a_bad_count_changes_nothing(core, login, bad):
    a = core.lot(core.supply, "A", 10)
    response = _sheet(login("stock_clerk"), core.location, {a: bad})
    assert "correct the counts marked below" in response.get_data(as_text=True)
    assert _lots() == {("Test Clinic", "A"): 10} and len(_ledger()) == 1


def test_clinicadmin_check_names_a_lot_that_disagrees_with_its_ledger(core, annex, login):
    from click.testing import CliRunner

    from clinicadmin.cli import check

    lot = core.lot(core.supply, "L1", 10)
    http = login("stock_clerk")
    http.post(f"/admin/lot/{lot.id}/transfer", data={"to_location": annex.id, "quantity": "3"})
    db.session.refresh(lot)
    assert _sheet(http, core.location, {lot: "6"}).status_code == 302
    runner = CliRunner()
    ok = runner.invoke(check, obj=None, catch_exceptions=False)
    assert ok.exit_code == 0 and "OK: 2 lots agree" in ok.output
    db.session.execute(db.update(StockLot).where(StockLot.id == lot.id).values(quantity=Decimal(7)))
    db.session.commit()
    broken = runner.invoke(check, catch_exceptions=False)
    assert broken.exit_code == 1 and "lot L1 of SUP-1" in broken.output and "on hand 7, ledger sum 6" in broken.output
