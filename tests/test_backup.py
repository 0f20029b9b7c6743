"""``clinicadmin backup`` makes a consistent copy that restores: the data comes back, on SQLite and PostgreSQL."""

import json
import subprocess

import pytest
from click.testing import CliRunner

from clinicadmin.cli import backup
from clinicadmin.extensions import db


def _restore_postgres(dump, databases):
    import psycopg

    target = databases.create("restore")  # an empty database of this session, beside the test database
    subprocess.run(["pg_restore", "--no-owner", "--dbname", target, str(dump)], check=True, capture_output=True)
    with psycopg.connect(target) as conn:
        return [r[0] for r in conn.execute("SELECT last_name FROM client ORDER BY last_name")]


def _restore_sqlite(copy):
    import sqlite3

    return [r[0] for r in sqlite3.connect(copy).execute("SELECT last_name FROM client ORDER BY last_name")]


def test_a_backup_restores_with_its_data_and_secrets(core, database_url, tmp_path, request):
    core.client(first="Kept", last="Safely")
    core.client(first="Also", last="Here")
    folder = tmp_path / "backup-1"
    result = CliRunner().invoke(backup, [str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / manifest["database"]).stat().st_mode & 0o777 == 0o600
    revisions = sorted(db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalars())
    assert manifest["revisions"] == revisions
    restored = (
        _restore_sqlite(folder / manifest["database"])
        if manifest["backend"] == "sqlite"
        else _restore_postgres(folder / manifest["database"], request.getfixturevalue("postgres_databases"))
    )
    assert restored == ["Here", "Safely"]


def test_a_backup_never_overwrites_an_earlier_one(core, tmp_path):
    folder = tmp_path / "backup-1"
    assert CliRunner().invoke(backup, [str(folder)]).exit_code == 0
    again = CliRunner().invoke(backup, [str(folder)])
    assert again.exit_code != 0 and "is not empty" in again.output


@pytest.mark.parametrize("app_config", [{"PLUGINS_ENABLED": []}])
def test_secrets_go_with_the_backup(app, tmp_path):
    from clinicadmin.config import load_or_create_secrets

    secrets = load_or_create_secrets(app.instance_path)
    folder = tmp_path / "b"
    assert CliRunner().invoke(backup, [str(folder)]).exit_code == 0
    assert json.loads((folder / "secrets.json").read_text()) == secrets
    assert (folder / "secrets.json").stat().st_mode & 0o777 == 0o600
