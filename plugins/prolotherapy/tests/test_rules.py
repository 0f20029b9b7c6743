"""Every prolotherapy rule, table-driven, through the screening engine, with the day boundaries; and the
injections qualification it requires."""

import pytest

KEY = "prolotherapy"
BLOCKS = ["bleeding_disorder", "acute_infection", "joint_infection", "unexplained_swelling"]
WARNS = ["anticoagulants", "pregnancy", "diabetes"]


def _mine(pt, history, practitioner="practitioner"):
    treatment = pt.booked(pt.client(history=history, consents=[KEY]), KEY, practitioner=practitioner)
    return {(f.code, f.severity) for f in treatment.current_findings() if f.plugin in (KEY, "core.certification")}


def test_a_healthy_client_has_no_finding(pt):
    assert _mine(pt, []) == set()


@pytest.mark.parametrize("code", BLOCKS)
def test_blocking_conditions(pt, code):
    assert _mine(pt, [(code, 30)]) == {(f"{KEY}.{code}", "block")}


@pytest.mark.parametrize("code", WARNS)
def test_warning_conditions(pt, code):
    assert _mine(pt, [(code, 30)]) == {(f"{KEY}.{code}", "warn")}


@pytest.mark.parametrize(
    "days, expected",
    [(89, True), (90, False), (None, True)],
    ids=["fracture-89-days-ago", "fracture-90-days-ago", "undated"],
)
def test_a_recent_fracture_blocks(pt, days, expected):
    assert ((f"{KEY}.recent_fracture", "block") in _mine(pt, [("fracture", days)])) is expected


def test_only_a_practitioner_qualified_for_injections_performs_it(pt):
    pt.certify("manager", KEY)  # certified for the modality, but not for injections
    assert _mine(pt, [], practitioner="manager") == {("practitioner-not-certified:injections", "block")}
