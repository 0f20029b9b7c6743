"""SQLite connections are set up as the deployment says: foreign keys enforced, WAL, and reads through a memory map
of ``SQLITE_MMAP_SIZE`` bytes (0 turns the map off)."""

import pytest

from clinicadmin.app import create_app
from clinicadmin.extensions import db


@pytest.mark.parametrize("size", [64 * 1024 * 1024, 0])
def test_sqlite_reads_through_a_memory_map_of_the_configured_size(tmp_path, size):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'clinic.sqlite'}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "test",
            "SECURITY_PASSWORD_SALT": "test",
            "SQLITE_MMAP_SIZE": size,
        }
    )
    with app.app_context():
        pragma = db.session.connection().exec_driver_sql
        assert pragma("PRAGMA mmap_size").scalar() == size
        assert pragma("PRAGMA foreign_keys").scalar() == 1 and pragma("PRAGMA journal_mode").scalar() == "wal"
        db.session.remove()
        db.engine.dispose()
