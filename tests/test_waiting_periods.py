"""A waiting period counts from the end date when there is one (issue 14, item 8): a medication stopped 60 days ago
is 60 days ago, however long ago its course started. Held for every plugin through ``clinicadmin.rules``, the helpers
every plugin's waiting rules go through, with entries entered on the client form as a practitioner enters them."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from fake_modality import FakeModality

from clinicadmin.extensions import db
from clinicadmin.models import Client
from clinicadmin.plugin_api import hookimpl
from clinicadmin.rules import WaitingRule, evaluate, waiting_settings

RULES = [
    WaitingRule("isotretinoin", "waits.isotretinoin_days", 180, "warn", "Isotretinoin", "medication"),
    WaitingRule("dermal_filler", "waits.dermal_filler_days", 14, "block", "Dermal filler"),
]


class WaitingPlugin:
    """A plugin whose contraindications are waiting rules only, on the fake modality's treatments."""

    @hookimpl
    def register_settings(self):
        return waiting_settings("Waits", RULES)

    @hookimpl
    def check_contraindications(self, treatment, history, settings):
        return evaluate("waits", RULES, history, settings)


@pytest.fixture
def app_config():
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), ("waits", WaitingPlugin())]}


def _days(n):
    return "" if n is None else (datetime.now(UTC).date() - timedelta(days=n)).isoformat()


def _entered(login, code, started, ended, in_error=False):
    """A client whose history has ``code`` from ``started`` to ``ended`` days ago, entered on the client form."""
    http = login("practitioner")
    assert (
        http.post(
            "/admin/client/new/",
            data={
                "first_name": "Wait",
                "last_name": code,
                "date_of_birth": "1980-01-01",
                "intake_reviewed_on": _days(1),
                "health_entries-0-code": code,
                "health_entries-0-onset": _days(started),
                "health_entries-0-ended": _days(ended),
            },
        ).status_code
        == 302
    )
    client = db.session.execute(db.select(Client).where(Client.last_name == code)).scalar_one()
    if in_error:
        entry = client.health_entries[0]
        assert (
            http.post(
                f"/admin/client/edit/?id={client.id}",
                data={
                    "first_name": "Wait",
                    "last_name": code,
                    "date_of_birth": "1980-01-01",
                    "intake_reviewed_on": _days(1),
                    "health_entries-0-id": str(entry.id),
                    "health_entries-0-code": code,
                    "health_entries-0-onset": _days(started),
                    "health_entries-0-ended": _days(ended),
                    "health_entries-0-entered_in_error_reason": "another client's",
                },
            ).status_code
            == 302
        )
        db.session.expire_all()
    return client


@pytest.mark.parametrize(
    "code, started, ended, in_days, finding",
    [
        # The case: a course started long ago, stopped 60 days ago: 60 days, within a 180-day wait.
        ("isotretinoin", 300, 60, 0, ("waits.recent_isotretinoin", "warn", "An isotretinoin course ended 60 days ago")),
        ("isotretinoin", 400, 180, 0, None),  # stopped 180 days ago: the wait is over on that day
        (
            "isotretinoin",
            400,
            179,
            0,
            ("waits.recent_isotretinoin", "warn", "An isotretinoin course ended 179 days ago"),
        ),
        ("isotretinoin", 300, 60, 130, None),  # a treatment booked for 130 days ahead: 190 days after it stopped
        ("isotretinoin", 300, -10, 0, ("waits.recent_isotretinoin", "warn", "still taking isotretinoin")),  # ends later
        # A medication without an end date is still being taken: within every wait after it, however long ago it began.
        (
            "isotretinoin",
            200,
            None,
            0,
            ("waits.recent_isotretinoin", "warn", "The client is still taking isotretinoin"),
        ),
        ("isotretinoin", 400, 200, 0, None),  # stopped 200 days ago: the 180-day wait is over
        ("dermal_filler", 200, None, 0, None),  # a procedure is a point event: 200 days after it, the wait is over
        ("dermal_filler", 20, 10, 0, ("waits.recent_dermal_filler", "block", "A dermal filler was done 10 days ago")),
        ("dermal_filler", 10, None, 0, ("waits.recent_dermal_filler", "block", "A dermal filler was done 10 days ago")),
        ("dermal_filler", 30, None, 0, None),  # a one-day procedure, no end date: counts from its date
    ],
)
def test_a_waiting_period_counts_from_the_end_date_when_there_is_one(
    app, clinic, login, code, started, ended, in_days, finding
):
    client = _entered(login, code, started, ended)
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=in_days)
    treatment = clinic.booked(client, "testmod", when=when)
    found = [(f.code, f.severity, f.message) for f in treatment.current_findings() if f.plugin == "waits"]
    if finding is None:
        assert found == []
    else:
        assert [(c, s) for c, s, m in found] == [finding[:2]] and finding[2] in found[0][2]


