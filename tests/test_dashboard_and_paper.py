"""The home dashboard per role, and the paper for the client: consent forms and the printable treatment history."""

from datetime import UTC, datetime, timedelta

from clinicadmin.clock import local_today
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent
from clinicadmin.treatment_flow import record

KEY = "testmod"


def _audited(action):
    return db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def _clinic_day(core):
    """Today: a clear booking, a blocked one (pregnancy blocks the test modality), a treatment performed this
    week, a consent that expires in 5 days, and a lot that runs low."""
    core.supply.reorder_level = 20
    core.lot(core.supply, "LOW-1", 5)
    clear = core.client(first="Clara", last="Clear", consents=[KEY])
    blocked = core.client(first="Bea", last="Blocked", history=[("pregnancy", 30)], consents=[KEY])
    clear.consents[0].expires_on = local_today() + timedelta(days=5)
    db.session.commit()
    now = datetime.now(UTC).replace(microsecond=0)
    done = core.booked(clear, KEY, when=now - timedelta(minutes=5))
    record(
        done,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=done.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    core.booked(blocked, KEY, when=now + timedelta(hours=2))
    return clear, blocked


def test_the_manager_sees_the_day_what_needs_attention_and_the_last_12_weeks(core, login):
    clear, blocked = _clinic_day(core)
    page = login("manager").get("/admin/").get_data(as_text=True)
    upcoming = page[page.index('id="upcoming"') : page.index("</table>", page.index('id="upcoming"'))]
    assert "Clara Clear" in upcoming and "Bea Blocked" in upcoming and "badge-screening-blocked" in upcoming
    blocked_alert = page[page.index('id="alert-blocked"') :]
    assert "Bea Blocked" in blocked_alert[: blocked_alert.index("</section>")]
    consents = page[page.index('id="alert-consents"') :]
    assert "Clara Clear" in consents[: consents.index("</section>")]
    assert "LOW" in page[page.index('id="alert-stock"') :]
    this_week = (local_today() - timedelta(days=local_today().weekday())).strftime("%d %b")
    assert f"<title>Treatments, {this_week}: 1</title>" in page  # the treatment performed this week
    assert f"<title>Lots used, {this_week}: 1</title>" in page
    for action in ("New client", "Book a treatment", "Record a treatment", "Receive stock"):
        assert action in page
    viewed = _audited("dashboard.view")
    assert viewed and set(viewed[-1].detail["clients"]) == {clear.id, blocked.id}


def test_each_role_sees_its_own_dashboard(core, login):
    _clinic_day(core)
    # The front desk's home is today's appointment book, with the consents about to expire.
    front_desk = login("front_desk").get("/admin/", follow_redirects=True).get_data(as_text=True)
    assert "Appointment book" in front_desk and 'id="alert-consents"' in front_desk
    consents = front_desk[front_desk.index('id="alert-consents"') : front_desk.index("</details>")]
    assert "Clara Clear" in consents
    assert 'id="alert-blocked"' not in front_desk and "<svg" not in front_desk and "Receive stock" not in front_desk
    practitioner = login("practitioner").get("/admin/").get_data(as_text=True)
    assert 'id="alert-blocked"' in practitioner and "Treatments per week" in practitioner
    assert 'id="alert-stock"' not in practitioner
    clerk = login("stock_clerk").get("/admin/").get_data(as_text=True)
    assert 'id="alert-stock"' in clerk and "Stock movements per week" in clerk
    assert "Clear" not in clerk and "Blocked" not in clerk and "New client" not in clerk


def test_a_consent_form_prints_with_the_plugins_text_and_is_recorded_as_signed(core, login):
    client = core.client(first="Cora", last="Consent")
    front_desk = login("front_desk")
    page = front_desk.get(f"/admin/consent-form/{KEY}?client_id={client.id}").get_data(as_text=True)
    assert "Consent to Test modality" in page and "Cora Consent" in page
    assert "I agree to the &lt;b&gt;test&lt;/b&gt; modality." in page  # the plugin's text, escaped
    assert "Client's signature and date" in page and 'id="print-button"' in page
    assert _audited("consent_form.print")[-1].client_id == client.id
    record_link = f"/admin/consent/new/?client_id={client.id}&amp;modality={KEY}"
    assert record_link in page
    form = front_desk.get(record_link.replace("&amp;", "&")).get_data(as_text=True)
    assert f'<option selected value="{KEY}">' in form or f'value="{KEY}" selected' in form
    assert "Consent, Cora" in form
    blank = front_desk.get(f"/admin/consent-form/{KEY}").get_data(as_text=True)
    assert "______" in blank  # a blank form to fill in by hand
    assert front_desk.get("/admin/consent-form/no-such-modality").status_code == 404
    client.archived_at = datetime.now(UTC)
    db.session.commit()
    assert front_desk.get(f"/admin/consent-form/{KEY}?client_id={client.id}").status_code == 404
    assert login("stock_clerk").get(f"/admin/consent-form/{KEY}").status_code == 403


def test_a_clients_treatment_history_lists_what_was_done_by_whom_with_which_lots(core, login):
    core.lot(core.supply, "LOT-HIST", 10)
    client = core.client(first="Hana", last="History", consents=[KEY])
    treatment = core.booked(client, KEY)
    record(
        treatment,
        details={"product": core.supply.id, "amount": "2"},
        performed_at=treatment.scheduled_at,
        notes="Tolerated well",
        user=core.staff["practitioner"],
    )
    practitioner = login("practitioner")
    page = practitioner.get(f"/admin/client-history/?id={client.id}").get_data(as_text=True)
    assert "Treatment history: Hana History" in page
    row = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "Test modality" in row and "Test practitioner" in row and "(lot LOT-HIST)" in row
    assert "Tolerated well" in row and "Amount:" in row
    assert _audited("client.history.print")[-1].client_id == client.id
    earlier = local_today() - timedelta(days=400)
    empty = practitioner.get(f"/admin/client-history/?id={client.id}&date_from={earlier}&date_to={earlier}")
    assert "No treatments performed in this period." in empty.get_data(as_text=True)
    bad = practitioner.get(f"/admin/client-history/?id={client.id}&date_from=2026-13-01").get_data(as_text=True)
    assert "Dates must be given as YYYY-MM-DD." in bad
    assert login("front_desk").get(f"/admin/client-history/?id={client.id}").status_code == 403
    assert practitioner.get("/admin/client-history/?id=99999").status_code == 404
