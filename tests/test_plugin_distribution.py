"""The plugin kit end to end, as an outside developer and a clinic meet it (issue 16, "done when"): the core is built
as a wheel and installed into a fresh virtual environment, away from this checkout; its ``clinicadmin new-plugin``
writes a distribution, which is built as a wheel and installed there too; the distribution's own tests pass in that
environment, run from its folder; and the app, migrated and served by gunicorn from an instance folder of its own,
lets a manager log in and book the new modality for a client.

Dependencies come from the package index through pip (its cache makes this quick). Where the index cannot be reached
the test skips saying so, except in CI (``CLINICADMIN_REQUIRE_POSTGRES`` set), where it fails.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from live_server import Session

from clinicadmin.testing import _pg_reachable, _pg_url

ROOT = Path(__file__).resolve().parent.parent
NAME, LABEL = "cupping", "Cupping therapy"
PASSWORD = "a-long-unusual-pass-phrase-93!"
#: the accounts the clinic makes with ``clinicadmin create-user``: (e-mail, name, roles)
OWNER = ("owner@clinic.example.com", "Olive Owner", ("manager",))
PRACTITIONER = ("pat@clinic.example.com", "Pat Practitioner", ("practitioner",))
# Builds and installs: under pytest-xdist this test keeps a worker to itself rather than share one with others.
pytestmark = pytest.mark.xdist_group("install")


def _run(args, *, env, cwd, timeout=300, stdin=None):
    return subprocess.run(args, env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=timeout)


def _ok(done):
    assert done.returncode == 0, f"{' '.join(map(str, done.args))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _core_wheel(tmp, wheels):
    """The core's wheel, built from a copy of its sources (the build writes into its source tree)."""
    source = tmp / "core-src"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "clinicadmin", source / "clinicadmin", ignore=shutil.ignore_patterns("__pycache__"))
    _ok(
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--no-index",
                "--wheel-dir",
                str(wheels),
                str(source),
            ],
            env=os.environ,
            cwd=tmp,
        )
    )
    return next(wheels.glob("clinicadmin-*.whl"))


