"""The pytest plugin (``clinicadmin.testing``) gives each pytest process databases of its own and drops them, and
brings the warning filters a plugin's tests need, so a plugin's suite behaves the same outside this project."""
import time

import psycopg
import pytest

from clinicadmin.testing import PostgresDatabases, _pg_url

pytest_plugins = ["pytester"]


def _names(databases):
    with databases._admin() as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


def test_each_session_makes_databases_of_its_own_and_drops_them(postgres_databases):
    one, other = PostgresDatabases(_pg_url()), PostgresDatabases(_pg_url())
    assert one.prefix != other.prefix and one.prefix != postgres_databases.prefix
    url = one.create("check")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == f"{one.prefix}_check"
    other.create()
    one.drop_all()
    names = _names(other)
    assert f"{one.prefix}_check" not in names and other.prefix in names
    other.drop_all()
    assert other.prefix not in _names(other)


def test_databases_a_crashed_run_left_are_dropped_once_stale(postgres_databases):
    crashed = PostgresDatabases(_pg_url(), started=time.time() - 7 * 3600)
    running = PostgresDatabases(_pg_url())  # another run, going on now: not touched
    crashed.create()
    running.create()
    try:
        PostgresDatabases(_pg_url()).drop_stale()
        names = _names(running)
        assert crashed.prefix not in names and running.prefix in names
    finally:
        crashed.drop_all()
        running.drop_all()


def test_the_warning_filters_come_with_the_plugin(pytester):
    """A project with no filters of its own (a plugin's distribution) gets the core's: SQLAlchemy's warnings fail a
    test, the known deprecations of the admin's libraries do not; the project's own filters still win."""
    pytester.makepyfile(test_warns="""
        import warnings
        from sqlalchemy.exc import SAWarning

        def test_sqlalchemy_warning_fails():
            warnings.warn("a relationship will copy a column", SAWarning)

        def test_known_deprecation_is_quiet():
            warnings.warn("Passing SelectField choices as tuples is deprecated", DeprecationWarning)

        def test_the_projects_own_filter_wins():
            warnings.warn("an expected one", SAWarning)
    """)
    pytester.makeini("""
        [pytest]
        filterwarnings =
            ignore:an expected one:sqlalchemy.exc.SAWarning
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["FAILED *test_sqlalchemy_warning_fails - sqlalchemy.exc.SAWarnin*"])
