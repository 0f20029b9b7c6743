"""Each client's first performed session (``Client.first_treated_at``) follows the treatments recorded and archived,
client retention counts new clients by it, and ``clinicadmin check`` notices when it is wrong."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import Client
from clinicadmin.treatment_flow import record

KEY = "testmod"


@pytest.fixture
def client(core):
    core.lot(core.supply, "L-FIRST", 50)
    client = core.client(first="Fay", last="First", consents=[KEY])
    client.intake_reviewed_on = date(2025, 12, 1)
    for consent in client.consents:
        consent.signed_on = date(2025, 12, 1)
    db.session.commit()
    return client


def _perform(core, client, when):
    treatment = core.booked(client, KEY, when=when)
    record(
        treatment,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=when,
        notes=None,
        user=core.staff["practitioner"],
        acknowledgement_note="checked",
    )
    return treatment


def _first(client_id):
    db.session.expire_all()
    return db.session.get(Client, client_id).first_treated_at


def test_the_earliest_recorded_session_is_the_first_whatever_order_they_are_recorded_in(core, client):
    assert _first(client.id) is None
    booked_only = core.booked(client, KEY, when=datetime(2026, 1, 1, 9, tzinfo=UTC))
    assert booked_only.status == "booked" and _first(client.id) is None
    _perform(core, client, datetime(2026, 3, 10, 10, tzinfo=UTC))
    assert _first(client.id) == datetime(2026, 3, 10, 10, tzinfo=UTC)
    _perform(core, client, datetime(2026, 4, 2, 10, tzinfo=UTC))  # later: the first stays
    assert _first(client.id) == datetime(2026, 3, 10, 10, tzinfo=UTC)
    _perform(core, client, datetime(2026, 2, 20, 10, tzinfo=UTC))  # entered late, but earlier: it becomes the first
    assert _first(client.id) == datetime(2026, 2, 20, 10, tzinfo=UTC)


def test_archiving_the_first_session_makes_the_next_one_first_and_the_client_new_in_its_month(core, client, login):
    first = _perform(core, client, datetime(2026, 1, 12, 10, tzinfo=UTC))
    _perform(core, client, datetime(2026, 2, 9, 10, tzinfo=UTC))
    manager = login("manager")

    def retention():
        response = manager.get("/admin/reports/client-retention.csv?date_from=2026-01-01&date_to=2026-02-28")
        return list(csv.reader(io.StringIO(response.get_data(as_text=True))))[1:]

    assert retention() == [["2026-01", "1", "1", "0", "0%"], ["2026-02", "1", "0", "1", "100%"]]
    assert (
        manager.post(f"/admin/desk/{first.id}/archive", data={"reason": "entered for the wrong client"}).status_code
        == 302
    )
    assert _first(client.id) == datetime(2026, 2, 9, 10, tzinfo=UTC)
    assert retention() == [["2026-02", "1", "1", "0", "0%"]]


def test_a_client_new_in_a_month_is_new_only_where_the_filters_saw_them_that_month(core, client, login):
    """Filtered by practitioner, a client first treated in January by someone else is returning in February."""
    _perform(core, client, datetime(2026, 1, 12, 10, tzinfo=UTC))
    second = core.booked(client, KEY, practitioner="manager", when=datetime(2026, 2, 9, 10, tzinfo=UTC))
    record(
        second,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=second.scheduled_at,
        notes=None,
        user=core.staff["manager"],
        acknowledgement_note="checked",
    )
    manager = login("manager")
    response = manager.get(
        "/admin/reports/client-retention.csv?date_from=2026-01-01&date_to=2026-02-28"
        f"&practitioner_id={core.staff['manager'].id}"
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))[1:]
    assert rows == [["2026-02", "1", "0", "1", "100%"]]


def test_check_names_a_client_whose_first_session_is_wrong(core, client, cli):
    _perform(core, client, datetime(2026, 3, 10, 10, tzinfo=UTC))
    assert "OK: each client's first session agrees with their treatments." in cli("check").output
    db.session.execute(
        db.update(Client).where(Client.id == client.id).values(first_treated_at=datetime(2020, 1, 1, tzinfo=UTC))
    )
    db.session.commit()
    result = cli("check")
    assert result.exit_code == 1
    assert f"CLIENTS: client {client.id}: first session stored as 2020-01-01 00:00:00" in result.output