def _pip_install(python, args, *, env, cwd):
    """``pip install -c constraints.txt ARGS`` into the fresh environment; skips (fails in CI) when the package index
    cannot be reached, and fails on any other error."""
    done = _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            str(ROOT / "constraints.txt"),
            *args,
        ],
        env=env,
        cwd=cwd,
    )
    if done.returncode == 0:
        return
    probe = _run(
        [
            python,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--dest",
            str(cwd / "probe"),
            "-c",
            str(ROOT / "constraints.txt"),
            "pluggy",
        ],
        env=env,
        cwd=cwd,
        timeout=120,
    )
    if probe.returncode != 0:
        reason = f"the package index is unreachable: {probe.stderr.strip().splitlines()[-1:]}"
        if os.environ.get("CLINICADMIN_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    _ok(done)


class Gunicorn:
    """The fresh environment's ``clinicadmin serve`` (gunicorn with the settings the wheel ships) on a free port."""

    def __init__(self, venv, env, cwd):
        self.log_path = cwd / "gunicorn.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [
                str(venv / "bin" / "clinicadmin"),
                "serve",
                "--workers",
                "2",
                "--bind",
                "127.0.0.1:0",
                "--",
                "--graceful-timeout",
                "1",
            ],
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def url(self, timeout=60):
        """The server's URL once it is ready: ``/readyz`` says the schema is at the core's and every plugin's head."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log_path.read_text(errors="replace")
            assert self.process.poll() is None, f"gunicorn exited:\n{log}"
            if "Listening at: " in log and log.count("Booting worker") >= 2:
                url = log.split("Listening at: ", 1)[1].split()[0]
                try:
                    if Session(url, timeout=5).get("/readyz").status == 200:
                        return url
                except OSError:
                    pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not answer:\n{self.log_path.read_text(errors='replace')}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(10)
        self._log.close()


def _option(page, select, label):
    """The value of the option labelled ``label`` (its start) in the select named ``select``."""
    body = re.search(rf'<select[^>]*name="{select}"[^>]*>(.*?)</select>', page, re.S)
    assert body, f"no select {select}"
    for value, text in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', body.group(1)):
        if text.strip().startswith(label):
            return value
    raise AssertionError(f"no option {label!r} in {select}: {body.group(1)[:500]}")


def _problems(response):
    """What a refused form says: its flashed messages and field errors, for the assertion's message."""
    text = re.sub(r"<script.*?</script>|<button.*?</button>", "", response.text, flags=re.S)
    found = re.findall(r'class="[^"]*(?:invalid-feedback|help-block|alert)[^"]*"[^>]*>(.*?)</', text, re.S)
    return response.status, [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", f)).strip() for f in found]


def _once(page):
    found = re.search(r'name="once"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="once"', page)
    return {"once": found.group(1) or found.group(2)} if found else {}


def test_the_scaffold_as_a_wheel_installs_beside_the_core_wheel_passes_its_tests_and_books(tmp_path):
    wheels = tmp_path / "wheels"
    core = _core_wheel(tmp_path, wheels)
    venv = tmp_path / "venv"
    _ok(_run([sys.executable, "-m", "venv", str(venv)], env=os.environ, cwd=tmp_path))
    python = str(venv / "bin" / "python")
    # The fresh environment knows nothing of this checkout or this test run's configuration.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINICADMIN_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))}
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        CLINICADMIN_INSTANCE_PATH=str(tmp_path / "instance"),
        CLINICADMIN_HTTPS="false",
        CLINICADMIN_RATELIMIT_STORAGE_URI="memory://",  # rate limits per process, explicitly
    )
    _pip_install(python, [str(core)], env=env, cwd=tmp_path)
    installed = _ok(
        _run(
            [
                python,
                "-c",
                "import clinicadmin, clinicadmin.config as c; print(clinicadmin.__file__); "
                "print(c.CHECKOUT); print(c.DefaultConfig.MIGRATIONS_DIR)",
            ],
            env=env,
            cwd=tmp_path,
        )
    )
    where, checkout, migrations = installed.split()
    assert where.startswith(str(venv)) and checkout == "None" and Path(migrations, "versions").is_dir()
    # The deployment's secrets, made by the installed core: the served app (production mode) starts only with them.
    _ok(_run(["clinicadmin", "secrets", "generate", str(tmp_path / "secrets.json")], env=env, cwd=tmp_path))
    env["CLINICADMIN_SECRETS_FILE"] = str(tmp_path / "secrets.json")

    # The installed core writes the distribution; the developer builds it and installs it beside the core.
    _ok(_run(["clinicadmin", "new-plugin", NAME, "--label", LABEL], env=env, cwd=tmp_path))
    distribution = tmp_path / NAME
    assert (distribution / "pyproject.toml").is_file() and (distribution / "src" / f"clinicadmin_{NAME}").is_dir()
    _ok(
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--no-index",
                "--wheel-dir",
                str(wheels),
                str(distribution),
            ],
            env=os.environ,
            cwd=tmp_path,
        )
    )
    plugin = next(wheels.glob(f"clinicadmin_{NAME}-*.whl"))
    _pip_install(python, [f"{plugin}[test]"], env=env, cwd=tmp_path)
    listed = _ok(_run(["clinicadmin", "plugins"], env=env, cwd=tmp_path))
    assert f"{NAME}  [entry point (clinicadmin-{NAME})]" in listed and f"modalities: {NAME} ({NAME})" in listed

    # Its tests, from its own folder, in the fresh environment (on PostgreSQL too when a server is there).
    tests_env = dict(env)
    on_postgres = _pg_reachable(_pg_url()) is None
    tests_env["CLINICADMIN_TEST_POSTGRES_URL"] = _pg_url() if on_postgres else "postgresql://nobody@127.0.0.1:1/none"
    tests_env.pop("CLINICADMIN_INSTANCE_PATH")
    tested = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], env=tests_env, cwd=distribution)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert ("18 passed" if on_postgres else "9 passed, 9 skipped") in tested.stdout

    # The clinic: migrated, with the demo clinic's rooms and clients and an owner's account, served by gunicorn.
    _ok(_run(["clinicadmin", "db", "upgrade"], env=env, cwd=tmp_path))
    _ok(_run(["clinicadmin", "demo-data"], env=env, cwd=tmp_path))
    for email, name, roles in (OWNER, PRACTITIONER):
        _ok(
            _run(
                [
                    "clinicadmin",
                    "create-user",
                    email,
                    "--name",
                    name,
                    *(f"--role={r}" for r in roles),
                    "--password-stdin",
                ],
                env=env,
                cwd=tmp_path,
                stdin=PASSWORD + "\n",
            )
        )
    server = Gunicorn(venv, env, tmp_path)
    try:
        url = server.url()
        http = Session(url).login(OWNER[0], PASSWORD)
        # The owner certifies the practitioner for the new modality ...
        form = http.get("/admin/certification/new/").text
        assert f'<option value="{NAME}">{LABEL}</option>' in form
        today = datetime.now(UTC).date()
        tomorrow = today + timedelta(days=1)
        certified = http.post(
            "/admin/certification/new/",
            {
                "user": _option(form, "user", PRACTITIONER[1]),
                "scope": NAME,
                "licence_number": "CUP-1",
                "valid_until": (tomorrow + timedelta(days=365)).isoformat(),
                **_once(form),
            },
        )
        assert certified.status == 302, _problems(certified)
        # ... registers a client ...
        form = http.get("/admin/client/new/").text
        added = http.post(
            "/admin/client/new/",
            {
                "first_name": "Cora",
                "last_name": "Cupping",
                "date_of_birth": "1984-03-04",
                "intake_reviewed_on": today.isoformat(),
                **_once(form),
            },
        )
        assert added.status == 302, _problems(added)
        found = http.get("/admin/desk/ajax/lookup/", name="client", query="Cupping").json()
        client_id = next(str(row[0]) for row in found if "Cora" in row[1])
        # ... and books the modality for her with the practitioner, tomorrow at ten.
        form = http.get("/admin/desk/book", modality=NAME).text
        assert _option(form, "modality", LABEL) == NAME and 'name="details-sunburn"' in form
        booked = http.post(
            "/admin/desk/book",
            {
                "client": client_id,
                "modality": NAME,
                "practitioner": _option(form, "practitioner", PRACTITIONER[1]),
                "location": _option(form, "location", ""),
                "scheduled_at": f"{tomorrow.isoformat()}T10:00",
                "confirm_outside_hours": "y",
                # the page showed the modality's booking question (sunburn); unticked, a browser posts nothing for it
                "questions_for": NAME,
                **_once(form),
            },
        )
        assert booked.status == 302, _problems(booked)
        shown = http.get(booked.headers["Location"].removeprefix(url)).text
        assert LABEL in shown and "Cora Cupping" in shown
    finally:
        server.stop()
    checked = _ok(_run(["clinicadmin", "check"], env=env, cwd=tmp_path))
    assert "OK: the audit chain" in checked
    stored = json.loads(
        _ok(
            _run(
                [
                    python,
                    "-c",
                    (
                        "import json; from clinicadmin.app import create_app; from clinicadmin.extensions import db; "
                        "from clinicadmin.models import Client, Treatment; app = create_app({}); "
                        "app.app_context().push(); "
                        "print(json.dumps([[t.modality, t.status] for t in db.session.execute("
                        "db.select(Treatment).join(Client).where(Client.last_name == 'Cupping')).scalars()]))"
                    ),
                ],
                env=env,
                cwd=tmp_path,
            )
        )
    )
    assert stored == [[NAME, "booked"]]
