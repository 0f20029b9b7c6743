"""Hooks are called through pluggy (issue 16, item 1): an implementation may take a subset of the hook's arguments,
``tryfirst`` puts it first, and hook wrappers wrap each call, on screening and on recording alike. Each plugin is
still called on its own, so one that fails is named and fails closed without hiding the others."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fake_modality import KEY, FakeModality
from wtforms import BooleanField

from clinicadmin.extensions import db
from clinicadmin.models import ScreeningFinding, StockLot
from clinicadmin.plugin_api import Consumption, Finding, hookimpl
from clinicadmin.plugins import registry
from clinicadmin.treatment_flow import record

CALLS: list[str] = []


class Subset:
    """Names only ``treatment``: pluggy passes just that."""

    @hookimpl
    def check_contraindications(self, treatment):
        if treatment.modality == KEY:
            return [Finding("subset-ran", "info", "The check that names only the treatment ran.")]

    @hookimpl
    def treatment_recorded(self):
        CALLS.append("subset recorded")


class First:
    """Asks to be called before every other plugin."""

    @hookimpl(tryfirst=True)
    def check_contraindications(self, treatment, history, settings):
        return [Finding("first-ran", "info", "The tryfirst check ran.")]

    @hookimpl(tryfirst=True)
    def treatment_recorded(self, treatment):
        CALLS.append("first recorded")


class Broken:
    @hookimpl
    def check_contraindications(self, treatment, history, settings):
        raise RuntimeError("this check is broken")


class Wrapper:
    """Wraps each plugin's call: notes it on screening, doubles what recording uses."""

    @hookimpl(wrapper=True)
    def check_contraindications(self, treatment, history, settings):
        answers = yield
        CALLS.append("wrapped a check")
        return answers

    @hookimpl(wrapper=True)
    def consumables(self, treatment):
        answers = yield
        return [[Consumption(c.product_id, Decimal(str(c.quantity)) * 2) for c in answer or []] for answer in answers]


@pytest.fixture
def app_config():
    return {
        "PLUGINS_ENABLED": [],
        "EXTRA_PLUGINS": [
            ("fake", FakeModality()),
            ("subset", Subset()),
            ("broken", Broken()),
            ("first", First()),
            ("wrapper", Wrapper()),
        ],
    }


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()


def test_screening_calls_a_subset_a_tryfirst_and_a_wrapped_check_through_pluggy(app, core):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    findings = (
        db.session.execute(
            db.select(ScreeningFinding)
            .where(ScreeningFinding.treatment_id == treatment.id)
            .order_by(ScreeningFinding.id)
        )
        .scalars()
        .all()
    )
    by_plugin = {f.plugin: f.code for f in findings}
    assert by_plugin["subset"] == "subset-ran"  # not "screening-failed": it got the one argument it names
    assert findings[0].plugin == "first"  # tryfirst is called first
    assert by_plugin["broken"] == "screening-failed" and not [
        f for f in findings if f.overridable is False and f.plugin != "broken" and f.code != "uncertified"
    ]
    # The wrapper wrapped each plugin's check, one call each (the core's own checks are plugins too).
    checks = [i for i in registry().pm.hook.check_contraindications.get_hookimpls() if not i.wrapper]
    # ... all but the broken one, whose exception passes up through the wrapper (and is named, above).
    assert len(checks) >= 4 and CALLS.count("wrapped a check") == len(checks) - 1


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "PLUGINS_ENABLED": [],
            "EXTRA_PLUGINS": [
                ("fake", FakeModality()),
                ("subset", Subset()),
                ("first", First()),
                ("wrapper", Wrapper()),
            ],
        }
    ],
)
def test_recording_calls_a_subset_a_tryfirst_and_a_wrapped_hook_through_pluggy(app, core):
    core.lot(core.supply, "L1", 10)
    treatment = core.booked(
        core.client(consents=[KEY]), KEY, when=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    )
    for finding in treatment.current_findings():
        if finding.severity == "block":
            finding.overridden_at, finding.overridden_by_id, finding.override_reason = (
                datetime.now(UTC),
                core.staff["manager"].id,
                "test",
            )
    db.session.commit()
    CALLS.clear()
    record(
        treatment,
        details={"product": core.supply.id, "amount": "1.5"},
        performed_at=treatment.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
        acknowledgement_note="seen",
    )
    recorded = [call for call in CALLS if call.endswith("recorded")]
    assert recorded == ["first recorded", "subset recorded"]  # tryfirst first; the subset got no arguments at all
    lot = db.session.execute(db.select(StockLot)).scalar_one()
    assert lot.quantity == Decimal("7")  # the wrapper doubled 1.5 to 3


class Noting:
    """Wraps the aftercare sheet with a line from the clinic's settings."""

    @hookimpl(wrapper=True)
    def aftercare(self, treatment, settings):
        answer = yield
        return None if answer is None else [*answer, f"Next session in {settings['testmod.interval_days']} days."]


class NotingModality(FakeModality):
    """The test modality, asking at booking with a hook that names only the modality."""

    @hookimpl
    def booking_form_fields(self, modality):
        return {"noted": BooleanField("Noted")} if modality == KEY else None


@pytest.mark.parametrize(
    "app_config", [{"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", NotingModality()), ("noting", Noting())]}]
)
def test_the_settings_reach_an_aftercare_wrapper_and_a_form_hook_may_name_only_the_modality(app, core, login):
    # FakeModality's aftercare names only the treatment; the wrapper around it takes the settings too.
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    http = login("practitioner")
    sheet = http.get(f"/admin/desk/{treatment.id}/aftercare").get_data(as_text=True)
    assert sheet.index("Drink water.") < sheet.index("Next session in 7 days.")
    assert 'name="details-noted"' in http.get(f"/admin/desk/book?modality={KEY}").get_data(as_text=True)
