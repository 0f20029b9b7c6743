"""The app served by a real gunicorn with several worker processes, for tests of what only a multi-process server
shows (state kept in one process, concurrent requests on separate connections).

Use it from a test module with ``from live_server import live_server  # noqa: F401`` (``tests/`` is on the test path,
for plugin tests too), then::

    def test_something(app, staff, live_server):
        server = live_server(workers=4)            # extra keyword arguments are config values
        http = server.session("manager")           # a role of the ``staff`` fixture, or an e-mail address
        response = http.get("/admin/desk/ajax/lookup/", name="client", query="a")
        assert response.status == 200 and response.json() == [...]

The server runs each worker's ``create_app()`` from an instance folder of its own whose ``config.py`` holds the test
database's URL, the test app's secrets (so the ``staff`` fixture's passwords verify and sessions cross workers) and its
plugin choice. It sees only committed data: the fixture commits the test's session before it starts the server, so
data made through the ``app``, ``staff`` and ``clinic`` fixtures is there. It works on both databases (SQLite in WAL
mode). Config that is not a literal (``EXTRA_PLUGINS``' plugin objects) cannot cross to another process and is
refused. Every server is stopped at teardown: SIGINT, then SIGKILL of its process group after a bounded wait.
"""

import ast
import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from clinicadmin.config import SECRET_KEYS
from clinicadmin.testing import CSRF_RE, TEST_PASSWORD

#: config the server takes over from the test app, so that both read and write the same data the same way
SHARED_CONFIG = (
    "SQLALCHEMY_DATABASE_URI",
    *SECRET_KEYS,
    "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS",
    "PLUGINS_ENABLED",
    "PLUGINS_DIR",
    "CLINIC_NAME",
)
START_TIMEOUT = 60
STOP_TIMEOUT = 10


