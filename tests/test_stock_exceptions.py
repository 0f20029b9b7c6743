"""Stock never blocks the clinical record (issue 15, item 11): a session recorded with too little stock on file is
recorded with its notes, what could be taken is taken, the rest is a stock exception on the stock clerk's dashboard
and in ``clinicadmin check``; the clerk receives stock and assigns it, once, and the ledger and check agree again.
Everything through HTTP, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

from concurrency import all_at_once

from clinicadmin.clock import local_today
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, StockException, StockLot, StockMovement, StockUsage, Treatment

KEY = "testmod"


def _record_form(product_id, amount, notes="Calm session; mild redness after."):
    return {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-product": str(product_id),
        "details-amount": str(amount),
        "notes": notes,
        "acknowledgement_note": "",
    }


def _lots():
    db.session.expire_all()
    return dict(db.session.execute(db.select(StockLot.lot_number, StockLot.quantity)).all())


def _consumption(treatment_id):
    """[(lot number, quantity)] the ledger took for a treatment, in order."""
    db.session.expire_all()
    return [
        (n, -q)
        for n, q in db.session.execute(
            db.select(StockLot.lot_number, StockMovement.quantity)
            .join(StockLot, StockLot.id == StockMovement.lot_id)
            .where(StockMovement.treatment_id == treatment_id, StockMovement.reason == "consumption")
            .order_by(StockMovement.id)
        ).all()
    ]


def _exceptions():
    db.session.expire_all()
    return db.session.execute(db.select(StockException).order_by(StockException.id)).scalars().all()


def _audits(action):
    return db.session.execute(
        db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    ).scalar_one()


def test_short_stock_records_the_session_and_the_clerk_resolves_the_exception(core, login, cli):
    core.lot(core.supply, "OLD", 2, expires_in_days=20)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    # The practitioner used 5 mL; the system shows 2.
    recorded = login("practitioner").post(
        f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, 5), follow_redirects=True
    )
    page = recorded.get_data(as_text=True)
    assert "Treatment recorded" in page
    assert "3 mL of Product SUP-1 used is a stock exception for the stock clerk" in page
    db.session.expire_all()
    done = db.session.get(Treatment, treatment.id)
    assert done.status == "performed" and done.notes == "Calm session; mild redness after."
    assert done.consumed == {str(core.supply.id): "5"}
    # Partial availability: the 2 on file were taken, never below zero; the other 3 are owed.
    assert _lots() == {"OLD": 0}
    assert _consumption(treatment.id) == [("OLD", 2)]
    [exception] = _exceptions()
    assert (
        exception.product_id,
        exception.location_id,
        exception.quantity,
        exception.treatment_id,
        exception.created_by_id,
        exception.lot_id,
    ) == (core.supply.id, core.location.id, 3, treatment.id, core.staff["practitioner"].id, None)
    assert exception.is_open and exception.created_at.tzinfo is not None
    assert _audits("stock.exception.open") == 1
    shown = login("practitioner").get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    assert "Used, but not on file when recorded" in shown and "3 mL of Product SUP-1" in shown

    # The stock clerk's dashboard shows it, without the client.
    clerk = login("stock_clerk")
    home = clerk.get("/admin/").get_data(as_text=True)
    assert 'id="alert-stock-exceptions"' in home and "Stock exceptions to resolve (1 open)" in home
    section = home[home.index('id="alert-stock-exceptions"') :]
    assert "Product SUP-1 [SUP-1]" in section and "3 mL" in section and "Test Client" not in section
    assert f"/admin/stock-exceptions/{exception.id}" in section

    # clinicadmin check counts it, and its consistency checks account for it.
    checked = cli("check")
    assert checked.exit_code == 0, checked.output
    assert "OPEN: 1 stock exception(s) wait for the stock clerk" in checked.output
    assert "OPEN: 3 mL of SUP-1 at Test Clinic, in 1" in checked.output
    assert "OK: each treatment's recorded consumption agrees with the stock ledger." in checked.output
    assert "OK: no open stock exceptions." not in checked.output

    # The clerk receives the delivery and assigns it.
    assert (
        clerk.post(
            "/admin/receive/",
            data={
                "product": core.supply.id,
                "location": core.location.id,
                "supplier": core.supplier().id,
                "lot_number": "NEW",
                "expires_on": (local_today() + timedelta(days=300)).isoformat(),
                "packs": "10",
            },
        ).status_code
        == 302
    )
    form = clerk.get(f"/admin/stock-exceptions/{exception.id}").get_data(as_text=True)
    assert "Lot NEW" in form and "Lot OLD" not in form  # an empty lot is not offered
    new_lot = db.session.execute(db.select(StockLot).where(StockLot.lot_number == "NEW")).scalar_one()
    resolved = clerk.post(
        f"/admin/stock-exceptions/{exception.id}", data={"lot": new_lot.id}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Stock exception resolved: 3 mL of Product SUP-1 taken from lot NEW" in resolved
    assert "RESOLVED" in resolved
    [exception] = _exceptions()
    assert not exception.is_open and exception.resolved_by_id == core.staff["stock_clerk"].id
    assert exception.resolved_lot_id == new_lot.id
    assert _lots() == {"OLD": 0, "NEW": 7}
    assert _consumption(treatment.id) == [("OLD", 2), ("NEW", 3)]
    month = db.session.execute(db.select(StockUsage.quantity).where(StockUsage.product_id == core.supply.id))
    assert month.scalar_one() == 5
    assert _audits("stock.exception.resolve") == 1
    assert "alert-stock-exceptions" not in clerk.get("/admin/").get_data(as_text=True)
    checked = cli("check")
    assert checked.exit_code == 0 and "OK: no open stock exceptions." in checked.output, checked.output
    assert "OPEN:" not in checked.output

    # The same assignment sent again changes nothing and says who did it.
    again = clerk.post(
        f"/admin/stock-exceptions/{exception.id}", data={"lot": new_lot.id}, follow_redirects=True
    ).get_data(as_text=True)
    assert f"already resolved by {core.staff['stock_clerk']}" in again and "nothing was changed" in again
    assert _lots() == {"OLD": 0, "NEW": 7}
    assert _consumption(treatment.id) == [("OLD", 2), ("NEW", 3)]
    assert _audits("stock.exception.resolve") == 1


def test_the_assignment_sent_twenty_times_at_once_takes_the_stock_once(core, login, cli):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    assert (
        login("practitioner")
        .post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, 4))
        .status_code
        == 302
    )
    [exception] = _exceptions()
    assert exception.quantity == 4 and _consumption(treatment.id) == []  # nothing on file: all of it is owed
    lot = core.lot(core.supply, "NEW", 50)
    responses = all_at_once(login("stock_clerk"), f"/admin/stock-exceptions/{exception.id}", {"lot": lot.id})
    assert all(r is not None and r.status_code == 302 for r in responses), [r and r.status_code for r in responses]
    assert _lots() == {"NEW": 46}
    assert _consumption(treatment.id) == [("NEW", 4)]
    assert _audits("stock.exception.resolve") == 1
    checked = cli("check")
    assert checked.exit_code == 0 and "OK: no open stock exceptions." in checked.output, checked.output


def test_an_assignment_the_lot_cannot_give_changes_nothing(core, login):
    other = core.product("OTHER", category="consumable", unit="mL")
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    login("practitioner").post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, 4))
    [exception] = _exceptions()
    small = core.lot(core.supply, "SMALL", 3)
    foreign = core.lot(other, "FOREIGN", 10)
    expired = core.lot(core.supply, "EXPIRED", 10, expires_in_days=-1)
    clerk = login("stock_clerk")
    url = f"/admin/stock-exceptions/{exception.id}"
    form = clerk.get(url).get_data(as_text=True)
    assert "Lot SMALL" in form and "FOREIGN" not in form and "Lot EXPIRED" not in form
    for lot, message in (
        (small, "Lot SMALL of Product SUP-1 holds 3 mL; 4 cannot be taken from it."),
        (foreign, "Choose a lot of this product at this location."),
        (expired, "expired on"),
    ):
        page = clerk.post(url, data={"lot": lot.id}, follow_redirects=True).get_data(as_text=True)
        assert "Nothing was changed" in page and message in page, message
    assert _lots() == {"SMALL": 3, "FOREIGN": 10, "EXPIRED": 10}
    [exception] = _exceptions()
    assert exception.is_open and _audits("stock.exception.resolve") == 0
    # Only stock roles reach the page.
    for role in ("practitioner", "front_desk"):
        assert login(role).get(url).status_code == 403
        assert login(role).post(url, data={"lot": small.id}).status_code == 403
    assert _exceptions()[0].is_open


def test_check_counts_an_open_exception_as_taken_and_names_one_that_does_not_add_up(core, login, cli):
    core.lot(core.supply, "L1", 1)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    login("practitioner").post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, 3))
    assert cli("check").exit_code == 0
    # A second exception for the same session (what a recording that ran twice would leave) is caught.
    [first] = _exceptions()
    db.session.add(
        StockException(
            treatment_id=treatment.id,
            product_id=core.supply.id,
            location_id=core.location.id,
            quantity=2,
            created_at=first.created_at,
        )
    )
    db.session.commit()
    result = cli("check")
    assert result.exit_code == 1
    assert (
        f"TREATMENTS: treatment {treatment.id} recorded using 3 of product {core.supply.id}; the ledger took 5 "
        f"of product {core.supply.id} (open stock exceptions counted as taken)"
    ) in result.output
    assert "OPEN: 2 stock exception(s) wait for the stock clerk" in result.output
