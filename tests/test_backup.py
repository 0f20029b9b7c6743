"""``clinicadmin backup`` makes a consistent copy that restores: the data comes back, on SQLite and PostgreSQL."""

import json
import subprocess

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


def test_a_backup_restores_with_its_data(core, database_url, tmp_path, request):
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


def test_a_backup_holds_no_keys_and_restores_with_the_deployments_secrets(cli, database_url, tmp_path, monkeypatch):
    """The two-factor keys never sit beside the data they encrypt; the restored copy opens with the secrets the
    deployment keeps apart (here its environment): a password made before the backup signs in on the copy."""
    from clinicadmin.app import create_app
    from clinicadmin.deployment_secrets import new_secrets
    from clinicadmin.testing import CSRF_RE, TEST_PASSWORD

    secrets = new_secrets()
    for name, value in secrets.items():
        monkeypatch.setenv(f"CLINICADMIN_{name}", value if isinstance(value, str) else json.dumps(value))
    made = cli("create-user", "kept@example.com", "--role", "manager", "--password-stdin", input=TEST_PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    folder = tmp_path / "b"
    backed_up = cli("backup", str(folder))
    assert backed_up.exit_code == 0 and "secrets are not in it" in backed_up.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "Not in this backup" in manifest["secrets"] and "docs/operations.md" in manifest["secrets"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(["manifest.json", manifest["database"]])
    everything = b"".join(p.read_bytes() for p in folder.iterdir())
    keys = [secrets["SECRET_KEY"], secrets["SECURITY_PASSWORD_SALT"], *secrets["SECURITY_TOTP_SECRETS"].values()]
    keys += [*secrets["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"], *secrets["AUDIT_KEYS"].values()]
    assert not any(key.encode() in everything for key in keys)

    if manifest["backend"] != "sqlite":
        return  # the PostgreSQL dump restores as test_a_backup_restores_with_its_data shows
    restored = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / manifest['database']}",
            "INSTANCE_PATH": str(tmp_path / "restored"),
            "TESTING": True,
            "PLUGINS_ENABLED": [],
        }
    )
    try:
        with restored.app_context():
            http = restored.test_client()
            match = CSRF_RE.search(http.get("/login").get_data(as_text=True))
            token = match.group(1) or match.group(2)
            http.post("/login", data={"email": "kept@example.com", "password": TEST_PASSWORD, "csrf_token": token})
            assert http.get("/admin/client/").status_code == 200
    finally:
        with restored.app_context():
            db.engine.dispose()
