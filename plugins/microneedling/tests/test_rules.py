"""Every microneedling rule, table-driven, through the screening engine; with the waiting-period day boundaries."""

import pytest

from clinicadmin.extensions import db

KEY = "microneedling"
BLOCKS = [
    "pregnancy",
    "breastfeeding",
    "acute_infection",
    "chronic_disease_flare",
    "herpes_active",
    "open_lesions_area",
    "rosacea",
    "acne_active",
    "eczema_psoriasis_active",
    "bleeding_disorder",
    "cancer",
    "chemo_radiotherapy",
    "keloid_scarring",
    "many_moles_area",
    "allergy_metal",
]
WARNS = ["diabetes", "autoimmune_disease", "immunosuppression", "anticoagulants"]
# (code, default wait in days)
WAITS = [("isotretinoin", 180), ("botulinum_toxin", 90), ("dermal_filler", 180), ("chemical_peel", 30)]


def _mine(mn, history, details=None):
    treatment = mn.booked(mn.client(history=history, consents=[KEY]), KEY)
    if details is not None:
        treatment.details = details
        from clinicadmin.treatment_flow import rescreen

        db.session.commit()
        rescreen(treatment)
    return {(f.code, f.severity) for f in treatment.current_findings() if f.plugin == KEY}


def test_a_healthy_client_has_no_finding(mn):
    assert _mine(mn, []) == set()


@pytest.mark.parametrize("code", BLOCKS)
def test_blocking_conditions(mn, code):
    assert _mine(mn, [(code, 30)]) == {(f"microneedling.{code}", "block")}


@pytest.mark.parametrize("code", WARNS)
def test_warning_conditions(mn, code):
    assert _mine(mn, [(code, 30)]) == {(f"microneedling.{code}", "warn")}


def test_a_condition_that_has_ended_no_longer_counts(mn):
    from clinicadmin.models import HealthEntry

    client = mn.client(consents=[KEY])
    client.health_entries.append(
        HealthEntry(
            code="herpes_active",
            onset=mn.today.replace(year=mn.today.year - 1),
            ended=mn.today.replace(year=mn.today.year - 1),
        )
    )
    db.session.commit()
    treatment = mn.booked(client, KEY)
    assert [f for f in treatment.current_findings() if f.plugin == KEY] == []


@pytest.mark.parametrize("code, wait", WAITS)
@pytest.mark.parametrize(
    "offset, expected", [(-1, True), (0, False), (1, False)], ids=["day-before", "on-day", "after"]
)
def test_waiting_periods_and_their_day_boundaries(mn, code, wait, offset, expected):
    """A procedure's wait counts from its date; a medication's from the day it ended (its course began earlier)."""
    days = wait + offset
    entry = (code, days + 60, days) if code == "isotretinoin" else (code, days)
    found = _mine(mn, [entry])
    assert ((f"microneedling.recent_{code}", "warn") in found) is expected


def test_isotretinoin_still_being_taken_counts_however_long_ago_it_began(mn):
    """No end date: the client is still taking it, so the wait after it has not begun."""
    assert ("microneedling.recent_isotretinoin", "warn") in _mine(mn, [("isotretinoin", 400)])


def test_an_undated_recent_procedure_counts_as_recent(mn):
    assert _mine(mn, [("dermal_filler", None)]) == {("microneedling.recent_dermal_filler", "warn")}


def test_waiting_periods_follow_the_clinic_setting(mn, login):
    assert (
        login("manager")
        .post("/admin/settings/", data={"microneedling.wait_after_chemical_peel_days": "10"})
        .status_code
        == 302
    )
    assert _mine(mn, [("chemical_peel", 12)]) == set()
    assert _mine(mn, [("chemical_peel", 9)]) == {("microneedling.recent_chemical_peel", "warn")}


def test_anaesthetic_allergy_warns_at_booking_and_blocks_if_gel_is_used(mn):
    assert _mine(mn, [("allergy_anesthetic", None)]) == {("microneedling.allergy_anesthetic", "warn")}
    assert _mine(mn, [("allergy_anesthetic", None)], details={"anesthetic_product": mn.gel.id}) == {
        ("microneedling.allergy_anesthetic", "block")
    }


def test_sessions_closer_than_the_minimum_interval_warn(mn):
    from datetime import UTC, datetime, timedelta

    client = mn.client(consents=[KEY])
    mn.lot(mn.cartridge, "C", 5)
    first = mn.booked(client, KEY, when=datetime.now(UTC) - timedelta(days=3))
    from clinicadmin.treatment_flow import record

    record(
        first,
        details={"needle_product": mn.cartridge.id},
        performed_at=first.scheduled_at,
        notes=None,
        user=mn.staff["practitioner"],
    )
    second = mn.booked(client, KEY)
    assert ("course-interval-too-short", "warn") in {(f.code, f.severity) for f in second.current_findings()}


@pytest.mark.parametrize("code, wait", WAITS)
def test_a_waiting_period_counts_from_the_end_date(mn, code, wait):
    """Isotretinoin entered with the course's start as its date and stopped 60 days ago is within its wait, however
    long ago the course started; stopped a whole wait ago, it is not."""
    from datetime import timedelta

    from clinicadmin.models import HealthEntry

    found = []
    for ended in (60 if wait > 60 else wait - 1, wait):
        client = mn.client(consents=[KEY])
        client.health_entries.append(
            HealthEntry(code=code, onset=mn.today - timedelta(days=wait + 200), ended=mn.today - timedelta(days=ended))
        )
        db.session.commit()
        found.append(
            (f"microneedling.recent_{code}", "warn")
            in {(f.code, f.severity) for f in mn.booked(client, KEY).current_findings() if f.plugin == KEY}
        )
    assert found == [True, False]


@pytest.mark.parametrize(
    "skin_type, warned", [(None, False), ("I", False), ("III", False), ("IV", True), ("V", True), ("VI", True)]
)
def test_a_darker_fitzpatrick_skin_type_warns_of_pigmentation(mn, skin_type, warned):
    """Skin types IV to VI carry a higher risk of post-inflammatory hyperpigmentation: a warning to acknowledge."""
    client = mn.client(consents=[KEY])
    client.plugin_fields = {"fitzpatrick_skin_type": skin_type} if skin_type else {}
    db.session.commit()
    findings = [f for f in mn.booked(client, KEY).current_findings() if f.code == "microneedling.pigmentation_risk"]
    assert [(f.severity, f"type {skin_type}:" in f.message) for f in findings] == ([("warn", True)] if warned else [])


def test_the_fitzpatrick_skin_type_is_kept_on_the_client_form(mn, login):
    http = login("practitioner")
    page = http.get("/admin/client/new/").get_data(as_text=True)
    assert "Fitzpatrick skin type" in page and '<option value="IV">IV: burns minimally, tans well</option>' in page
    assert (
        http.post(
            "/admin/client/new/",
            data={
                "first_name": "Noor",
                "last_name": "Phototype",
                "date_of_birth": "1990-01-01",
                "intake_reviewed_on": mn.today.isoformat(),
                "client_field-fitzpatrick_skin_type": "V",
            },
        ).status_code
        == 302
    )
    from clinicadmin.models import Client

    client = db.session.execute(db.select(Client).where(Client.last_name == "Phototype")).scalar_one()
    assert client.field_value("fitzpatrick_skin_type") == "V"
    assert "Fitzpatrick skin type: V: rarely burns" in http.get(f"/admin/client/details/?id={client.id}").get_data(
        as_text=True
    )
