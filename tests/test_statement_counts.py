"""SQL statements per request are a small constant: a list, the dashboard or a record's page runs the same number
of statements for 2 rows as for 20 (no query per row)."""

from datetime import UTC, datetime, timedelta

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import Course
from clinicadmin.testing import sql_statements
from clinicadmin.treatment_flow import record

KEY = "testmod"
PAGES = [
    "/admin/",
    "/admin/treatment/",
    "/admin/client/",
    "/admin/consent/",
    "/admin/course/",
    "/admin/stocklot/",
    "/admin/ledger/",
    "/admin/health_entry/",
    "/admin/audit/",
    "/admin/staff/",
    "/admin/certification/",
]
#: The dashboard asks for the day, four alerts (the fourth: open stock exceptions) and two charts; a list for its page
#: (and, where it is not paged by its key, its count). Each read of client data adds the audit row (the chain head's
#: locked read and update, and the insert).
#: The home page also reads the user's location and the clinic's time zone: its "today" is the location's.
MOST = {"/admin/": 15}


def _fill(core, first, how_many):
    """``how_many`` clients, each with a consent, a course, a treatment today and a recorded one (stock used)."""
    for i in range(first, first + how_many):
        client = core.client(first=f"Row{i}", last="Count", consents=[KEY])
        db.session.add(Course(client=client, modality=KEY, planned_sessions=3))
        # A minute each, one after another: the practitioner is never booked twice at once.
        soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1, minutes=i)
        core.booked(client, KEY, when=soon, minutes=1)
        done = core.booked(client, KEY, when=soon - timedelta(days=1), minutes=1)
        record(
            done,
            details={"product": core.supply.id, "amount": "1"},
            performed_at=done.scheduled_at,
            notes=None,
            user=core.staff["practitioner"],
            acknowledgement_note="second session this week, as planned",
        )
    db.session.commit()


def _statements(core, http, url):
    with sql_statements() as seen:
        assert http.get(url).status_code == 200, url
    return len(seen)


@pytest.mark.parametrize("url", PAGES)
def test_a_page_runs_the_same_statements_for_two_rows_as_for_twenty(core, login, url):
    core.lot(core.supply, "BIG", 500)
    manager = login("manager")
    _fill(core, 0, 2)
    few = _statements(core, manager, url)
    _fill(core, 2, 18)
    many = _statements(core, manager, url)
    assert few > 0, "no statement was seen: the counter is not listening"
    assert many == few, f"{url}: {few} statements with 2 rows, {many} with 20"
    assert many <= MOST.get(url, 7), f"{url}: {many} statements"


def test_screening_reads_the_client_and_practitioner_in_a_fixed_number_of_statements(core):
    """The checks read the client's history and consents and the practitioner's certifications: loaded together,
    however many there are, so screening costs the same few statements for every client."""
    from clinicadmin.models import Treatment
    from clinicadmin.screening import screen

    def statements_to_screen(client):
        treatment_id = core.booked(client, KEY).id
        db.session.expire_all()  # as a new request finds it: nothing loaded yet
        treatment = db.session.get(Treatment, treatment_id)
        with sql_statements() as seen:
            screen(treatment, "review")
        db.session.rollback()
        return len(seen)

    core.certify("practitioner", "second-scope")
    few = statements_to_screen(core.client(first="Few", consents=[KEY]))
    many = statements_to_screen(
        core.client(
            first="Many",
            consents=[KEY, "other", "third"],
            history=[("pregnancy", None), ("keloid", 30), ("diabetes", None)],
        )
    )
    assert few > 0 and few == many
    # ... and the treatment's location, whose time zone decides the treatment's day
    assert many <= 7, f"screening ran {many} statements"
