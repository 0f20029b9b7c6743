"""The pytest plugin (``clinicadmin.testing``) gives each pytest process databases of its own and drops them, and
brings the warning filters a plugin's tests need, so a plugin's suite behaves the same outside this project."""

import time

import psycopg

from clinicadmin.testing import PostgresDatabases, _pg_url

pytest_plugins = ["pytester"]


def _names(databases):
    with databases._admin() as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


def test_each_session_makes_databases_of_its_own_drops_them_and_those_a_crashed_run_left(postgres_databases):
    """(One test: each DROP DATABASE waits for a checkpoint of the server, seconds on a busy disk.)"""
    one, other = PostgresDatabases(_pg_url()), PostgresDatabases(_pg_url())  # two runs, or two workers, at once
    crashed = PostgresDatabases(_pg_url(), started=time.time() - 7 * 3600)
    assert len({one.prefix, other.prefix, postgres_databases.prefix}) == 3
    url = one.create("check")
    other.create()
    crashed.create()
    try:
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == f"{one.prefix}_check"
            assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "off"
        one.drop_all()
        PostgresDatabases(_pg_url()).drop_stale()
        names = _names(other)
        assert f"{one.prefix}_check" not in names and crashed.prefix not in names
        assert other.prefix in names  # another run's, going on now: not touched
    finally:
        for databases in (one, other, crashed):
            databases.drop_all(wait=False)


def test_the_warning_filters_come_with_the_plugin(pytester):
    """A project with no filters of its own (a plugin's distribution) gets the core's: SQLAlchemy's warnings fail a
    test, the known deprecations of the admin's libraries do not; the project's own filters still win."""
    pytester.makepyfile(
        test_warns="""
        import warnings
        from sqlalchemy.exc import SAWarning

        def test_sqlalchemy_warning_fails():
            warnings.warn("a relationship will copy a column", SAWarning)

        def test_known_deprecation_is_quiet():
            warnings.warn("Passing SelectField choices as tuples is deprecated", DeprecationWarning)

        def test_the_projects_own_filter_wins():
            warnings.warn("an expected one", SAWarning)
    """
    )
    pytester.makeini("""
        [pytest]
        filterwarnings =
            ignore:an expected one:sqlalchemy.exc.SAWarning
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["FAILED *test_sqlalchemy_warning_fails - sqlalchemy.exc.SAWarnin*"])


def test_the_staff_clients_record_acknowledge_and_override_helpers_take_the_pages_steps(core, login):
    """A plugin's tests record, acknowledge and override through the pages, as staff do, with one call each."""
    from clinicadmin.extensions import db
    from clinicadmin.models import StockLot, Treatment

    lot = core.lot(core.supply, "L1", 10)
    warned = core.booked(core.client("Wendy", "Warned", history=[("diabetes", 400)], consents=["testmod"]), "testmod")
    blocked = core.booked(core.client("Bea", "Blocked", history=[("pregnancy", 30)], consents=["testmod"]), "testmod")
    practitioner, manager = login("practitioner"), login("manager")

    warning = next(f for f in warned.current_findings() if f.severity == "warn")
    assert practitioner.acknowledge(warning, "Glucose checked: 6.1 mmol/L").status_code == 302
    assert (
        practitioner.record(warned, {"product": core.supply.id, "amount": "2"}, **{"lots-product": lot.id}).status_code
        == 302
    )

    block = next(f for f in blocked.current_findings() if f.severity == "block")
    assert practitioner.override(block, "The physician confirmed in writing").status_code == 302
    assert manager.override(block, "The physician confirmed in writing").status_code == 302
    assert practitioner.record(blocked, {"product": core.supply.id, "amount": "1"}).status_code == 302

    db.session.expire_all()
    assert [db.session.get(Treatment, t.id).status for t in (warned, blocked)] == ["performed", "performed"]
    assert db.session.get(StockLot, lot.id).quantity == 10 - 2 - 1
    overrides = [
        (f.overridden_by.email if f.overridden_by else None)
        for f in db.session.get(Treatment, blocked.id).current_findings()
        if f.severity == "block"
    ]
    assert overrides == [core.staff["manager"].email]
