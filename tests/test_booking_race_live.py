"""Twenty front desks book the same practitioner at the same time, through a real gunicorn with four worker processes,
on SQLite and PostgreSQL: exactly one booking, nineteen pages naming the conflict, no server error."""

import html
import secrets
import threading
from datetime import UTC, datetime, timedelta

from test_state_changes_live import KEY, app_config  # noqa: F401  (the fake modality as a plugin folder)

from clinicadmin import clock
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, BookingSlot, Treatment

TIMES = 20


def test_twenty_bookings_of_one_slot_through_four_server_processes_book_once(app, staff, clinic, live_server):
    clinic.certify("practitioner", KEY)  # the booking form offers only certified practitioners
    clients = [clinic.client(first=f"Race{i:02d}", last="Client") for i in range(TIMES)]
    when = (datetime.now(UTC) + timedelta(days=1)).replace(hour=11, minute=0, second=0, microsecond=0)
    form = {
        "modality": KEY,
        "practitioner": str(staff["practitioner"].id),
        "location": str(clinic.location.id),
        "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
    }
    forms = [{**form, "client": str(c.id)} for c in clients]
    server = live_server(workers=4)
    http = server.session("front_desk")
    token = http.token()
    start, responses = threading.Barrier(TIMES), [None] * TIMES

    def send(i):
        data = {**forms[i], "csrf_token": token, "once": secrets.token_urlsafe(24)}
        start.wait()
        responses[i] = http.post("/admin/desk/book", data=data)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(TIMES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(r.status for r in responses) == [200] * (TIMES - 1) + [302], [r.status for r in responses]
    db.session.expire_all()
    [booked] = db.session.execute(db.select(Treatment)).scalars().all()
    ends = clock.aware(when) + timedelta(minutes=60)
    said = (
        f"Test practitioner is booked {clock.shown(clock.aware(when), None, '%H:%M')}–"
        f"{clock.shown(ends, None, '%H:%M')} on {when:%Y-%m-%d} for R.C. at Test Clinic."
    )
    assert all(said in html.unescape(r.text) for r in responses if r.status == 200)
    assert booked.client.first_name.startswith("Race")
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "treatment.book")
        ).scalar()
        == 1
    )
    assert db.session.execute(db.select(db.func.count()).select_from(BookingSlot)).scalar() == 2
