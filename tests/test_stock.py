"""Receiving and consuming stock: packs to units, FEFO, expired lots, no negative stock, concurrency."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from clinicadmin.clock import local_today
from clinicadmin.extensions import db
from clinicadmin.models import StockException, StockLot, StockMovement, Treatment
from clinicadmin.stock import OutOfStock, StockError, consume, receive


def _quantities():
    db.session.expire_all()
    return dict(db.session.execute(db.select(StockLot.lot_number, StockLot.quantity)).all())


def test_fefo_takes_the_lot_expiring_first_and_never_an_expired_one(core):
    p = core.supply
    core.lot(p, "B-LATER", 5, expires_in_days=200)
    core.lot(p, "A-SOON", 3, expires_in_days=10)
    core.lot(p, "C-NONE", 4, expires_in_days=None)
    core.lot(p, "X-EXPIRED", 100, expires_in_days=-1)
    taken = consume(product=p, location=core.location, quantity=Decimal("9.5"), user=None)
    db.session.commit()
    assert [q for _, q in taken] == [3, 5, Decimal("1.5")]
    assert _quantities() == {"B-LATER": 0, "A-SOON": 0, "C-NONE": Decimal("2.5"), "X-EXPIRED": 100}


def test_a_lot_expiring_today_is_still_usable_but_not_tomorrow(core):
    p = core.supply
    core.lot(p, "TODAY", 1, expires_in_days=0)
    consume(product=p, location=core.location, quantity=1, user=None)
    core.lot(p, "YESTERDAY", 1, expires_in_days=-1)
    with pytest.raises(OutOfStock):
        consume(product=p, location=core.location, quantity=1, user=None)


def test_out_of_stock_says_what_is_missing(core):
    core.lot(core.supply, "L", 2)
    with pytest.raises(OutOfStock, match="3 mL needed, 2 available"):
        consume(product=core.supply, location=core.location, quantity=3, user=None)
    db.session.rollback()
    assert _quantities() == {"L": 2}


def test_quantities_are_exact_and_the_database_refuses_negative_stock(core):
    lot = core.lot(core.supply, "L", 1)
    for _ in range(10):
        consume(product=core.supply, location=core.location, quantity=Decimal("0.1"), user=None)
    db.session.commit()
    assert _quantities() == {"L": 0}
    with pytest.raises(IntegrityError):  # the CHECK constraint, on both databases
        db.session.execute(db.update(StockLot).where(StockLot.id == lot.id).values(quantity=-1))
        db.session.flush()
    db.session.rollback()


def test_receive_converts_packs_to_units_and_adds_a_ledger_row(core):
    needles = core.product("NDL", category="needle", unit="needle", pack_size=100)
    lot = receive(
        product=needles,
        location=core.location,
        lot_number="N1",
        expires_on=local_today() + timedelta(400),
        packs=3,
        user=core.staff["stock_clerk"],
    )
    db.session.commit()
    assert lot.quantity == 300
    assert db.session.execute(
        db.select(StockMovement.quantity, StockMovement.reason).where(StockMovement.lot_id == lot.id)
    ).all() == [(300, "receipt")]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"expires_on": None}, "expiry date is required"),
        (
            {"expires_on": datetime.now(UTC).date() - timedelta(days=1)},
            "already expired",
        ),  # the test clinic's zone: UTC
        ({"packs": 0}, "whole number above zero"),
        ({"packs": Decimal("1.5")}, "whole number above zero"),
        ({"lot_number": "  "}, "lot number is required"),
    ],
)
def test_receive_refuses_bad_deliveries(core, kwargs, message):
    args = {
        "product": core.supply,
        "location": core.location,
        "lot_number": "L9",
        "expires_on": local_today() + timedelta(days=30),
        "packs": 1,
        "user": None,
        **kwargs,
    }
    with pytest.raises(StockError, match=message):
        receive(**args)
    db.session.rollback()
    assert _quantities() == {}


def test_receiving_through_the_page(core, login):
    box = core.product("BOX", category="needle", unit="needle", pack_size=100)
    http = login("stock_clerk")
    expiry = (local_today() + timedelta(days=365)).isoformat()
    supplier = core.supplier().id
    response = http.post(
        "/admin/receive/",
        data={
            "product": box.id,
            "location": core.location.id,
            "supplier": supplier,
            "lot_number": "LOT-77",
            "expires_on": expiry,
            "packs": "2",
        },
    )
    assert response.status_code == 302
    assert _quantities() == {"LOT-77": 200}
    bad = http.post(
        "/admin/receive/",
        data={
            "product": box.id,
            "location": core.location.id,
            "supplier": supplier,
            "lot_number": "LOT-78",
            "expires_on": "",
            "packs": "2",
        },
    )
    assert bad.status_code == 200 and "expiry date is required" in bad.get_data(as_text=True)
    for packs in ("-1", "0", "1.5", "NaN", "99999999"):
        assert (
            http.post(
                "/admin/receive/",
                data={
                    "product": box.id,
                    "location": core.location.id,
                    "supplier": supplier,
                    "lot_number": "LOT-79",
                    "expires_on": expiry,
                    "packs": packs,
                },
            ).status_code
            == 200
        )
    assert _quantities() == {"LOT-77": 200}


def test_two_concurrent_recordings_of_the_last_unit_take_it_once(core, login):
    """Two requests on separate connections race for the last unit: both sessions are recorded, one takes the unit,
    the other's unit becomes an open stock exception; the lot never goes below zero."""
    from clinicadmin.treatment_flow import TreatmentRejected, record

    core.lot(core.supply, "LAST", 1)
    treatments = [core.booked(core.client(first=f"C{i}", consents=["testmod"]), "testmod").id for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []
    app = core.app

    def worker(treatment_id):
        with app.app_context():
            treatment = db.session.get(Treatment, treatment_id)
            details = {"product": core.supply.id, "amount": "1"}
            practitioner = db.session.merge(core.staff["practitioner"])
            barrier.wait()
            try:
                exceptions = record(
                    treatment, details=details, performed_at=treatment.scheduled_at, notes=None, user=practitioner
                )
                outcomes.append([f"{e.quantity:f} short" for e in exceptions])
            except TreatmentRejected as exc:
                outcomes.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(t,)) for t in treatments]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == [[], ["1 short"]]
    assert _quantities() == {"LAST": 0}
    statuses = sorted(db.session.execute(db.select(Treatment.status)).scalars())
    assert statuses == ["performed", "performed"]
    owed = db.session.execute(db.select(StockException.quantity, StockException.resolved_at)).all()
    assert owed == [(1, None)]
