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

WORKER = """
import os, sys, time
sys.path.insert(0, {tests!r})
from fake_modality import FakeModality
from clinicadmin import create_app
from clinicadmin.extensions import db
from clinicadmin.models import Treatment, User
from clinicadmin.treatment_flow import TreatmentRejected, record

app = create_app({{"SQLALCHEMY_DATABASE_URI": {url!r}, "INSTANCE_PATH": {instance!r}, "SECRET_KEY": "x",
                  "SECURITY_PASSWORD_SALT": "y", "PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality())]}})
with app.app_context():
    treatment = db.session.get(Treatment, {treatment_id})
    user = db.session.get(User, {user_id})
    details = {{"product": {product_id}, "amount": "1"}}
    while not os.path.exists({go!r}):
        time.sleep(0.01)
    try:
        short = record(treatment, details=details, performed_at=treatment.scheduled_at, notes=None, user=user)
        print("RECORDED", "SHORT" if short else "TAKEN")
    except TreatmentRejected as exc:
        print("REJECTED", exc)
"""


def test_twenty_processes_race_for_the_last_five_units(core, database_url, tmp_path):
    core.lot(core.supply, "LAST", UNITS)
    treatments = [core.booked(core.client(first=f"Racer{i}", consents=["testmod"]), "testmod").id
                  for i in range(WORKERS)]
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICADMIN_")}
    workers = [subprocess.Popen(
        [sys.executable, "-c", WORKER.format(tests=str(Path(__file__).parent), url=database_url,
                                             instance=str(tmp_path / "instance"), treatment_id=t,
                                             user_id=core.staff["practitioner"].id, product_id=core.supply.id,
                                             go=str(go))],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for t in treatments]
    time.sleep(3)  # let them start up and wait at the line
    go.touch()
    outcomes = [w.communicate(timeout=240) for w in workers]
    results = [out.strip() for out, _ in outcomes]
    assert all(r.startswith(("RECORDED", "REJECTED")) for r in results), [err[-2000:] for _, err in outcomes]
    assert results.count("RECORDED TAKEN") == UNITS, results
    assert results.count("RECORDED SHORT") == WORKERS - UNITS, results
    db.session.expire_all()
    assert db.session.execute(db.select(StockLot.quantity)).scalar_one() == 0
    statuses = db.session.execute(db.select(Treatment.status)).scalars().all()
    assert statuses.count("performed") == WORKERS
    assert db.session.execute(db.select(db.func.count()).select_from(StockMovement)
                              .where(StockMovement.reason == "consumption")).scalar_one() == UNITS
    owed = db.session.execute(db.select(StockException.quantity).where(StockException.resolved_at.is_(None)))
    assert owed.scalars().all() == [1] * (WORKERS - UNITS)
    checked = subprocess.run([sys.executable, "-c", "from clinicadmin.cli import main; main()", "check"],
                             env={**env, "CLINICADMIN_SQLALCHEMY_DATABASE_URI": database_url,
                                  "CLINICADMIN_INSTANCE_PATH": str(tmp_path / "instance")},
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0 and "OK: 1 lots agree with the stock ledger." in checked.stdout, checked.stderr
    assert "OK: the monthly usage the reports read agrees with the stock ledger." in checked.stdout
    assert "OK: each client's first session agrees with their treatments." in checked.stdout
    assert "OK: each treatment's recorded consumption agrees with the stock ledger." in checked.stdout
    assert f"OPEN: {WORKERS - UNITS} stock exception(s) wait for the stock clerk" in checked.stdout
    assert f"OPEN: {WORKERS - UNITS} mL of SUP-1 at Test Clinic, in {WORKERS - UNITS}" in checked.stdout
