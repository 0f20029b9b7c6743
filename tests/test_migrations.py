"""The migrations (the core's and every shipped plugin's branch) build exactly the models' schema, on SQLite and
PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from clinicadmin.extensions import db


@pytest.fixture
def app_config():
    """Every plugin found, so that every plugin's models and migrations are compared."""
    return {}


def test_migrated_schema_matches_the_models(app):
    from flask import current_app

    migrate_config = current_app.extensions["migrate"].configure_args
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, **{
            k: v for k, v in migrate_config.items() if k in ("render_as_batch",)}})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_quantities_cannot_go_negative_at_the_database(app):
    checks = {c.name for c in db.metadata.tables["stock_lot"].constraints if c.__class__.__name__ == "CheckConstraint"}
    assert "ck_stock_lot_quantity_not_negative" in checks
    from sqlalchemy import inspect

    names = {c["name"] for c in inspect(db.engine).get_check_constraints("stock_lot")}
    assert "ck_stock_lot_quantity_not_negative" in names
