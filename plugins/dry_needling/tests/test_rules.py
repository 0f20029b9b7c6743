"""Every dry needling rule, table-driven, through the screening engine."""

import pytest

from clinicadmin.extensions import db
from clinicadmin.treatment_flow import rescreen

KEY = "dry_needling"
BLOCKS = ["needle_phobia", "unable_to_consent", "local_infection_area", "cancer", "bleeding_disorder"]
WARNS = ["anticoagulants", "immunosuppression", "diabetes", "pregnancy", "epilepsy"]


def _mine(dn, history, details=None):
    treatment = dn.booked(dn.client(history=history, consents=[KEY]), KEY)
    if details is not None:
        treatment.details = details
        db.session.commit()
        rescreen(treatment)
    return {(f.code, f.severity) for f in treatment.current_findings() if f.plugin == KEY}


def test_a_healthy_client_has_no_finding(dn):
    assert _mine(dn, []) == set()


@pytest.mark.parametrize("code", BLOCKS)
def test_blocking_conditions(dn, code):
    assert _mine(dn, [(code, 30)]) == {(f"{KEY}.{code}", "block")}


@pytest.mark.parametrize("code", WARNS)
def test_warning_conditions(dn, code):
    assert _mine(dn, [(code, 30)]) == {(f"{KEY}.{code}", "warn")}


@pytest.mark.parametrize(
    "muscles, blocked",
    [(None, True), (["upper_trapezius"], False), (["gastrocnemius"], True)],
    ids=["at-booking", "trunk-only", "a-limb"],
)
def test_lymphoedema_blocks_needling_a_limb(dn, muscles, blocked):
    details = None if muscles is None else {"muscles": muscles}
    assert ((f"{KEY}.lymphoedema", "block") in _mine(dn, [("lymphoedema", None)], details)) is blocked
