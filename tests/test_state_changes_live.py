"""The same "Record as performed" POST sent 20 times at once through a real gunicorn with four worker processes, on
SQLite and PostgreSQL: exactly one recording, one consumption, one audit row, and ``clinicadmin check`` agrees."""

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, StockLot, StockMovement, Treatment

KEY = "testmod"
TIMES = 20

#: The core tests' fake modality as a plugin package, so that every server process loads it by name.
PLUGIN = """import sys
sys.path.insert(0, {tests!r})
from fake_modality import FakeModality

_modality = FakeModality()
register_modality = _modality.register_modality
register_settings = _modality.register_settings
register_conditions = _modality.register_conditions
treatment_form_fields = _modality.treatment_form_fields
check_contraindications = _modality.check_contraindications
consumables = _modality.consumables
aftercare = _modality.aftercare
"""


@pytest.fixture
def app_config(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plugins")
    (folder / KEY).mkdir()
    (folder / KEY / "__init__.py").write_text(PLUGIN.format(tests=str(Path(__file__).parent)))
    return {"PLUGINS_DIR": str(folder), "PLUGINS_ENABLED": [KEY]}


def test_twenty_identical_recordings_through_four_server_processes_record_once(
    app, staff, clinic, live_server, database_url, tmp_path
):
    clinic.certify("practitioner", KEY)
    supply = clinic.product("SUP-1", category="consumable", unit="mL")
    clinic.lot(supply, "L1", 50)
    treatment = clinic.booked(clinic.client(consents=[KEY]), KEY)
    server = live_server(workers=4)
    http = server.session("practitioner")
    form = {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-product": str(supply.id),
        "details-amount": "2",
        "notes": "",
        "acknowledgement_note": "",
        "csrf_token": http.token(),
    }
    url, start, statuses = f"/admin/desk/{treatment.id}/record", threading.Barrier(TIMES), []

    def send():
        start.wait()
        statuses.append(http.post(url, data=form).status)

    threads = [threading.Thread(target=send) for _ in range(TIMES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(statuses) == TIMES and set(statuses) <= {200, 302}, statuses
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).status == "performed"
    consumed = db.session.execute(db.select(StockMovement).where(StockMovement.reason == "consumption")).scalars()
    assert [m.quantity for m in consumed] == [-2]
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 48
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "treatment.record")
        ).scalar()
        == 1
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINICADMIN_")},
        "CLINICADMIN_DATABASE_URL": database_url,
        "CLINICADMIN_INSTANCE_PATH": app.instance_path,  # the deployment's secrets: the audit key signed its rows
        "CLINICADMIN_PLUGINS_DIR": app.config["PLUGINS_DIR"],
        "CLINICADMIN_PLUGINS_ENABLED": f'["{KEY}"]',
    }
    checked = subprocess.run(
        [sys.executable, "-c", "from clinicadmin.cli import main; main()", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "OK: each treatment's recorded consumption agrees with the stock ledger." in checked.stdout
