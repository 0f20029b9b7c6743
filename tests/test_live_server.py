"""The real-server fixture (``tests/live_server.py``) that other tests build on: a gunicorn with several workers on
the test database, whose logged-in sessions, data and writes are those of the test, and which is always stopped."""

import concurrent.futures
import os

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import Supplier


@pytest.fixture
def app_config():
    """No modality: the fake one is a plugin object, which another process cannot load."""
    return {"PLUGINS_ENABLED": []}


def test_a_live_server_shares_sessions_data_and_writes_with_the_test(app, staff, live_server):
    server = live_server(workers=3)
    http = server.session("manager")
    # One login holds in every worker (the same secret key), under concurrent requests.
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        pages = list(pool.map(lambda _: http.get("/admin/"), range(18)))
    assert [page.status for page in pages] == [200] * 18
    assert all(str(staff["manager"]) in page.text for page in pages)
    # A form posted with its CSRF token writes to the test's database.
    response = http.post("/admin/supplier/new/", {"name": "Live Supplies", "active": "y"})
    assert response.status == 302, response.text[:500]
    db.session.expire_all()
    assert db.session.execute(db.select(Supplier.name)).scalars().all() == ["Live Supplies"]
    # Without the token the same post is refused, and an anonymous session is sent to log in.
    assert http.post("/admin/supplier/new/", {"name": "Forged"}, csrf=False).status == 400
    assert server.session().get("/admin/").status == 302


def test_a_live_server_stops_with_all_its_workers(app, staff, live_server):
    server = live_server(workers=2)
    assert server.session().get("/login").status == 200
    server.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(server.process.pid, 0)  # no process of its group is left
    with pytest.raises(OSError):
        server.session().get("/login")


def test_a_live_server_refuses_config_another_process_cannot_read(app, live_server):
    with pytest.raises(ValueError, match="cannot be written"):
        live_server(workers=1, CLINIC_LOGO=object())


def _secrets_of(folder, start, answers):
    from clinicadmin.config import load_or_create_secrets

    start.wait(10)
    answers.put(load_or_create_secrets(folder))


def test_server_processes_starting_on_a_new_instance_share_one_set_of_secrets(tmp_path):
    """Workers that start together on an instance without secrets must not each make their own: a login made in one
    would then be refused by the others. A race, so run several times; no database: this runs once."""
    import multiprocessing

    from clinicadmin.config import SECRET_KEYS, load_or_create_secrets

    context = multiprocessing.get_context("fork")
    for round_ in range(10):
        folder = tmp_path / str(round_)
        start, answers = context.Barrier(8), context.Queue()
        workers = [context.Process(target=_secrets_of, args=(str(folder), start, answers)) for _ in range(8)]
        for worker in workers:
            worker.start()
        got = [answers.get(timeout=30) for _ in workers]
        for worker in workers:
            worker.join(10)
        assert all(answer == got[0] for answer in got), f"round {round_}: {len({str(a) for a in got})} sets"
        assert load_or_create_secrets(folder) == got[0] and all(got[0][key] for key in SECRET_KEYS)
        assert (folder / "secrets.json").stat().st_mode & 0o777 == 0o600
