"""An acknowledgement or override given at booking carries over to the recording only while the booking answers it
was given on are unchanged: the recording's own new answers leave it standing, a changed or removed answer voids it,
and the record form says why (reviewers' finding: an override for one answer silently covered another)."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from fake_modality import KEY, FakeModality
from wtforms import SelectField
from wtforms.validators import InputRequired

from clinicadmin.extensions import db
from clinicadmin.models import ScreeningFinding, StockMovement, Treatment
from clinicadmin.plugin_api import Finding, hookimpl
from clinicadmin.treatment_flow import TreatmentRejected, record

CLEARED = "Physician cleared the left side only"
CHECKED = "Bruising discussed; a thick needle is fine"


class Sided(FakeModality):
    """The test modality asking at booking the side and the needle; blocks the left or both sides, warns on a thick
    or extra needle (its own check replaces the fake modality's)."""

    @hookimpl
    def booking_form_fields(self, modality):
        if modality == KEY:
            return {
                "side": SelectField(
                    "Side",
                    choices=[("left", "Left"), ("right", "Right"), ("both", "Both")],
                    validators=[InputRequired()],
                ),
                "needle": SelectField(
                    "Needle", choices=[("fine", "Fine"), ("thick", "Thick"), ("extra", "Extra thick")]
                ),
            }

    @hookimpl
    def check_contraindications(self, treatment):
        details = treatment.details or {}
        found = []
        if treatment.modality == KEY and details.get("side") in ("left", "both"):
            found.append(Finding("sides.side", "block", f"Side {details['side']}: only with the physician's word."))
        if treatment.modality == KEY and details.get("needle") in ("thick", "extra"):
            found.append(Finding("sides.needle", "warn", "A thick needle bruises."))
        return found


pytestmark = pytest.mark.parametrize("app_config", [{"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", Sided())]}])


def _book(core, login, **answers):
    when = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    response = login("front_desk").post(
        "/admin/desk/book",
        data={
            "client": str(core.client(consents=[KEY]).id),
            "modality": KEY,
            "practitioner": str(core.staff["practitioner"].id),
            "location": str(core.location.id),
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
            "questions_for": KEY,
            **{f"details-{k}": v for k, v in answers.items()},
        },
    )
    assert response.status_code == 302
    return db.session.execute(db.select(Treatment)).scalar_one()


def _finding(treatment, code):
    return next(f for f in treatment.current_findings() if f.code == code)


def _written(treatment):
    """What recording would change: the treatment's state, its findings, the stock moved."""
    db.session.expire_all()
    t = db.session.get(Treatment, treatment.id)
    findings = db.session.execute(db.select(db.func.count()).select_from(ScreeningFinding)).scalar()
    moved = db.session.execute(db.select(db.func.count()).select_from(StockMovement)).scalar()
    return (t.status, t.screening_run, t.details, findings, moved)


def _record(core, login, treatment, **answers):
    details = {"product": core.supply.id, "amount": "1", "needle": "fine", **answers}
    response = login("practitioner").record(treatment, details)
    return response, html.unescape(response.get_data(as_text=True))


def test_an_override_given_at_booking_holds_when_the_same_answers_are_recorded(core, login):
    core.lot(core.supply, "L1", 5)
    treatment = _book(core, login, side="left", needle="fine")
    assert login("manager").override(_finding(treatment, "sides.side"), CLEARED).status_code == 302
    response, _page = _record(core, login, treatment, side="left")  # the recording adds product and amount
    assert response.status_code == 302
    db.session.expire_all()
    recorded = db.session.get(Treatment, treatment.id)
    assert recorded.status == "performed"
    assert _finding(recorded, "sides.side").override_reason == CLEARED


def test_an_override_does_not_cover_a_changed_answer_at_recording(core, login):
    core.lot(core.supply, "L1", 5)
    treatment = _book(core, login, side="left", needle="fine")
    assert login("manager").override(_finding(treatment, "sides.side"), CLEARED).status_code == 302
    before = _written(treatment)
    response, page = _record(core, login, treatment, side="both")
    assert response.status_code == 200
    assert (
        "Blocked (Test modality): Side both: only with the physician's word. The override given earlier "
        f"('{CLEARED}') no longer holds: the answers changed since it was overridden. A manager must override it "
        "with a reason." in page
    )
    assert _written(treatment) == before  # nothing written: still booked on the booking's answers, no stock moved
    assert before[0] == "booked" and before[2] == {"side": "left", "needle": "fine"}


def test_an_acknowledgement_holds_for_the_same_answer_and_not_for_another(core, login):
    core.lot(core.supply, "L1", 5)
    treatment = _book(core, login, side="right", needle="thick")
    assert login("practitioner").acknowledge(_finding(treatment, "sides.needle"), CHECKED).status_code == 302
    before = _written(treatment)
    response, page = _record(core, login, treatment, side="right", needle="extra")
    assert response.status_code == 200
    assert (
        "Warning to acknowledge (Test modality): A thick needle bruises. The acknowledgement given earlier "
        f"('{CHECKED}') no longer holds: the answers changed since it was acknowledged." in page
    )
    assert _written(treatment) == before
    response, _page = _record(core, login, treatment, side="right", needle="thick")
    assert response.status_code == 302
    db.session.expire_all()
    recorded = db.session.get(Treatment, treatment.id)
    assert recorded.status == "performed" and _finding(recorded, "sides.needle").acknowledgement_note == CHECKED


def test_a_removed_answer_voids_the_override_too(core, login):
    treatment = _book(core, login, side="left", needle="fine")
    assert login("manager").override(_finding(treatment, "sides.side"), CLEARED).status_code == 302
    before = _written(treatment)
    treatment = db.session.get(Treatment, treatment.id)
    # The booking answered the needle; a recording without that answer is not what the override was given on.
    with pytest.raises(TreatmentRejected, match="the answers changed since it was overridden"):
        record(
            treatment,
            details={"product": core.supply.id, "amount": "1", "side": "left"},
            performed_at=datetime.now(UTC),
            notes=None,
            user=core.staff["practitioner"],
        )
    assert _written(treatment) == before
