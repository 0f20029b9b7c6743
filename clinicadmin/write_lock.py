"""Taking the database's write lock early, on SQLite."""

from .extensions import db


def hold_write_lock(session=None):
    """SQLite: take the database's write lock now, until ``session``'s transaction ends, so that what it reads before
    it writes cannot change under it (SQLite has one writer at a time). A no-op write does it: SQLite takes the lock
    for a write statement whether or not it changes a row. PostgreSQL: nothing (it locks rows, not the database)."""
    connection = (session or db.session).connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("UPDATE audit_event SET seq = seq WHERE 0 = 1")
