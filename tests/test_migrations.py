"""The migrations (the core's and every shipped plugin's branch) build exactly the models' schema, on SQLite and
PostgreSQL."""

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from shipped_plugins import ALL_SHIPPED

from clinicadmin.extensions import db


@pytest.fixture
def app_config():
    """Every shipped plugin, so that every plugin's models and migrations are compared."""
    return {"PLUGINS_ENABLED": ALL_SHIPPED}


def test_migrated_schema_matches_the_models(app):
    from flask import current_app

    migrate_config = current_app.extensions["migrate"].configure_args
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                **{k: v for k, v in migrate_config.items() if k in ("render_as_batch", "include_object")},
            },
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_quantities_cannot_go_negative_at_the_database(app):
    checks = {c.name for c in db.metadata.tables["stock_lot"].constraints if c.__class__.__name__ == "CheckConstraint"}
    assert "ck_stock_lot_quantity_not_negative" in checks
    from sqlalchemy import inspect

    names = {c["name"] for c in inspect(db.engine).get_check_constraints("stock_lot")}
    assert "ck_stock_lot_quantity_not_negative" in names


def test_every_migration_runs_down_and_up_over_a_clinic_full_of_data(tmp_path):
    """On SQLite, with the demo clinic in the database (rows that reference the tables being rebuilt), the core's
    revisions go down to the first and up again, and the data is still whole."""
    import os
    import subprocess
    import sys

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINICADMIN_")},
        "CLINICADMIN_INSTANCE_PATH": str(tmp_path),
        "CLINICADMIN_PLUGINS_ENABLED": json.dumps(ALL_SHIPPED),
    }

    def clinicadmin(*args):
        done = subprocess.run(
            [sys.executable, "-c", "from clinicadmin.cli import main; main()", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    clinicadmin("db", "upgrade")
    clinicadmin("demo-data")
    clinicadmin("db", "downgrade", "b542b2e3a88c")
    clinicadmin("db", "upgrade")
    checked = clinicadmin("check")
    assert "OK: the audit chain" in checked and "OK: the monthly usage" in checked
