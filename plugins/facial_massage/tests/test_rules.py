"""Every facial massage rule, table-driven, through the screening engine, with the day boundaries (a filler 6 days
ago blocks, 7 days ago does not)."""

import pytest

from clinicadmin.extensions import db
from clinicadmin.treatment_flow import rescreen

KEY = "facial_massage"
BLOCKS = ["acute_infection", "thrombosis", "cancer", "heart_failure_decompensated", "kidney_failure_severe"]
WARNS = ["acne_active", "thyroid_disease", "asthma"]
# (code, default wait, severity)
WAITS = [("dermal_filler", 7, "block"), ("botulinum_toxin", 14, "warn")]
SESSION = {"techniques": ["lymphatic_drainage"], "areas": ["face", "neck"], "duration_minutes": 30}


def _mine(fm, history, details=None):
    treatment = fm.booked(fm.client(history=history, consents=[KEY]), KEY)
    if details is not None:
        treatment.details = details
        db.session.commit()
        rescreen(treatment)
    return {(f.code, f.severity) for f in treatment.current_findings() if f.plugin == KEY}


def test_a_healthy_client_has_no_finding(fm):
    assert _mine(fm, []) == set()
    assert _mine(fm, [], details={**SESSION, "techniques": ["sculpting"]}) == set()


@pytest.mark.parametrize("code", BLOCKS)
def test_blocking_conditions(fm, code):
    assert _mine(fm, [(code, 30)]) == {(f"{KEY}.{code}", "block")}


@pytest.mark.parametrize("code", WARNS)
def test_warning_conditions(fm, code):
    assert _mine(fm, [(code, 30)]) == {(f"{KEY}.{code}", "warn")}


@pytest.mark.parametrize("code, wait, severity", WAITS)
@pytest.mark.parametrize(
    "offset, expected", [(-1, True), (0, False), (1, False)], ids=["day-before", "on-day", "after"]
)
def test_waiting_periods_and_their_day_boundaries(fm, code, wait, severity, offset, expected):
    assert ((f"{KEY}.recent_{code}", severity) in _mine(fm, [(code, wait + offset)])) is expected


@pytest.mark.parametrize("days, expected", [(6, True), (8, False)], ids=["filler-6-days-ago", "filler-8-days-ago"])
def test_the_seeds_filler_week(fm, days, expected):
    assert ((f"{KEY}.recent_dermal_filler", "block") in _mine(fm, [("dermal_filler", days)])) is expected


@pytest.mark.parametrize("code", ["hyperthyroidism", "carotid_sinus_hypersensitivity"])
def test_neck_conditions_warn_at_booking_and_block_neck_work(fm, code):
    assert _mine(fm, [(code, None)]) == {(f"{KEY}.{code}", "warn")}
    assert _mine(fm, [(code, None)], details=SESSION) == {(f"{KEY}.{code}_neck", "block")}
    assert _mine(fm, [(code, None)], details={**SESSION, "areas": ["face", "head"]}) == set()


def test_sculpting_on_inflamed_acne_blocks(fm):
    found = _mine(fm, [("acne_active", None)], details={**SESSION, "techniques": ["sculpting"]})
    assert found == {(f"{KEY}.acne_active", "warn"), (f"{KEY}.acne_active_sculpting", "block")}
    assert _mine(fm, [("acne_active", None)], details=SESSION) == {(f"{KEY}.acne_active", "warn")}


@pytest.mark.parametrize("days, expected", [(90, True), (91, False), (None, True)])
def test_the_first_trimester_warns(fm, days, expected):
    assert ((f"{KEY}.pregnancy_first_trimester", "warn") in _mine(fm, [("pregnancy", days)])) is expected
