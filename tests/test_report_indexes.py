"""A year's report reads the performed sessions from the month index (``ix_treatment_performed_month``), which keys
them by ``reporting.month_group``: the index stays usable only while the reports' SQL matches its expression and its
partial condition to the letter, which is what these tests pin (on SQLite and PostgreSQL)."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from clinicadmin.extensions import db
from clinicadmin.testing import sql_statements
from clinicadmin.treatment_flow import record

KEY = "testmod"
INDEX = "ix_treatment_performed_month"
CORE_REPORTS = ("treatments-per-modality", "practitioner-activity", "client-retention")


#: SQLite's statistics of the treatment table's indexes at a chain's scale (``ANALYZE`` of ``make bench``'s
#: database: a million treatments), so that its planner plans a test's query as it would a chain's.
CHAIN_STATISTICS = {
    "ix_treatment_performed_month": "979958 27222 5445 1 1 1 1",
    "ix_treatment_client_performed": "979958 10 1",
    "ix_treatment_performed_status": "1000040 1 1 1",
    "ix_treatment_practitioner_scheduled": "1000040 25001 1",
    "ix_treatment_modality_scheduled": "1000040 200008 1",
    "ix_treatment_archived_at": "1000040 1000040",
    "ix_treatment_client_modality": "1000040 11 10 1",
    "ix_treatment_modality": "1000040 200008",
    "ix_treatment_status": "1000040 333347",
    "ix_treatment_performed_at": "1000040 1",
    "ix_treatment_location_id": "1000040 100004",
    "ix_treatment_screening_status": "1000040 500020",
    "ix_treatment_practitioner_id": "1000040 25001",
    "ix_treatment_course_id": "1000040 1000040",
    "ix_treatment_scheduled_at": "1000040 1",
}


def _plan(statement, parameters):
    """The database's plan for a statement the app ran, as one string, planned as at a chain's scale: SQLite is
    given a chain's statistics, PostgreSQL is told not to scan whole tables (a test's few rows would otherwise be
    read by a sequential scan, which says nothing about whether the index can serve)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
    else:
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'treatment'")
        for index, stat in CHAIN_STATISTICS.items():
            connection.exec_driver_sql(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('treatment', ?, ?)", (index, stat)
            )
        connection.exec_driver_sql("ANALYZE sqlite_schema")  # reload the statistics
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


def _performed(core, first, *times):
    """A client (consent and history reviewed before these dates) with a session performed at each of ``times``."""
    client = core.client(first=first, last="Reported", consents=[KEY])
    client.intake_reviewed_on = date(2025, 12, 1)
    for consent in client.consents:
        consent.signed_on = date(2025, 12, 1)
    for when in times:
        record(
            core.booked(client, KEY, when=when, minutes=1),
            details={"product": core.supply.id, "amount": "1"},
            performed_at=when,
            notes=None,
            user=core.staff["practitioner"],
            acknowledgement_note="checked",
        )
    db.session.commit()
    return client


@pytest.fixture
def year(core):
    core.lot(core.supply, "L-YEAR", 50)
    return _performed(core, "Ann", datetime(2026, 1, 10, 10, tzinfo=UTC), datetime(2026, 2, 10, 10, tzinfo=UTC))


def test_the_month_index_is_built_by_the_migrations(app):
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        found = connection.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %(name)s", {"name": INDEX}
        ).scalar()
        assert "date_trunc('month'" in found and "WHERE" in found
    else:
        found = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = ?", (INDEX,)).scalar()
        assert "strftime('%Y-%m', performed_at)" in found and "WHERE" in found


@pytest.mark.parametrize("key", CORE_REPORTS)
def test_a_core_report_reads_the_year_from_the_month_index(core, login, year, key):
    manager = login("manager")
    with sql_statements() as seen:
        response = manager.get(f"/admin/reports/{key}?date_from=2025-12-01&date_to=2026-11-30")
    assert response.status_code == 200
    reads = [(s, p) for s, p in seen if "treatment" in s and "GROUP BY" in s.upper()]
    assert reads, f"{key}: no grouped read of treatments was seen"
    # The partial index's condition written as its own literal: PostgreSQL's generic plan for a statement prepared
    # after a few runs could not use the index with a bound status.
    assert all("status = 'performed'" in s for s, _ in reads), reads
    plans = [_plan(s, p) for s, p in reads]
    assert any(INDEX in plan for plan in plans), f"{key} does not read {INDEX}:\n" + "\n---\n".join(plans)


def test_the_period_is_cut_at_its_days_within_the_months_the_index_reads(core, login):
    """The index is read by whole months; the period's first and last days still cut it exactly, and a session a
    minute either side of midnight at a month's end lands in its own month, on both databases."""
    core.lot(core.supply, "L-EDGE", 50)
    _performed(
        core,
        "Edge",
        datetime(2026, 1, 30, 23, 59, tzinfo=UTC),
        datetime(2026, 1, 31, 23, 59, tzinfo=UTC),
        datetime(2026, 2, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 2, 2, 0, 0, tzinfo=UTC),
    )
    response = login("manager").get(
        "/admin/reports/treatments-per-modality.csv?date_from=2026-01-31&date_to=2026-02-01"
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[1:] == [["2026-01", "Test modality", "1", "1"], ["2026-02", "Test modality", "1", "1"]]
