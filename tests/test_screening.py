"""The screening engine: each plugin separately, fail closed, core checks, settings, findings stored."""

from datetime import UTC, datetime, timedelta

import pytest
from fake_modality import KEY, FakeModality

from clinicadmin.extensions import db
from clinicadmin.models import Consent, ScreeningFinding, Treatment
from clinicadmin.plugin_api import Modality, Qualification, hookimpl
from clinicadmin.treatment_flow import TreatmentRejected, record


class RaisingCheck:
    @hookimpl
    def check_contraindications(self, treatment, history, settings):
        raise RuntimeError("database of interactions is offline")


class NonsenseCheck:
    @hookimpl
    def check_contraindications(self, treatment, history, settings):
        return ["not a finding"]


def _codes(treatment):
    return {(f.plugin, f.code, f.severity) for f in treatment.current_findings()}


@pytest.mark.parametrize(
    "app_config",
    [
        {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), ("interactions", RaisingCheck())]},
        {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), ("interactions", NonsenseCheck())]},
    ],
    ids=["raises", "returns-nonsense"],
)
def test_a_check_that_cannot_run_blocks_and_names_its_plugin(core):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    assert treatment.screening_status == "blocked"
    finding = next(f for f in treatment.current_findings() if f.plugin == "interactions")
    assert finding.severity == "block" and "Screening could not run: interactions" in finding.message
    # The other plugins still ran: the healthy client has no other finding.
    assert {f.plugin for f in treatment.current_findings()} == {"interactions"}


def test_healthy_certified_consented_client_is_clear(core):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    assert treatment.screening_status == "clear" and treatment.current_findings() == []


def test_missing_expired_and_withdrawn_consent_block(core):
    assert ("core.consent", "consent-missing", "block") in _codes(core.booked(core.client(), KEY))
    client = core.client(first="Exp")
    client.consents.append(
        Consent(modality=KEY, signed_on=core.today - timedelta(400), expires_on=core.today - timedelta(1))
    )
    withdrawn = core.client(first="Wd")
    withdrawn.consents.append(Consent(modality=KEY, signed_on=core.today - timedelta(30), withdrawn_on=core.today))
    db.session.commit()
    late = core.client(first="Late")
    late.consents.append(Consent(modality=KEY, signed_on=core.today))
    db.session.commit()
    for who, why in ((client, "had expired by"), (withdrawn, "was withdrawn by"), (late, "was signed after")):
        treatment = core.booked(who, KEY, when=datetime.now(UTC) - timedelta(days=1) if who is late else None)
        assert ("core.consent", "consent-not-valid", "block") in _codes(treatment)
        assert why in next(f.message for f in treatment.current_findings() if f.code == "consent-not-valid")


def test_practitioner_must_hold_a_valid_certification(core):
    client = core.client(consents=[KEY])
    assert ("core.certification", f"practitioner-not-certified:{KEY}", "block") in _codes(
        core.booked(client, KEY, practitioner="front_desk")
    )
    core.staff["practitioner"].certifications[0].valid_until = core.today - timedelta(days=1)
    db.session.commit()
    assert ("core.certification", f"practitioner-certification-expired:{KEY}", "block") in _codes(
        core.booked(client, KEY)
    )


class NeedsInjections:
    """A modality that also needs the injections qualification."""

    @hookimpl
    def register_qualifications(self):
        return [Qualification("injections", "Injections (licensed injector)")]

    @hookimpl
    def register_modality(self):
        return Modality("injmod", "Injected modality", requires=("injections",))


