"""The core's stock-on-hand report and the home page's stock alerts, as a stock clerk and a manager see them."""

import re
from decimal import Decimal

from clinicadmin.clock import local_today
from clinicadmin.extensions import db
from clinicadmin.models import Location, StockLot


def _rows(html):
    """The report table's rows as {product name: [cells]} (Product is the second column)."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        rows[(cells[1], cells[2])] = cells
    return rows


def _stock(core):
    ok = core.product("OK", unit="mL", reorder_level=5)
    core.lot(ok, "OK-1", 50)
    low = core.product("LOW", unit="mL", reorder_level=10)
    core.lot(low, "LOW-1", 4)
    core.product("NEVER", unit="mL")
    stale = core.product("STALE", unit="mL")
    core.lot(stale, "STALE-OLD", 7, expires_in_days=-3)
    core.lot(stale, "STALE-NEW", 2, expires_in_days=300)
    soon = core.product("SOON", unit="mL")
    core.lot(soon, "SOON-1", 3, expires_in_days=12)
    only_expired = core.product("GONE", unit="mL")
    core.lot(only_expired, "GONE-1", 9, expires_in_days=-1)


def test_stock_on_hand_flags_what_needs_attention(core, login):
    _stock(core)
    rows = _rows(login("stock_clerk").get("/admin/reports/stock-on-hand").get_data(as_text=True))
    at = core.location.name
    fine = rows[("Product OK", at)]
    assert (fine[3], fine[4], fine[6]) == ("50 mL", "0", "")
    assert rows[("Product LOW", at)][6] == "LOW"
    assert rows[("Product NEVER", at)][3] == "0 mL" and rows[("Product NEVER", at)][6] == "OUT OF STOCK"
    assert rows[("Product STALE", at)][3:5] == ["2 mL", "7"] and rows[("Product STALE", at)][6] == "EXPIRED ON SHELF"
    assert rows[("Product SOON", at)][6].startswith("EXPIRES ")
    # A product whose only stock is expired is out of stock, and the expired units are flagged.
    assert rows[("Product GONE", at)][6] == "OUT OF STOCK, EXPIRED ON SHELF"


def test_the_expiry_warning_follows_the_clinic_setting(core, login):
    _stock(core)
    manager = login("manager")
    assert manager.post("/admin/settings/", data={"core.expiry_warning_days": "7"}).status_code == 302
    rows = _rows(manager.get("/admin/reports/stock-on-hand").get_data(as_text=True))
    assert rows[("Product SOON", core.location.name)][6] == ""


def test_each_location_is_reported_on_its_own(core, login):
    _stock(core)
    annex = Location(name="Annex")
    db.session.add(annex)
    db.session.commit()
    http = login("manager")
    everywhere = _rows(http.get("/admin/reports/stock-on-hand").get_data(as_text=True))
    assert everywhere[("Product OK", "Annex")][6] == "OUT OF STOCK"
    only_annex = _rows(http.get(f"/admin/reports/stock-on-hand?location_id={annex.id}").get_data(as_text=True))
    assert {location for _, location in only_annex} == {"Annex"}


def test_the_home_page_shows_stock_alerts_to_those_who_act_on_them(core, login):
    _stock(core)
    for role in ("stock_clerk", "manager"):
        home = login(role).get("/admin/").get_data(as_text=True)
        assert "Stock needing attention" in home and "Product LOW" in home and "Product OK" not in home
    assert "Stock needing attention" not in login("practitioner").get("/admin/").get_data(as_text=True)


def test_alerts_appear_and_disappear_as_stock_changes(core, login):
    from datetime import timedelta

    from clinicadmin.stock import consume, receive

    gel = core.product("GEL", unit="g", reorder_level=5)
    core.lot(gel, "G1", 6, expires_in_days=200)
    http = login("stock_clerk")

    def alerts():
        home = http.get("/admin/").get_data(as_text=True)
        return home.split("Stock needing attention", 1)[1] if "Stock needing attention" in home else ""

    assert "Product GEL" not in alerts()
    consume(product=gel, location=core.location, quantity=2, user=None)
    db.session.commit()
    assert "Product GEL" in alerts() and "LOW" in alerts()
    receive(
        product=gel,
        location=core.location,
        lot_number="G2",
        expires_on=local_today() + timedelta(days=10),
        packs=5,
        user=None,
    )
    db.session.commit()
    assert "LOW" not in alerts() and "EXPIRES" in alerts()  # restocked, but the new lot expires soon
    soon = db.session.execute(db.select(StockLot).where(StockLot.lot_number == "G2")).scalar_one()
    assert (
        http.post(f"/admin/lot/{soon.id}/write-off", data={"quantity": "5", "note": "damaged box"}).status_code == 302
    )
    # The soon-expiring lot is gone, and what is left (4 g) is below the reorder level again.
    assert "EXPIRES" not in alerts() and "LOW" in alerts()


def test_usage_per_month_product_and_modality_with_cost(core, login):

    from clinicadmin.treatment_flow import record

    core.supply.unit_cost = Decimal("0.40")
    db.session.commit()
    core.lot(core.supply, "L", 10)
    for amount in ("1", "2.5"):
        treatment = core.booked(core.client(first=f"U{amount}", consents=["testmod"]), "testmod")
        record(
            treatment,
            details={"product": core.supply.id, "amount": amount},
            performed_at=treatment.scheduled_at,
            notes=None,
            user=core.staff["practitioner"],
        )
    page = login("stock_clerk").get("/admin/reports/stock-usage").get_data(as_text=True)
    assert (
        f"<td>{local_today():%Y-%m}</td><td>Product SUP-1</td><td>Test modality</td><td>3.5 mL</td><td>1.40</td>"
        in page
    )
    assert "Total cost of the products with a unit cost: 1.40." in page


def test_usage_is_summed_per_month_as_stock_is_used_and_agrees_with_the_ledger(core, login):
    """The report reads the monthly usage kept by the stock service: a backdated session counts in its own month,
    the period is whole months, and ``clinicadmin check``'s comparison with the ledger finds nothing wrong."""
    from datetime import UTC, datetime, time, timedelta

    from clinicadmin.integrity import usage_problems
    from clinicadmin.models import StockUsage
    from clinicadmin.treatment_flow import record

    core.lot(core.supply, "L", 20)
    earlier = datetime.combine(local_today().replace(day=1) - timedelta(days=20), time(10), tzinfo=UTC)
    for amount, when in (("1", earlier), ("2", earlier + timedelta(hours=1)), ("4", None)):
        client = core.client(first=f"M{amount}", consents=["testmod"])
        client.consents[0].signed_on = earlier.date() - timedelta(days=1)
        db.session.commit()
        treatment = core.booked(client, "testmod", when=when)
        record(
            treatment,
            details={"product": core.supply.id, "amount": amount},
            performed_at=treatment.scheduled_at,
            notes=None,
            user=core.staff["practitioner"],
        )
    stored = {(u.month, u.quantity) for u in db.session.execute(db.select(StockUsage)).scalars()}
    assert stored == {(f"{earlier:%Y-%m}", 3), (f"{local_today():%Y-%m}", 4)}
    assert usage_problems() == []

    http = login("manager")
    both = http.get(f"/admin/reports/stock-usage?date_from={earlier.date() + timedelta(days=5)}").get_data(as_text=True)
    assert f"<td>{earlier:%Y-%m}</td><td>Product SUP-1</td><td>Test modality</td><td>3 mL</td>" in both
    assert f"<td>{local_today():%Y-%m}</td><td>Product SUP-1</td><td>Test modality</td><td>4 mL</td>" in both
    assert f"Whole months from {earlier:%Y-%m} to {local_today():%Y-%m}" in both
    this_month = http.get(f"/admin/reports/stock-usage?date_from={local_today()}").get_data(as_text=True)
    assert f"<td>{earlier:%Y-%m}</td>" not in this_month and "<td>4 mL</td>" in this_month


