"""The practitioner records the lot actually opened (issue 15, item 10): the record form offers, for each product
field of the plugin's form, the lots usable at the treatment's location, first to expire by default; a chosen lot is
the one the stock service takes from, with the same guarantees, so recall lists the truth. Through HTTP, on SQLite
and PostgreSQL, with the core's fake modality (the core names no modality)."""

import re
from datetime import UTC, datetime

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import Location, StockException, StockLot, StockMovement, Treatment
from clinicadmin.stock import hold

KEY = "testmod"


def _record_form(product_id, amount, lot="", notes="Opened a fresh box."):
    return {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-product": str(product_id),
        "details-amount": str(amount),
        "lots-product": str(lot),
        "notes": notes,
        "acknowledgement_note": "",
    }


def _lots():
    db.session.expire_all()
    return {
        (lot.location.name, lot.lot_number): lot.quantity for lot in db.session.execute(db.select(StockLot)).scalars()
    }


def _taken(treatment_id):
    db.session.expire_all()
    return [
        (n, -q)
        for n, q in db.session.execute(
            db.select(StockLot.lot_number, StockMovement.quantity)
            .join(StockLot, StockLot.id == StockMovement.lot_id)
            .where(StockMovement.treatment_id == treatment_id)
            .order_by(StockMovement.id)
        ).all()
    ]


def _options(page):
    """The options of the "lot opened" select, as (value, text, selected)."""
    select = re.search(r'<select[^>]*name="lots-product"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [
        (value, text.strip(), "selected" in attrs)
        for attrs, value, text in re.findall(r'<option([^>]*value="([^"]*)"[^>]*)>([^<]*)</option>', select)
    ]


@pytest.fixture
def shelf(core):
    """Lots of the supply at the clinic: SOON (first to expire), LATER, an expired, a held and an empty one; a lot at
    another location; and a product of another category."""
    annex = Location(name="Annex")
    db.session.add(annex)
    db.session.commit()
    core.soon = core.lot(core.supply, "SOON", 10, expires_in_days=30)
    core.later = core.lot(core.supply, "LATER", 10, expires_in_days=300)
    core.lot(core.supply, "EXPIRED", 10, expires_in_days=-1)
    core.held = core.lot(core.supply, "HELD", 10, expires_in_days=200)
    core.lot(core.supply, "EMPTY", 0, expires_in_days=100)
    hold(lot_number="HELD", reason="recall", user=core.staff["manager"], product_id=core.supply.id)
    core.needle = core.product("NEEDLE", category="needle", unit="needle")
    core.lot(core.needle, "NEEDLES", 100)
    home, core.location = core.location, annex
    core.away = core.lot(core.supply, "AWAY", 10, expires_in_days=10)
    core.location = home
    db.session.commit()
    return core


def test_the_form_offers_the_usable_lots_here_first_to_expire_by_default(shelf, login):
    treatment = shelf.booked(shelf.client(consents=[KEY]), KEY)
    page = login("practitioner").get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True)
    options = _options(page)
    assert options[0] == ("", "The first to expire", True)
    assert [text for _, text, _ in options[1:]] == [
        f"Product SUP-1: lot SOON, expires {shelf.soon.expires_on.isoformat()}, 10 mL on hand (first to expire)",
        f"Product SUP-1: lot LATER, expires {shelf.later.expires_on.isoformat()}, 10 mL on hand",
    ]
    assert page.index('name="details-product"') < page.index('name="lots-product"') < page.index('name="notes"')


def test_the_chosen_lot_is_the_one_taken_and_recall_lists_it(shelf, login):
    client = shelf.client(first="Chosen", consents=[KEY])
    treatment = shelf.booked(client, KEY)
    assert (
        login("practitioner")
        .post(f"/admin/desk/{treatment.id}/record", data=_record_form(shelf.supply.id, 3, shelf.later.id))
        .status_code
        == 302
    )
    assert _taken(treatment.id) == [("LATER", 3)]
    assert _lots()[("Test Clinic", "SOON")] == 10 and _lots()[("Test Clinic", "LATER")] == 7
    recall = login("manager").get("/admin/recall/?lot=LATER").get_data(as_text=True)
    assert "Chosen Client" in recall
    assert "Chosen Client" not in login("manager").get("/admin/recall/?lot=SOON").get_data(as_text=True)
    # Without a choice, the first to expire.
    other = shelf.booked(shelf.client(first="Default", consents=[KEY]), KEY)
    assert (
        login("practitioner").post(f"/admin/desk/{other.id}/record", data=_record_form(shelf.supply.id, 2)).status_code
        == 302
    )
    assert _taken(other.id) == [("SOON", 2)]


