"""The ``clinicadmin`` command: db upgrade, create-user, demo-data, plugins. (The ``cli`` fixture is in conftest.)"""

from click.testing import CliRunner

from clinicadmin.cli import main
from clinicadmin.extensions import db
from clinicadmin.models import Client, User


def test_db_upgrade_builds_the_schema_from_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINICADMIN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("CLINICADMIN_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0
    import sqlite3

    tables = {
        r[0]
        for r in sqlite3.connect(tmp_path / "clinicadmin.sqlite").execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert {"client", "treatment", "stock_lot", "stock_movement", "audit_event", "user"} <= tables
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_create_user_reads_the_password_from_stdin_and_hashes_it(cli):
    result = cli(
        "create-user",
        "nurse@example.com",
        "--role",
        "practitioner",
        "--name",
        "Nurse Joy",
        "--password-stdin",
        input="a-long-enough-password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.execute(db.select(User).where(User.email == "nurse@example.com")).scalar_one()
    assert user.password.startswith("$argon2") and user.role_names == {"practitioner"}
    assert "a-long-enough-password" not in result.output


def test_create_user_refuses_short_passwords_duplicates_and_password_arguments(cli):
    assert (
        "at least 12"
        in cli("create-user", "a@example.com", "--role", "admin", "--password-stdin", input="short\n").output
    )
    for common in ("password1234", "aaaaaaaaaaaaaa", "a@example.com!!"):  # common, repeated, from the email
        refused = cli("create-user", "a@example.com", "--role", "admin", "--password-stdin", input=common + "\n")
        assert refused.exit_code != 0 and "cannot be used" in refused.output, common
    cli("create-user", "a@example.com", "--role", "admin", "--password-stdin", input="violet-kettle-orbit-95\n")
    assert (
        "already exists"
        in cli(
            "create-user", "a@example.com", "--role", "admin", "--password-stdin", input="violet-kettle-orbit-96\n"
        ).output
    )
    assert cli("create-user", "b@example.com", "--role", "admin", "--password", "violet-kettle-orbit-97").exit_code != 0
    assert (
        cli(
            "create-user", "not-an-email", "--role", "admin", "--password-stdin", input="violet-kettle-orbit-98\n"
        ).exit_code
        != 0
    )
    assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar() == 1


def test_demo_data_is_idempotent_and_prints_logins(cli):
    first = cli("demo-data")
    assert first.exit_code == 0, first.output
    assert "manager@example.com" in first.output
    counts = db.session.execute(db.select(db.func.count()).select_from(Client)).scalar()
    assert counts == 30
    second = cli("demo-data")
    assert "Already loaded" in second.output and "manager@example.com" in second.output
    assert db.session.execute(db.select(db.func.count()).select_from(Client)).scalar() == 30


def test_plugins_lists_each_plugin_its_source_and_hooks(cli, tmp_path, monkeypatch):
    pkg = tmp_path / "more-plugins" / "hello"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        "from clinicadmin.plugin_api import Modality, hookimpl\n"
        "@hookimpl\ndef register_modality():\n    return Modality('hello', 'Hello')\n"
    )
    monkeypatch.setenv("CLINICADMIN_PLUGINS_DIR", str(tmp_path / "more-plugins"))
    monkeypatch.setenv("CLINICADMIN_PLUGINS_ENABLED", '["hello"]')
    output = cli("plugins").output
    assert "core.consent  [core default]" in output
    assert f"hello  [folder ({pkg})]" in output
    assert "hooks: register_modality" in output
    assert "modalities: hello (hello)" in output


def test_new_plugin_writes_a_distribution_that_installs_loads_and_passes_its_tests(tmp_path):
    """``clinicadmin new-plugin`` writes an installable distribution; installed (here into a folder of its own on the
    path), its entry point loads, and its tests pass run from its own folder, outside this checkout."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICADMIN_")}
    # The core alone (another plugin installed here, even one called cupping, changes nothing), then the new one.
    env["CLINICADMIN_INSTANCE_PATH"], env["CLINICADMIN_PLUGINS_ENABLED"] = str(tmp_path / "instance"), "[]"
    from clinicadmin.testing import _pg_reachable, _pg_url

    # The generated tests run on PostgreSQL too when it is there, in databases their own run makes and drops.
    on_postgres = not _pg_reachable(_pg_url())
    env["CLINICADMIN_TEST_POSTGRES_URL"] = _pg_url() if on_postgres else "postgresql://nobody@127.0.0.1:1/none"
    if on_postgres:
        env["CLINICADMIN_REQUIRE_POSTGRES"] = "1"

    def run(*args, cwd=tmp_path):
        return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)

    command = ("-c", "from clinicadmin.cli import main; main()", "new-plugin")
    made = run(*command, "cupping", "--path", str(tmp_path / "work"), "--label", "Cupping therapy")
    assert made.returncode == 0, made.stderr
    root = tmp_path / "work" / "cupping"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "README.md",
        "pyproject.toml",
        "src/clinicadmin_cupping/__init__.py",
        "tests/conftest.py",
        "tests/test_cupping.py",
    ]
    assert 'cupping = "clinicadmin_cupping"' in (root / "pyproject.toml").read_text()
    again = run(*command, "cupping", "--path", str(tmp_path / "work"))
    assert again.returncode != 0 and "already exists" in again.stderr
    bad = run(*command, "Cupping-2", "--path", str(tmp_path / "work"))
    assert bad.returncode != 0 and "is not a plugin name" in bad.stderr
    quoted = run(*command, "hijama", "--path", str(tmp_path / "work"), "--label", 'Cupping "wet"')
    assert quoted.returncode != 0 and "is not a label" in quoted.stderr
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["cupping"]  # nothing written for either
    installed = run(
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--target",
        str(tmp_path / "site"),
        str(root),
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    env["PYTHONPATH"], env["CLINICADMIN_PLUGINS_ENABLED"] = str(tmp_path / "site"), '["cupping"]'
    listed = run(*command[:2], "plugins")
    assert "cupping  [entry point (clinicadmin-cupping)]" in listed.stdout, listed.stderr[-3000:]
    tested = run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=root)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert ("18 passed" if on_postgres else "9 passed, 9 skipped") in tested.stdout