@pytest.mark.parametrize(
    "app_config", [{"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), ("injmod", NeedsInjections())]}]
)
def test_a_modality_can_require_a_qualification_too(core, login):
    client = core.client(consents=["injmod"])
    core.certify("practitioner", "injmod")
    found = _codes(core.booked(client, "injmod"))
    assert ("core.certification", "practitioner-not-certified:injections", "block") in found
    assert not any(code == "practitioner-not-certified:injmod" for _, code, _ in found)
    page = login("manager").get("/admin/certification/new/").get_data(as_text=True)
    assert '<option value="injections">Injections (licensed injector)</option>' in page
    core.certify("practitioner", "injections")
    assert not any(code.startswith("practitioner-") for _, code, _ in _codes(core.booked(client, "injmod")))


def test_unreviewed_or_stale_health_history_warns(core):
    assert ("core.intake", "intake-not-reviewed", "warn") in _codes(
        core.booked(core.client(consents=[KEY], reviewed=False), KEY)
    )
    stale = core.client(first="Stale", consents=[KEY])
    stale.intake_reviewed_on = core.today - timedelta(days=366)
    db.session.commit()
    assert ("core.intake", "intake-out-of-date", "warn") in _codes(core.booked(stale, KEY))


def test_course_interval_uses_the_modality_setting(core, login):
    client = core.client(consents=[KEY])
    core.lot(core.supply, "L", 10)
    first = core.booked(client, KEY, when=datetime.now(UTC) - timedelta(days=5))
    record(
        first,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=first.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    too_soon = core.booked(client, KEY)
    assert ("core.course_interval", "course-interval-too-short", "warn") in _codes(too_soon)
    # A manager shortens the interval in Settings; screening again clears it.
    http = login("manager")
    assert http.post("/admin/settings/", data={"testmod.interval_days": "3"}).status_code == 302
    http.post(f"/admin/desk/{too_soon.id}/screen")
    db.session.expire_all()
    assert db.session.get(Treatment, too_soon.id).screening_status == "clear"


def test_settings_reject_bad_values_and_change_nothing(core, login):
    http = login("manager")
    for value in ("-1", "abc", "1e9"):
        response = http.post(
            "/admin/settings/", data={"testmod.interval_days": value, "core.intake_review_valid_days": "10"}
        )
        assert "Nothing was saved" in response.get_data(as_text=True)
    from clinicadmin.clinic_settings import effective_settings

    db.session.expire_all()
    assert effective_settings()["core.intake_review_valid_days"] == 365
    assert login("practitioner").post("/admin/settings/", data={"testmod.interval_days": "1"}).status_code == 403


def test_treatment_of_a_modality_no_plugin_provides_is_blocked(core):
    treatment = Treatment(
        client=core.client(consents=[KEY]),
        modality="gone",
        practitioner=core.staff["practitioner"],
        location=core.location,
        scheduled_at=datetime.now(UTC),
        details={},
    )
    db.session.add(treatment)
    db.session.flush()
    from clinicadmin.screening import screen

    screen(treatment, "review")
    assert ("core", "modality-not-loaded", "block") in _codes(treatment)


def test_findings_are_stored_per_run_as_they_were(core):
    client = core.client(history=[("diabetes", 100)], consents=[KEY])
    treatment = core.booked(client, KEY)
    client.health_entries[0].entered_in_error_at = datetime.now(UTC)  # never diabetic, it turns out
    db.session.commit()
    from clinicadmin.treatment_flow import rescreen

    rescreen(treatment)
    runs = db.session.execute(
        db.select(ScreeningFinding.run, ScreeningFinding.code).where(ScreeningFinding.treatment_id == treatment.id)
    ).all()
    assert (1, "testmod.diabetes") in runs and all(code != "testmod.diabetes" for run, code in runs if run == 2)
    assert treatment.screening_status == "clear"


def test_recording_twice_is_refused(core):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    core.lot(core.supply, "L", 5)
    record(
        treatment,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=treatment.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    with pytest.raises(TreatmentRejected, match="already recorded by"):
        record(
            treatment,
            details={"product": core.supply.id, "amount": "1"},
            performed_at=treatment.scheduled_at,
            notes=None,
            user=core.staff["practitioner"],
        )


def test_a_screening_that_finds_nothing_leaves_no_old_finding_current(core, login):
    client = core.client(history=[("diabetes", 100)], consents=[KEY])
    treatment = core.booked(client, KEY)
    assert _codes(treatment) == {("fake", "testmod.diabetes", "warn")}
    client.health_entries[0].ended = core.today - timedelta(days=1)  # no longer diabetic, say
    db.session.commit()
    http = login("practitioner")
    http.post(f"/admin/desk/{treatment.id}/screen")
    db.session.expire_all()
    treatment = db.session.get(Treatment, treatment.id)
    assert treatment.screening_status == "clear" and treatment.current_findings() == []
    page = http.get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    current, earlier = page.split("Earlier screening runs")
    assert "No findings: clear to treat." in current and "Diabetic: take care." not in current
    assert "Diabetic: take care." in earlier
