"""Recording throughput through gunicorn (issue 17, "Speed"): treatments recorded per second, with their stock, by
``BENCH_RECORDING_CLIENTS`` concurrent HTTP clients against one gunicorn of 1, 4 and 8 sync worker processes on the
bench's PostgreSQL database, and the server CPU time of one recording.

Each measurement books a fresh pool of facial-massage sessions in-process (not timed), starts gunicorn with the
shipped settings in production mode (the bench instance's secrets, rate limits off: they are not what is measured),
signs the clients in as the bench's manager, and posts the real record form (CSRF token, details, the oil consumed)
until ``BENCH_RECORDING_SECONDS`` pass or the pool is used up. The CPU time is that of the gunicorn workers (user +
system, from ``/proc``) over the recordings they made; PostgreSQL's own time is not in it. Each figure is the median of
``BENCH_RECORDING_REPEATS`` measurements; the stock invariant is checked after.
"""

import os
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKER_COUNTS = tuple(int(n) for n in os.environ.get("BENCH_RECORDING_WORKERS", "1,4,8").split(","))
SECONDS = float(os.environ.get("BENCH_RECORDING_SECONDS", "10"))
REPEATS = int(os.environ.get("BENCH_RECORDING_REPEATS", "3"))
CLIENTS = int(os.environ.get("BENCH_RECORDING_CLIENTS", "16"))
#: bookings made for each measurement: more than ``SECONDS`` of recording uses on this machine
POOL = int(os.environ.get("BENCH_RECORDING_POOL", "400"))
TICKS = os.sysconf("SC_CLK_TCK")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _pool(app, count):
    """``count`` facial-massage bookings of clients with no session in the last 30 days (no interval warning), one
    practitioner twenty minutes apart after every booking held so far, spread over the chain's locations (each
    recording then takes the row lock of its own location's oil lot, as in a chain, not all of one lot's); returns
    their ids and the oil's id."""
    from bench.run import _a_room_at, _free_from
    from clinicadmin.clock import local_today
    from clinicadmin.extensions import db
    from clinicadmin.models import Client, Consent, Location, Product, Treatment, User
    from clinicadmin.treatment_flow import book

    with app.app_context():
        locations = db.session.execute(db.select(Location).order_by(Location.id)).scalars().all()
        oil = db.session.execute(db.select(Product).where(Product.category == "oil")).scalars().first()
        practitioner = db.session.execute(
            db.select(User).where(User.email == "practitioner02@bench.example")
        ).scalar_one()
        manager = db.session.execute(db.select(User).where(User.email == "manager@bench.example")).scalar_one()
        for location in locations:
            _a_room_at(location)
        recent = db.select(Treatment.client_id).where(Treatment.scheduled_at > datetime.now(UTC) - timedelta(days=30))
        clients = (
            db.session.execute(
                db.select(Client)
                .where(Client.archived_at.is_(None), Client.id.not_in(recent))
                .order_by(Client.id.desc())
                .limit(count)
            )
            .scalars()
            .all()
        )
        if len(clients) < count:
            raise RuntimeError(f"only {len(clients)} clients without a recent session: raise BENCH_SCALE")
        naive = _free_from(datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None) - timedelta(days=2))
        start = naive.replace(tzinfo=UTC)
        ids = []
        for k, client in enumerate(clients):
            location = locations[k % len(locations)]
            if not any(c.modality == "facial_massage" for c in client.consents):
                client.consents.append(
                    Consent(modality="facial_massage", signed_on=local_today(location) - timedelta(days=9))
                )
            ids.append(
                book(
                    client=client,
                    modality="facial_massage",
                    practitioner=practitioner,
                    location=location,
                    scheduled_at=start + timedelta(minutes=20 * k),
                    duration_minutes=1,
                    user=manager,
                ).id
            )
        return ids, oil.id


class Server:
    """gunicorn with the shipped settings and ``workers`` processes on a free port; ``cpu()`` is its workers' CPU
    seconds so far (the living ones; a sync worker is not replaced during a measurement)."""

    def __init__(self, uri, instance, workers, log_path):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINICADMIN_", "WEB_CONCURRENCY"))}
        env.update(
            CLINICADMIN_DATABASE_URL=uri,
            CLINICADMIN_INSTANCE_PATH=str(instance),
            CLINICADMIN_SECRETS_FILE=str(Path(instance) / "secrets.json"),  # the bench app's, so its hashes verify
            CLINICADMIN_HTTPS="false",
            CLINICADMIN_RATELIMIT_ENABLED="false",
            CLINICADMIN_RATELIMIT_STORAGE_URI="memory://",
            CLINICADMIN_IDLE_TIMEOUT_MINUTES="0",
        )
        self.log_path, self.workers = log_path, workers
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "python:clinicadmin.gunicorn_conf"]
            + ["--workers", str(workers), "--bind", "127.0.0.1:0", "--graceful-timeout", "1"],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = self._wait()

    def _wait(self):
        deadline, url = time.monotonic() + 120, None
        while time.monotonic() < deadline and self.process.poll() is None:
            log = self.log_path.read_text(errors="replace")
            if url is None and "Listening at: " in log:
                url = log.split("Listening at: ", 1)[1].split()[0]
            if url and log.count("Booting worker") >= self.workers:
                try:
                    if _http(url, "GET", "/healthz")[0] == 200:
                        return url
                except OSError:
                    pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start:\n{self.log_path.read_text(errors='replace')[-3000:]}")

    def _children(self):
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def cpu(self):
        total = 0
        for pid in self._children():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / TICKS

    def stop(self):
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(15)
        self._log.close()


