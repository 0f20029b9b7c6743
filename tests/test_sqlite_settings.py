"""SQLite connections are set up as the deployment says: foreign keys enforced, WAL, and reads through a memory map
of ``SQLITE_MMAP_SIZE`` bytes (0 turns the map off)."""
import pytest

from clinicadmin.extensions import db


def _pragma(app, name):
    with app.app_context():
        return db.session.connection().exec_driver_sql(f"PRAGMA {name}").scalar()


@pytest.mark.parametrize("size", [64 * 1024 * 1024, 0])
def test_sqlite_reads_through_a_memory_map_of_the_configured_size(app_factory, database_url, size):
    if not database_url.startswith("sqlite"):
        pytest.skip("a SQLite setting")
    app = app_factory(SQLITE_MMAP_SIZE=size)
    assert _pragma(app, "mmap_size") == size
    assert _pragma(app, "foreign_keys") == 1 and _pragma(app, "journal_mode") == "wal"
