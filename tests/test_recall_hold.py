"""A recalled lot is put on hold at every location: consumption and transfers skip it, the dashboard and the stock
report show it, and only a manager releases it (with a reason) or it is written off."""

from datetime import UTC, datetime

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Location, StockException, StockLot, StockMovement, Treatment

KEY = "testmod"


@pytest.fixture
def recalled(core):
    """Lot R1 at both locations (expiring first, so FEFO would pick it), and a later lot L2 at the clinic."""
    annex = Location(name="Annex")
    db.session.add(annex)
    db.session.commit()
    core.annex = annex
    core.r1 = core.lot(core.supply, "R1", 5, expires_in_days=30)
    core.l2 = core.lot(core.supply, "L2", 5, expires_in_days=300)
    core.location, home = annex, core.location
    core.r1_annex = core.lot(core.supply, "R1", 4, expires_in_days=30)
    core.location = home
    return core


def _hold(http, core, reason="Supplier recall notice 2026-117"):
    return http.post(
        "/admin/recall/hold?lot=R1", data={"product_id": core.supply.id, "reason": reason}, follow_redirects=True
    )


def _quantities():
    db.session.expire_all()
    return {
        (lot.location.name, lot.lot_number): lot.quantity for lot in db.session.execute(db.select(StockLot)).scalars()
    }


def _record(http, treatment, product_id, amount):
    return http.post(
        f"/admin/desk/{treatment.id}/record",
        data={
            "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
            "details-product": str(product_id),
            "details-amount": str(amount),
            "notes": "",
            "acknowledgement_note": "",
        },
    )


def test_a_recalled_lot_is_held_everywhere_and_never_used_or_moved(recalled, login):
    core, manager = recalled, login("manager")
    page = _hold(manager, core).get_data(as_text=True)
    assert "put on hold at 2 location(s)" in page and "ON HOLD" in page
    db.session.expire_all()
    assert all(
        lot.held_at is not None
        for lot in db.session.execute(db.select(StockLot).where(StockLot.lot_number == "R1")).scalars()
    )
    # Consumption takes the later lot, never the held one, though FEFO would.
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    assert _record(login("practitioner"), treatment, core.supply.id, 2).status_code == 302
    assert _quantities() == {("Test Clinic", "R1"): 5, ("Test Clinic", "L2"): 3, ("Annex", "R1"): 4}
    # And when only held stock is left, the held stock is still not taken: what is short becomes a stock exception.
    short = core.booked(core.client(first="Short", consents=[KEY]), KEY)
    assert _record(login("practitioner"), short, core.supply.id, 4).status_code == 302
    assert _quantities() == {("Test Clinic", "R1"): 5, ("Test Clinic", "L2"): 0, ("Annex", "R1"): 4}
    assert db.session.execute(db.select(StockException.quantity, StockException.treatment_id)).all() == [(1, short.id)]
    # Transfers refuse it; a write-off takes it off the shelf.
    clerk = login("stock_clerk")
    moved = clerk.post(
        f"/admin/lot/{core.r1.id}/transfer", data={"to_location": core.annex.id, "quantity": "1"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "is on hold" in moved
    assert (
        clerk.post(
            f"/admin/lot/{core.r1.id}/write-off", data={"quantity": "5", "note": "recalled by the supplier"}
        ).status_code
        == 302
    )
    assert _quantities()[("Test Clinic", "R1")] == 0


def test_the_dashboard_and_stock_report_show_held_stock_and_it_is_not_usable(recalled, login):
    _hold(login("manager"), recalled)
    home = login("stock_clerk").get("/admin/").get_data(as_text=True)
    assert "ON HOLD (RECALL): 5 mL" in home and "ON HOLD (RECALL): 4 mL" in home
    report = login("stock_clerk").get("/admin/reports/stock-on-hand").get_data(as_text=True)
    assert "5 mL" in report  # the clinic's usable stock is L2 alone


def test_only_a_manager_holds_or_releases_and_a_release_needs_a_reason(recalled, login):
    core = recalled
    for role in ("stock_clerk", "practitioner", "front_desk"):
        assert (
            login(role)
            .post("/admin/recall/hold?lot=R1", data={"product_id": core.supply.id, "reason": "I think so"})
            .status_code
            == 403
        )
    assert all(lot.held_at is None for lot in db.session.execute(db.select(StockLot)).scalars())
    manager = login("manager")
    _hold(manager, core)
    assert "already" in _hold(manager, core, "Once more").get_data(as_text=True)
    no_reason = manager.post(
        "/admin/recall/release?lot=R1", data={"product_id": core.supply.id, "reason": " "}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Say why" in no_reason
    db.session.expire_all()
    assert all(
        lot.held_at is not None
        for lot in db.session.execute(db.select(StockLot).where(StockLot.lot_number == "R1")).scalars()
    )
    released = manager.post(
        "/admin/recall/release?lot=R1",
        follow_redirects=True,
        data={"product_id": core.supply.id, "reason": "Supplier withdrew the notice: other batch"},
    ).get_data(as_text=True)
    assert "released at 2 location(s)" in released
    db.session.expire_all()
    assert all(lot.held_at is None for lot in db.session.execute(db.select(StockLot)).scalars())
    actions = db.session.execute(
        db.select(AuditEvent.action, AuditEvent.detail)
        .where(AuditEvent.action.in_(["stock.hold", "stock.release"]))
        .order_by(AuditEvent.seq)
    ).all()
    assert [(a, d["reason"]) for a, d in actions] == [
        ("stock.hold", "Supplier recall notice 2026-117"),
        ("stock.release", "Supplier withdrew the notice: other batch"),
    ]
    # Released, it is used first again (FEFO).
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    _record(login("practitioner"), treatment, core.supply.id, 1)
    assert _quantities()[("Test Clinic", "R1")] == 4
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(StockMovement).where(StockMovement.treatment_id == treatment.id)
        ).scalar()
        == 1
    )
    assert db.session.get(Treatment, treatment.id).status == "performed"
