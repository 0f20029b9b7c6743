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
    "entry, expected",
    [((120, 89), True), ((120, 90), False), ((None,), True), ((200,), True)],
    ids=["healed-89-days-ago", "healed-90-days-ago", "undated", "no-end-date-still-healing"],
)
def test_a_recent_fracture_blocks(pt, entry, expected):
    """A fracture is a condition: the wait counts from the day it healed (its end date); one 200 days old with no
    end date recorded has not healed as far as the record says, so it still blocks."""
    assert ((f"{KEY}.recent_fracture", "block") in _mine(pt, [("fracture", *entry)])) is expected


def test_only_a_practitioner_qualified_for_injections_performs_it(pt):
    pt.certify("manager", KEY)  # certified for the modality, but not for injections
    assert _mine(pt, [], practitioner="manager") == {("practitioner-not-certified:injections", "block")}