class Response:
    """A finished HTTP exchange: ``status``, ``headers``, ``text``, ``json()``; redirects are not followed."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Session:
    """An HTTP client with its own cookie jar; ``post`` adds a CSRF token from a page of the site unless given."""

    def __init__(self, base_url, timeout=30):
        self.base_url, self.timeout = base_url, timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects())

    def request(self, method, path, params=None, data=None):
        url = self.base_url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        body = None if data is None else urllib.parse.urlencode(data, doseq=True).encode()
        req = urllib.request.Request(url, data=body, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=self.timeout) as answer:
                return Response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as answer:  # 3xx (not followed), 4xx and 5xx
            with answer:
                return Response(answer.code, answer.headers, answer.read())

    def get(self, path, **params):
        return self.request("GET", path, params=params)

    def token(self, page="/admin/"):
        """The CSRF token of this session, read from ``page`` (or the page it redirects to: a role's home)."""
        response = self.get(page)
        if response.status in (301, 302, 303) and response.headers.get("Location", "").startswith(("/", self.base_url)):
            response = self.get(response.headers["Location"].removeprefix(self.base_url))
        match = CSRF_RE.search(response.text)
        assert match, f"no CSRF token on {page} ({response.status})"
        return match.group(1) or match.group(2)

    def post(self, path, data=None, csrf=True):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.token()
        return self.request("POST", path, data=data)

    def login(self, email, password=TEST_PASSWORD):
        response = self.post("/login", {"email": email, "password": password, "csrf_token": self.token("/login")})
        assert response.status in (302, 303), f"login as {email} failed: {response.status}"
        return self


class LiveServer:
    """One gunicorn serving the app: ``url``, ``session(role_or_email)``, ``stop()``."""

    start_timeout = START_TIMEOUT

    def __init__(self, folder, config, workers, staff):
        self.folder, self.workers, self.staff = folder, workers, staff
        instance = folder / "instance"
        instance.mkdir(parents=True)
        lines = []
        for key, value in config.items():
            if value is None:
                continue
            try:
                same = ast.literal_eval(repr(value)) == value
            except (ValueError, SyntaxError):
                same = False
            if not same:
                raise ValueError(f"live_server: config {key}={value!r} cannot be written for another process")
            lines.append(f"{key} = {value!r}\n")
        (instance / "config.py").write_text("".join(lines))
        env = {key: value for key, value in os.environ.items() if not key.startswith("CLINICADMIN_")}
        env["CLINICADMIN_INSTANCE_PATH"] = str(instance)
        self.log_path = folder / "gunicorn.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            # The shipped settings (clinicadmin/gunicorn_conf.py: the app, no shared control socket, the access log),
            # with port 0 (the system picks a free port, read back from the log) and a quick shutdown.
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "python:clinicadmin.gunicorn_conf",
                "--workers",
                str(workers),
                "--bind",
                "127.0.0.1:0",
                "--graceful-timeout",
                "1",
                "--log-level",
                "info",
            ],
            cwd=folder,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.url = self._wait_until_serving()
        except BaseException:
            self.stop()
            raise

    def log(self):
        return self.log_path.read_text(errors="replace")

    def _wait_until_serving(self):
        """The server's URL once every worker has booted and it answers; fails with the log after
        ``start_timeout`` seconds."""
        deadline = time.monotonic() + self.start_timeout
        url = None
        while time.monotonic() < deadline:
            if self._exited():
                raise RuntimeError(f"gunicorn exited:\n{self.log()}")
            log = self.log()
            if url is None and "Listening at: " in log:
                url = log.split("Listening at: ", 1)[1].split()[0]
            if url and log.count("Booting worker") >= self.workers:
                try:
                    if Session(url, timeout=5).get("/login").status == 200:
                        return url
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {self.start_timeout} s:\n{self.log()}")

    def session(self, who=None, password=TEST_PASSWORD):
        """A new HTTP session, logged in as ``who`` (a role of the ``staff`` fixture or an e-mail), or anonymous."""
        http = Session(self.url)
        if who is not None:
            email = self.staff[who].email if self.staff and who in self.staff else who
            http.login(email, password)
        return http

    def _exited(self):
        """Whether gunicorn's master has exited, without reaping it: until it is reaped its process group id cannot
        be reused, so killing the group can only reach this server's processes."""
        try:
            return os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def stop(self):
        """Stop gunicorn: SIGINT to the master (its quick shutdown of the workers), then SIGKILL to its whole process
        group, whatever is left of it."""
        if self.process.returncode is None:
            if not self._exited():
                self.process.send_signal(signal.SIGINT)
                deadline = time.monotonic() + STOP_TIMEOUT
                while not self._exited() and time.monotonic() < deadline:
                    time.sleep(0.05)
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # a worker that outlived its master, or a hung master
            except ProcessLookupError:
                pass
            self.process.wait(STOP_TIMEOUT)
        self._log.close()


@pytest.fixture
def live_server(app, request, tmp_path):
    """``live_server(workers=4, **config)``: the test's app served by gunicorn on a free local port (a
    :class:`LiveServer`), with the test app's database, secrets and plugins, plus ``config``; stopped at teardown."""
    from clinicadmin.extensions import db

    staff = request.getfixturevalue("staff") if "staff" in request.fixturenames else None
    started = []

    def start(workers=4, **config):
        by_object = [p.name for p in app.extensions["clinicadmin"].loaded if p.source == "registered by the caller"]
        if by_object:
            raise ValueError(
                f"live_server: plugins registered as objects ({', '.join(by_object)}) cannot be loaded "
                "by another process; enable plugins by name (PLUGINS_ENABLED)"
            )
        db.session.commit()  # the server sees only what is committed
        shared = {key: app.config.get(key) for key in SHARED_CONFIG}
        # Served over plain http on 127.0.0.1, as production mode must be told explicitly.
        server = LiveServer(
            tmp_path / f"live-{len(started)}",
            {"HTTPS": False, "RATELIMIT_ENABLED": False, **shared, **config},
            workers,
            staff,
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
