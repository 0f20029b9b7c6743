"""Twenty separate processes record treatments that each need one unit of the last five: all twenty sessions are
recorded, exactly five take a unit, the other fifteen units become open stock exceptions, the lot ends at zero (never
below) and ``clinicadmin check`` passes, counting the open exceptions."""

import os
import subprocess
import sys
import time
from pathlib import Path

from clinicadmin.extensions import db
from clinicadmin.models import StockException, StockLot, StockMovement, Treatment

WORKERS, UNITS = 20, 5

# One process imports the app and forks the racers, so that twenty start in the time of one; each racer opens its
# own connections, says it is ready, and records when every one of them is waiting at the line.
RACE = """
import os, sys, time, traceback
sys.path.insert(0, {tests!r})
from fake_modality import FakeModality
from clinicadmin import create_app
from clinicadmin.extensions import db
from clinicadmin.models import Treatment, User
from clinicadmin.treatment_flow import TreatmentRejected, record

app = create_app({{"SQLALCHEMY_DATABASE_URI": {url!r}, "INSTANCE_PATH": {instance!r}, "SECRET_KEY": "x",
                  "SECURITY_PASSWORD_SALT": "y", "PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality())]}})
folder = {folder!r}
racers = []
for treatment_id in {treatment_ids!r}:
    pid = os.fork()
    if pid:
        racers.append(pid)
        continue
    try:
        with app.app_context():
            db.engine.dispose(close=False)  # nothing of the parent's connections
            treatment = db.session.get(Treatment, treatment_id)
            user = db.session.get(User, {user_id})
            details = {{"product": {product_id}, "amount": "1"}}
            open(os.path.join(folder, f"ready-{{treatment_id}}"), "w").close()
            while not os.path.exists(os.path.join(folder, "go")):
                time.sleep(0.01)
            try:
                short = record(treatment, details=details, performed_at=treatment.scheduled_at, notes=None,
                               user=user)
                outcome = "RECORDED SHORT" if short else "RECORDED TAKEN"
            except TreatmentRejected as exc:
                outcome = f"REJECTED {{exc}}"
    except BaseException:
        outcome = traceback.format_exc()
    with open(os.path.join(folder, f"result-{{treatment_id}}"), "w") as out:
        out.write(outcome)
    os._exit(0)
for pid in racers:
    os.waitpid(pid, 0)
"""


def test_twenty_processes_race_for_the_last_five_units(core, database_url, tmp_path):
    core.lot(core.supply, "LAST", UNITS)
    treatments = [
        core.booked(core.client(first=f"Racer{i}", consents=["testmod"]), "testmod").id for i in range(WORKERS)
    ]
    folder = tmp_path / "race"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICADMIN_")}
    race = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RACE.format(
                tests=str(Path(__file__).parent),
                url=database_url,
                instance=str(tmp_path / "instance"),
                folder=str(folder),
                treatment_ids=treatments,
                user_id=core.staff["practitioner"].id,
                product_id=core.supply.id,
            ),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while len(list(folder.glob("ready-*"))) < WORKERS and race.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    (folder / "go").touch()
    _, err = race.communicate(timeout=240)
    assert len(list(folder.glob("ready-*"))) == WORKERS, err[-3000:]
    results = [(folder / f"result-{t}").read_text().strip() for t in treatments]
    assert all(r.startswith(("RECORDED", "REJECTED")) for r in results), results
    assert results.count("RECORDED TAKEN") == UNITS, results
    assert results.count("RECORDED SHORT") == WORKERS - UNITS, results
    db.session.expire_all()
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 0
    statuses = db.session.execute(db.select(Treatment.status)).scalars().all()
    assert statuses.count("performed") == WORKERS
    assert (
        db.session.execute(
            db.select(db.func.count()).select_from(StockMovement).where(StockMovement.reason == "consumption")
        ).scalar_one()
        == UNITS
    )
    owed = db.session.execute(db.select(StockException.quantity).where(StockException.resolved_at.is_(None)))
    assert owed.scalars().all() == [1] * (WORKERS - UNITS)
    checked = subprocess.run(
        [sys.executable, "-c", "from clinicadmin.cli import main; main()", "check"],
        env={
            **env,
            "CLINICADMIN_SQLALCHEMY_DATABASE_URI": database_url,
            "CLINICADMIN_INSTANCE_PATH": str(tmp_path / "instance"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0 and "OK: 1 lots agree with the stock ledger." in checked.stdout, checked.stderr
    assert "OK: the monthly usage the reports read agrees with the stock ledger." in checked.stdout
    assert "OK: each client's first session agrees with their treatments." in checked.stdout
    assert "OK: each treatment's recorded consumption agrees with the stock ledger." in checked.stdout
    assert f"OPEN: {WORKERS - UNITS} stock exception(s) wait for the stock clerk" in checked.stdout
    assert f"OPEN: {WORKERS - UNITS} mL of SUP-1 at Test Clinic, in {WORKERS - UNITS}" in checked.stdout
