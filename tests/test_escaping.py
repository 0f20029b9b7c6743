"""Hostile text typed into the records comes back inert on every page that shows it, in flash messages and in
exports: never markup, never a template expression, never a link that runs script."""

from datetime import timedelta

from clinicadmin.clock import local_today
from clinicadmin.extensions import db
from clinicadmin.models import StockLot, Supplier
from clinicadmin.treatment_flow import record

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(2)>'
TEMPLATE = "{{7*7}}"
URL = "javascript:alert(3)"


def _inert(html):
    return SCRIPT not in html and "<img src=x" not in html and f'href="{URL}"' not in html


def test_hostile_text_is_shown_as_text_everywhere(core, login):
    client = core.client(first=SCRIPT, last=ATTRIBUTE, consents=["testmod"])
    client.clinical_notes = f"{TEMPLATE} {URL}"
    client.email = "x@example.com"
    core.supply.name = f"{SCRIPT} serum"
    db.session.add(Supplier(name=ATTRIBUTE, email="s@example.com"))
    db.session.commit()
    manager = login("manager")
    received = manager.post(
        "/admin/receive/",
        follow_redirects=True,
        data={
            "product": core.supply.id,
            "location": core.location.id,
            "lot_number": SCRIPT[:60],
            "packs": "2",
            "expires_on": (local_today() + timedelta(days=300)).isoformat(),
            "supplier": db.session.execute(db.select(Supplier.id)).scalar_one(),
            "note": TEMPLATE,
        },
    )
    assert received.status_code == 200 and _inert(received.get_data(as_text=True))  # the flash message included
    treatment = core.booked(client, "testmod")
    record(
        treatment,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=treatment.scheduled_at,
        notes=f"{SCRIPT} {TEMPLATE}",
        user=core.staff["practitioner"],
    )
    lot = db.session.execute(db.select(StockLot)).scalar_one()
    pages = [
        "/admin/client/",
        f"/admin/client/details/?id={client.id}",
        f"/admin/client/edit/?id={client.id}",
        "/admin/consent/",
        "/admin/treatment/",
        f"/admin/desk/{treatment.id}",
        f"/admin/desk/{treatment.id}/aftercare",
        "/admin/product/",
        "/admin/stocklot/",
        f"/admin/lot/{lot.id}",
        "/admin/ledger/",
        "/admin/supplier/",
        "/admin/reports/stock-on-hand",
        "/admin/reports/stock-usage",
        f"/admin/recall/?lot={SCRIPT[:60]}",
        "/admin/audit/",
        "/admin/",
    ]
    for url in pages:
        response = manager.get(url)
        assert response.status_code == 200, url
        assert _inert(response.get_data(as_text=True)), url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in manager.get("/admin/client/").get_data(as_text=True)
    details = manager.get(f"/admin/client/details/?id={client.id}").get_data(as_text=True)
    assert "{{7*7}} javascript:alert(3)" in details  # a template expression stays text, a URL is not a link
    assert login("front_desk").get(f"/admin/client_desk/details/?id={client.id}").status_code == 200