def _http(url, method, path, data=None, opener=None):
    import urllib.error
    import urllib.parse
    import urllib.request

    body = None if data is None else urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url + path, data=body, method=method)
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=60) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as answer:
        with answer:
            return answer.code, answer.read().decode("utf-8", "replace")


def _text(page):
    return re.sub(r"<[^>]+>|\s+", " ", page)


def _signed_in(url, email, password):
    """An opener with a cookie jar, signed in as ``email``, that does not follow redirects; and its CSRF token."""
    import http.cookiejar
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirects())
    token = CSRF.search(_http(url, "GET", "/login", opener=opener)[1])
    status, _ = _http(
        url, "POST", "/login", {"email": email, "password": password, "csrf_token": token[1] or token[2]}, opener
    )
    assert status in (302, 303), f"bench login failed: {status}"
    status, page = _http(url, "GET", "/admin/", opener=opener)
    token = CSRF.search(page)
    assert token, f"no CSRF token on the dashboard ({status})"
    return opener, token[1] or token[2]


def measure(server, ids, oil, email, password):
    """Record ``ids`` through ``server`` with ``CLIENTS`` concurrent signed-in clients for at most ``SECONDS``;
    returns (recordings per second, server CPU seconds per recording, recordings, refusals)."""
    sessions = [_signed_in(server.url, email, password) for _ in range(CLIENTS)]
    todo = queue.SimpleQueue()
    for treatment_id in ids:
        todo.put(treatment_id)
    done, refused, lock = [0], [], threading.Lock()
    deadline = [0.0]

    def work(opener, token):
        while time.monotonic() < deadline[0]:
            try:
                treatment_id = todo.get_nowait()
            except queue.Empty:
                return
            form = {
                "csrf_token": token,
                "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
                "notes": "",
                "acknowledgement_note": "Bench: reviewed",
                "details-techniques": "lymphatic_drainage",
                "details-areas": "face",
                "details-duration_minutes": "30",
                "details-pressure": "light",
                "details-product": str(oil),
                "details-product_ml": "1.0",
            }
            status, page = _http(server.url, "POST", f"/admin/desk/{treatment_id}/record", form, opener)
            with lock:
                if status == 302:
                    done[0] += 1
                else:
                    refused.append(f"{status}: {_text(page)[:300]}")

    threads = [threading.Thread(target=work, args=session) for session in sessions]
    cpu_before, started = server.cpu(), time.monotonic()
    deadline[0] = started + SECONDS
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.monotonic() - started, server.cpu() - cpu_before
    return done[0] / elapsed, cpu / max(done[0], 1), done[0], refused


def run_recording_throughput(app, results):
    """The table's rows, one per worker count: median recordings per second, the ratio to one worker, the median
    server CPU milliseconds of one recording; and the stock invariant after."""
    from bench.seed import PASSWORD
    from clinicadmin.extensions import db
    from clinicadmin.integrity import stock_problems

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    rows, refusals = [], []
    for workers in WORKER_COUNTS:
        server = Server(uri, results, workers, results / f"gunicorn-{workers}.log")
        try:
            runs = []
            for _ in range(REPEATS):
                ids, oil = _pool(app, POOL)
                runs.append(measure(server, ids, oil, "manager@bench.example", PASSWORD))
                refusals += runs[-1][3]
        finally:
            server.stop()
        rows.append(
            {
                "workers": workers,
                "rate": statistics.median(r[0] for r in runs),
                "cpu_ms": statistics.median(r[1] for r in runs) * 1000,
                "recorded": sum(r[2] for r in runs),
                "runs": [round(r[0], 1) for r in runs],
            }
        )
        print(f"  recording throughput, {workers} worker(s): {rows[-1]}", flush=True)
    with app.app_context():
        problems = stock_problems()
        db.engine.dispose()
    return rows, refusals, problems


def table(rows, refusals, problems):
    base = rows[0]["rate"] if rows else None
    lines = [
        f"#### Recording throughput, PostgreSQL ({CLIENTS} concurrent clients, {SECONDS:g} s per measurement, "
        f"median of {REPEATS})",
        "",
        "| gunicorn workers | recordings/s | vs 1 worker | server CPU ms per recording | each measurement (rec/s) |",
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['workers']} | {r['rate']:.1f} | {r['rate'] / base:.2f}x | {r['cpu_ms']:.1f} | "
            f"{', '.join(str(x) for x in r['runs'])} |"
        )
    lines.append("")
    lines.append(
        f"{sum(r['recorded'] for r in rows)} recorded, {len(refusals)} refused"
        f"{': ' + refusals[0] if refusals else ''}; stock invariant "
        f"{'holds' if not problems else 'BROKEN: ' + str(problems[:3])}."
    )
    return "\n".join(lines)
