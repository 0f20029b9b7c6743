"""Recall: a lot number leads to exactly the treatments (and clients) that used it; printable, exported as CSV a
spreadsheet cannot run, audited, and for managers only."""

import csv
import io

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent
from clinicadmin.treatment_flow import record

KEY = "testmod"


def _treat(core, client):
    treatment = core.booked(client, KEY)
    record(
        treatment,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=treatment.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    return treatment


def test_a_lot_leads_to_exactly_the_treatments_that_used_it(core, login):
    core.lot(core.supply, "X1", 2, expires_in_days=10)  # used first (FEFO)
    core.lot(core.supply, "Y2", 5, expires_in_days=200)
    ada = core.client(first="Ada", last="=HYPERLINK(1)", consents=[KEY])
    ben = core.client(first="Ben", last="Stone", consents=[KEY])
    cy = core.client(first="Cy", last="Later", consents=[KEY])
    _treat(core, ada)
    _treat(core, ben)
    _treat(core, cy)  # X1 is empty by now: Y2
    core.booked(core.client(first="Dee", consents=[KEY]), KEY)  # booked, used nothing
    http = login("manager")
    page = http.get("/admin/recall/?lot=X1").get_data(as_text=True)
    assert "2 treatment(s) used lot X1." in page
    assert "Ada =HYPERLINK(1)" in page and "Ben Stone" in page and "Cy Later" not in page and "Dee" not in page
    exported = http.get("/admin/recall/csv?lot=X1")
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][:2] == ["Performed", "Client"] and len(rows) == 3
    assert {r[1] for r in rows[1:]} == {"Ada =HYPERLINK(1)", "Ben Stone"}
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    actions = [
        a
        for (a,) in db.session.execute(
            db.select(AuditEvent.action).where(AuditEvent.action.like("recall.%")).order_by(AuditEvent.id)
        )
    ]
    assert actions == ["recall.view", "recall.export"]


def test_only_managers_recall(core, login):
    for role in ("stock_clerk", "practitioner", "front_desk"):
        assert login(role).get("/admin/recall/?lot=X1").status_code == 403
        assert login(role).get("/admin/recall/csv?lot=X1").status_code == 403