def test_an_entry_entered_in_error_starts_no_waiting_period(app, clinic, login):
    client = _entered(login, "dermal_filler", 3, None, in_error=True)
    treatment = clinic.booked(client, "testmod")
    assert [f.code for f in treatment.current_findings() if f.plugin == "waits"] == []


def test_the_form_says_which_date_is_which(app, login):
    page = html.unescape(login("practitioner").get("/admin/client/new/").get_data(as_text=True))
    assert "Started / date it happened" in page and "Ended on (waiting periods count from this date)" in page
    assert "Isotretinoin (oral retinoid) (date started)" in page and "Dermal filler (date it happened)" in page


def test_a_medication_still_being_taken_is_screened_as_today_when_booked_and_when_recorded(app, clinic, login):
    """The reviewers' case: isotretinoin started 200 days ago with no end date is a client still taking it, so the
    180-day wait after it holds at booking and again at recording (and the message does not invent an end date)."""
    clinic.certify("practitioner", "testmod")
    product = clinic.product("SUP-W", category="consumable", unit="mL")
    client = clinic.client(history=[("isotretinoin", 200)], consents=["testmod"])
    treatment = clinic.booked(client, "testmod")
    [finding] = [f for f in treatment.current_findings() if f.plugin == "waits"]
    assert (finding.code, finding.severity) == ("waits.recent_isotretinoin", "warn")
    assert finding.message.startswith("The client is still taking isotretinoin (no end date on record")
    assert "ended" not in finding.message and "180 days after it ends" in finding.message
    page = html.unescape(
        login("practitioner").record(treatment, {"product": product.id, "amount": "1"}).get_data(as_text=True)
    )
    assert "Warning to acknowledge (Waits): The client is still taking isotretinoin" in page
    db.session.expire_all()
    assert db.session.get(type(treatment), treatment.id).status == "booked"


@pytest.mark.parametrize(
    "history",
    [[("isotretinoin", 400, 200)], [("dermal_filler", 200)]],
    ids=["medication-ended-200-days-ago", "procedure-200-days-ago"],
)
def test_an_ended_medication_or_an_old_procedure_is_recorded_without_a_finding(app, clinic, login, history):
    clinic.certify("practitioner", "testmod")
    product = clinic.product("SUP-W", category="consumable", unit="mL")
    treatment = clinic.booked(clinic.client(history=history, consents=["testmod"]), "testmod")
    assert [f for f in treatment.current_findings() if f.plugin == "waits"] == []
    assert login("practitioner").record(treatment, {"product": product.id, "amount": "1"}).status_code == 302
    db.session.expire_all()
    recorded = db.session.get(type(treatment), treatment.id)
    assert recorded.status == "performed" and [f for f in recorded.current_findings() if f.plugin == "waits"] == []


@pytest.mark.parametrize(
    "kind, ongoing, since, expected",
    [
        ("medication", True, 0, "The client is still taking isotretinoin (no end date on record"),
        ("medication", False, 30, "An isotretinoin course ended 30 days ago; the clinic waits 180 days."),
        ("condition", True, 0, "An isotretinoin is ongoing"),
        ("procedure", False, 0, "An isotretinoin was done on the session's day or is on record without a date"),
    ],
)
def test_the_message_says_ongoing_or_how_long_ago_it_ended(kind, ongoing, since, expected):
    from clinicadmin.wording import waiting_message

    assert waiting_message("Isotretinoin", kind, since, 180, ongoing=ongoing).startswith(expected)