def test_a_chosen_lot_short_of_what_was_used_gives_what_it_holds_and_the_rest_is_an_exception(shelf, login):
    treatment = shelf.booked(shelf.client(consents=[KEY]), KEY)
    assert (
        login("practitioner")
        .post(f"/admin/desk/{treatment.id}/record", data=_record_form(shelf.supply.id, 12, shelf.later.id))
        .status_code
        == 302
    )
    assert _taken(treatment.id) == [("LATER", 10)]  # never from another lot than the one opened
    [owed] = db.session.execute(db.select(StockException)).scalars().all()
    assert (owed.quantity, owed.lot_id, owed.treatment_id) == (2, shelf.later.id, treatment.id)
    # The clerk's page proposes the lot the practitioner named, once it holds stock again.
    clerk = login("stock_clerk")
    assert (
        clerk.post(
            f"/admin/lot/{shelf.later.id}/adjust", data={"delta": "2", "note": "two found in the treatment room"}
        ).status_code
        == 302
    )
    page = clerk.get(f"/admin/stock-exceptions/{owed.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{shelf.later.id}"|<option value="{shelf.later.id}" selected', page)


@pytest.mark.parametrize(
    "which, message",
    [
        ("held", "Lot HELD of Product SUP-1 is on hold (recall): it cannot be used."),
        ("expired", "expired on"),
        ("away", "Lot AWAY is not a lot of Product SUP-1 at Test Clinic"),
        ("needle", "Lot NEEDLES of Product NEEDLE was chosen, but this record uses no Product NEEDLE"),
        ("unknown", "A lot chosen is no longer on file"),
        ("text", "Invalid Choice: could not coerce"),
    ],
)
def test_a_lot_that_cannot_be_used_is_refused_clearly_and_nothing_is_written(shelf, login, which, message):
    lots = {lot.lot_number: lot.id for lot in db.session.execute(db.select(StockLot)).scalars()}
    chosen = {
        "held": lots["HELD"],
        "expired": lots["EXPIRED"],
        "away": lots["AWAY"],
        "needle": lots["NEEDLES"],
        "unknown": 999999,
        "text": "abc",
    }[which]
    treatment = shelf.booked(shelf.client(consents=[KEY]), KEY)
    response = login("practitioner").post(
        f"/admin/desk/{treatment.id}/record", data=_record_form(shelf.supply.id, 1, chosen, notes="Keep these notes")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert "Keep these notes" in page  # the practitioner's notes come back in the form
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).status == "booked"
    assert _taken(treatment.id) == []
    assert db.session.execute(db.select(db.func.count()).select_from(StockException)).scalar_one() == 0


def test_a_lot_put_on_hold_after_the_form_was_opened_is_refused(shelf, login):
    treatment = shelf.booked(shelf.client(consents=[KEY]), KEY)
    http = login("practitioner")
    assert any(
        value == str(shelf.later.id)
        for value, _, _ in _options(http.get(f"/admin/desk/{treatment.id}/record").get_data(as_text=True))
    )
    assert login("manager").post(
        "/admin/recall/hold?lot=LATER", data={"product_id": shelf.supply.id, "reason": "supplier recall 12"}
    ).status_code in (200, 302)
    page = http.post(
        f"/admin/desk/{treatment.id}/record", data=_record_form(shelf.supply.id, 1, shelf.later.id)
    ).get_data(as_text=True)
    assert "Lot LATER of Product SUP-1 is on hold (supplier recall 12)" in page
    assert all(value != str(shelf.later.id) for value, _, _ in _options(page))  # no longer offered
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).status == "booked"
    assert _lots()[("Test Clinic", "LATER")] == 10


def test_two_sessions_racing_for_the_last_unit_of_the_chosen_lot_take_it_once(shelf):
    """The lot is emptied between the form and the recording: one session takes the unit, the other's becomes an
    exception naming the lot; the lot never goes below zero."""
    import threading

    from clinicadmin.treatment_flow import record

    last = shelf.lot(shelf.supply, "LAST", 1, expires_in_days=400)
    treatments = [shelf.booked(shelf.client(first=f"Race{i}", consents=[KEY]), KEY).id for i in range(2)]
    barrier, outcomes, app = threading.Barrier(2), [], shelf.app

    def worker(treatment_id):
        with app.app_context():
            treatment = db.session.get(Treatment, treatment_id)
            practitioner = db.session.merge(shelf.staff["practitioner"])
            barrier.wait()
            try:
                short = record(
                    treatment,
                    details={"product": shelf.supply.id, "amount": "1"},
                    performed_at=treatment.scheduled_at,
                    notes="raced",
                    user=practitioner,
                    lots=[last.id],
                )
                outcomes.append(len(short))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(t,)) for t in treatments]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == [0, 1]
    assert _lots()[("Test Clinic", "LAST")] == 0 and _lots()[("Test Clinic", "SOON")] == 10
    [owed] = db.session.execute(db.select(StockException)).scalars().all()
    assert (owed.quantity, owed.lot_id) == (1, last.id)
    assert sorted(db.session.execute(db.select(Treatment.status)).scalars()) == ["performed", "performed"]