def test_check_names_a_month_whose_usage_disagrees_with_the_ledger(core):
    from clinicadmin.integrity import usage_problems
    from clinicadmin.models import StockUsage
    from clinicadmin.treatment_flow import record

    core.lot(core.supply, "L", 20)
    treatment = core.booked(core.client(consents=["testmod"]), "testmod")
    record(
        treatment,
        details={"product": core.supply.id, "amount": "2"},
        performed_at=treatment.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    db.session.execute(db.update(StockUsage).values(quantity=Decimal("5")))
    db.session.commit()
    problems = usage_problems()
    assert len(problems) == 1 and "stored 5, ledger 2" in problems[0]


def test_the_usage_report_reads_the_monthly_usage_not_the_ledger(core, login):
    """A year of a chain's ledger is millions of rows: the report reads only the monthly sums."""
    from clinicadmin.testing import sql_statements
    from clinicadmin.treatment_flow import record

    core.lot(core.supply, "L", 10)
    treatment = core.booked(core.client(consents=["testmod"]), "testmod")
    record(
        treatment,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=treatment.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    with sql_statements() as statements:
        page = login("stock_clerk").get("/admin/reports/stock-usage").get_data(as_text=True)
    assert "<td>1 mL</td>" in page
    assert not [s for s, _ in statements if "stock_movement" in s], "the usage report read the ledger"
