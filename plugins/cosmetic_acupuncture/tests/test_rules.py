"""Every cosmetic acupuncture rule, table-driven, through the screening engine, with the day boundaries."""

import pytest

from clinicadmin.extensions import db
from clinicadmin.treatment_flow import rescreen

KEY = "cosmetic_acupuncture"
BLOCKS = ["bleeding_disorder", "cancer", "acute_infection", "herpes_active", "skin_infection_face"]
WARNS = ["pregnancy", "anticoagulants", "hypertension_uncontrolled", "epilepsy", "diabetes", "migraine"]
# (code, default wait in days)
WAITS = [
    ("botulinum_toxin", 90),
    ("dermal_filler", 90),
    ("chemical_peel", 30),
    ("laser_treatment", 30),
    ("facelift", 180),
]


def _mine(ca, history, details=None):
    treatment = ca.booked(ca.client(history=history, consents=[KEY]), KEY)
    if details is not None:
        treatment.details = details
        db.session.commit()
        rescreen(treatment)
    return {(f.code, f.severity) for f in treatment.current_findings() if f.plugin == KEY}


def test_a_healthy_client_has_no_finding(ca):
    assert _mine(ca, []) == set()
    assert _mine(ca, [], details={"face_points": ["ST2"], "body_points": ["LI4", "CV4"]}) == set()


@pytest.mark.parametrize("code", BLOCKS)
def test_blocking_conditions(ca, code):
    assert _mine(ca, [(code, 30)]) == {(f"{KEY}.{code}", "block")}


@pytest.mark.parametrize("code", WARNS)
def test_warning_conditions(ca, code):
    assert _mine(ca, [(code, 200)]) == {(f"{KEY}.{code}", "warn")}


@pytest.mark.parametrize("code, wait", WAITS)
@pytest.mark.parametrize(
    "offset, expected", [(-1, True), (0, False), (1, False)], ids=["day-before", "on-day", "after"]
)
def test_waiting_periods_and_their_day_boundaries(ca, code, wait, offset, expected):
    assert ((f"{KEY}.recent_{code}", "warn") in _mine(ca, [(code, wait + offset)])) is expected


@pytest.mark.parametrize("point", ["LI4", "SP6", "GB21", "BL60", "BL67"])
def test_points_forbidden_in_pregnancy_block_at_any_stage(ca, point):
    found = _mine(ca, [("pregnancy", 200)], details={"face_points": ["ST2"], "body_points": [point, "ST36"]})
    assert (f"{KEY}.pregnancy_forbidden_points", "block") in found


@pytest.mark.parametrize("days, blocked", [(90, True), (91, False), (None, True)], ids=["day-90", "day-91", "undated"])
@pytest.mark.parametrize("point", ["CV4", "CV6", "BL23", "BL32", "GV4"])
def test_lower_abdomen_and_lumbosacral_points_block_in_the_first_trimester(ca, point, days, blocked):
    found = _mine(ca, [("pregnancy", days)], details={"face_points": ["ST2"], "body_points": [point]})
    assert ((f"{KEY}.pregnancy_first_trimester_points", "block") in found) is blocked
    assert (f"{KEY}.pregnancy", "warn") in found


def test_the_first_trimester_follows_the_clinic_setting(ca, login):
    assert (
        login("manager").post("/admin/settings/", data={"cosmetic_acupuncture.first_trimester_days": "120"}).status_code
        == 302
    )
    found = _mine(ca, [("pregnancy", 100)], details={"body_points": ["CV4"]})
    assert (f"{KEY}.pregnancy_first_trimester_points", "block") in found


def test_a_condition_that_has_ended_no_longer_counts(ca):
    from clinicadmin.models import HealthEntry

    client = ca.client(consents=[KEY])
    a_year_ago = ca.today.replace(year=ca.today.year - 1)
    client.health_entries.append(HealthEntry(code="herpes_active", onset=a_year_ago, ended=a_year_ago))
    db.session.commit()
    assert [f for f in ca.booked(client, KEY).current_findings() if f.plugin == KEY] == []
