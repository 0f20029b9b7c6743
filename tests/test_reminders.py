"""Reminders and aftercare to clients, through a real SMTP server in this process (aiosmtpd): what arrives, when,
once, only to clients who agreed and on their channel; bounced and failed messages on the client's record; text
messages through the ``send_message`` hook; the managers' templates."""

import email
import html
import json
import multiprocessing
import os
import socket
import threading
from collections import Counter
from datetime import datetime, timedelta
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from fake_modality import KEY, FakeModality

from clinicadmin.clock import from_local, local_today, now
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, ClientMessage, MessageTemplate
from clinicadmin.plugin_api import MessageChannel, MessageRefused, hookimpl
from clinicadmin.reminders import retry_messages, send_aftercare_messages, send_due_messages, send_due_reminders
from clinicadmin.treatment_flow import cancel, record, reschedule

ZONE = "America/New_York"


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts and refuses the addresses in ``refuse``."""

    def __init__(self):
        self.messages = []
        self.refuse = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    def to(self, address):
        return [m for m in self.messages if m["To"] == address]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """A real SMTP server on a free local port, which a test may stop (the server is down) and start again."""

    def __init__(self):
        self.inbox = Inbox()
        self.port = _free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def _config(smtp, *plugins, **more):
    return {
        "PLUGINS_ENABLED": [],
        "EXTRA_PLUGINS": [("fake", FakeModality()), *plugins],
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT": 5,
        "MAIL_DEFAULT_SENDER": "clinic@example.com",
        **more,
    }


@pytest.fixture
def message_plugins():
    """(name, plugin) pairs and config for the app beside the fake modality; a test parametrizes it."""
    return {}


@pytest.fixture
def app_config(smtp, message_plugins):
    return _config(smtp, *message_plugins.get("plugins", ()), **message_plugins.get("config", {}))


def _consenting(core, first, channel="email"):
    client = core.client(first=first, last="Client", consents=[KEY])
    client.email = f"{first.lower()}@example.com"
    client.phone = "+1 212 555 0100"
    client.contact_consent, client.contact_channel = True, channel
    db.session.commit()
    return client


@pytest.fixture
def booked(core):
    """Book a consenting client (by e-mail unless told) at a wall-clock time in New York; returns the booking."""
    core.location.time_zone = ZONE
    db.session.commit()

    def book(first="Ann", channel="email", consent=True, days=2, hour=15):
        client = _consenting(core, first, channel)
        client.contact_consent = consent
        db.session.commit()
        when = from_local(
            datetime.combine(local_today(core.location) + timedelta(days=days), datetime.min.time()).replace(hour=hour),
            core.location,
        )
        return core.booked(client, KEY, when=when, minutes=30)

    return book


def _due(booking):
    return booking.scheduled_at - timedelta(hours=24)


def _log(client):
    db.session.expire_all()
    return db.session.execute(db.select(ClientMessage).where(ClientMessage.client_id == client.id)).scalars().all()


def test_the_reminder_arrives_at_its_due_time_once_with_the_time_where_the_booking_is(booked, smtp):
    booking = booked()
    assert send_due_reminders(at=_due(booking) - timedelta(minutes=1))["sent"] == 0
    assert smtp.inbox.messages == []

    assert send_due_reminders(at=_due(booking))["sent"] == 1
    assert send_due_reminders(at=_due(booking) + timedelta(minutes=1))["sent"] == 0
    assert send_due_messages(at=_due(booking) + timedelta(hours=1))["sent"] == 0
    [message] = smtp.inbox.to("ann@example.com")
    text = message.get_content()
    assert "Dear Ann," in text
    assert "at 15:00 (America/New_York)" in text  # the location's wall clock, not UTC (20:00 or 19:00)
    assert "Test modality" in text
    assert message["From"] == "clinic@example.com"
    [row] = _log(booking.client)
    assert (row.status, row.kind, row.channel, row.recipient, row.attempts) == (
        "sent",
        "booking_reminder",
        "email",
        "ann@example.com",
        1,
    )
    assert row.sent_at == _due(booking)


def test_the_lead_time_is_the_clinics_setting(booked, smtp, core):
    core.setting("core.reminder_lead_hours", "48")
    booking = booked(days=3)
    send_due_reminders(at=booking.scheduled_at - timedelta(hours=48, minutes=1))
    assert smtp.inbox.messages == []
    send_due_reminders(at=booking.scheduled_at - timedelta(hours=48))
    assert len(smtp.inbox.messages) == 1


def test_no_reminder_without_consent_on_another_channel_or_for_a_cancelled_booking(booked, smtp, core):
    no_consent = booked("Bea", consent=False)
    by_text = booked("Cy", channel="sms", hour=16)  # no plugin sends texts here, and it is not an e-mail
    cancelled = booked("Dee", hour=17)
    cancel(cancelled, reason="client called", user=core.staff["front_desk"], by="client")
    send_due_reminders(at=_due(cancelled) + timedelta(minutes=5))
    assert smtp.inbox.messages == []
    assert _log(no_consent.client) == [] and _log(cancelled.client) == []
    [text] = _log(by_text.client)
    assert text.status == "failed" and "no loaded plugin registers the channel 'sms'" in text.error


def test_a_moved_booking_is_reminded_for_its_new_time_only(booked, smtp, core):
    booking = booked(days=2, hour=15)
    old_due = _due(booking)
    smtp.stop()  # the first attempt fails: the reminder for the old time is on record, to be tried again
    send_due_reminders(at=old_due)
    reschedule(
        booking,
        scheduled_at=booking.scheduled_at + timedelta(days=1),
        practitioner=booking.practitioner,
        location=booking.location,
        user=core.staff["manager"],
    )
    smtp.start()
    summary = retry_messages(at=old_due + timedelta(minutes=30))
    assert summary["withdrawn"] == 1
    assert smtp.inbox.messages == []
    send_due_reminders(at=old_due + timedelta(hours=23))
    assert smtp.inbox.messages == []
    send_due_reminders(at=_due(booking))
    [message] = smtp.inbox.messages
    assert "at 15:00" in message.get_content()
    statuses = sorted((m.status, m.about_at) for m in _log(booking.client))
    assert statuses == [("sent", booking.scheduled_at), ("withdrawn", booking.scheduled_at - timedelta(days=1))]


def test_concurrent_runs_send_each_due_reminder_once(app, booked, smtp):
    bookings = [booked(name, hour=9 + i) for i, name in enumerate(["Ann", "Bea", "Cy", "Dee", "Eve"])]
    at = _due(bookings[-1])
    start = threading.Barrier(4)
    errors = []

    def worker():
        with app.app_context():
            try:
                start.wait()
                send_due_messages(at=at)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(m["To"] for m in smtp.inbox.messages) == sorted(b.client.email for b in bookings)
    rows = db.session.execute(db.select(ClientMessage)).scalars().all()
    assert len(rows) == 5 and {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}


def _run_in_process(app, at, start):
    """A forked worker: its own connections (none shared with the parent), then send_due_messages at ``at``."""
    code = 1
    try:
        with app.app_context():
            db.engine.dispose(close=False)  # the parent's pooled connections stay the parent's
            start.wait(30)
            send_due_messages(at=at)
            code = 0
    finally:
        os._exit(code)


def test_worker_processes_at_once_send_each_due_reminder_once(app, booked, smtp):
    bookings = [booked(name, hour=9 + i) for i, name in enumerate(["Ann", "Bea", "Cy", "Dee"])]
    at, emails = _due(bookings[-1]), sorted(b.client.email for b in bookings)
    db.session.remove()
    db.engine.dispose()
    forking = multiprocessing.get_context("fork")
    start = forking.Barrier(4)
    workers = [forking.Process(target=_run_in_process, args=(app, at, start)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert sorted(m["To"] for m in smtp.inbox.messages) == emails
    rows = db.session.execute(db.select(ClientMessage)).scalars().all()
    assert len(rows) == 4 and {(r.status, r.attempts) for r in rows} == {("sent", 1)}


def test_a_refused_address_is_bounced_on_the_clients_record(booked, smtp, login):
    smtp.inbox.refuse.add("ann@example.com")
    booking = booked()
    assert send_due_reminders(at=_due(booking))["bounced"] == 1
    [row] = _log(booking.client)
    assert row.status == "bounced" and "550" in row.error
    retry_messages(at=_due(booking) + timedelta(hours=2))
    assert _log(booking.client)[0].attempts == 1  # a bounce is not tried again
    page = login("manager").get(f"/admin/client/details/?id={booking.client_id}").get_data(as_text=True)
    assert "bounced" in page and "No such mailbox here" in page
    audit = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "message.bounced", AuditEvent.client_id == booking.client_id)
    ).scalar_one()
    assert audit.detail["kind"] == "booking_reminder"


def test_a_server_down_fails_the_message_which_is_sent_on_a_later_retry(booked, smtp, app):
    booking = booked()
    smtp.stop()
    assert send_due_reminders(at=_due(booking))["failed"] == 1
    [row] = _log(booking.client)
    assert row.status == "failed" and row.error
    smtp.start()
    assert retry_messages(at=_due(booking) + timedelta(minutes=5))["sent"] == 0  # not before its retry time
    assert send_due_messages(at=_due(booking) + timedelta(minutes=10))["sent"] == 1
    [row] = _log(booking.client)
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)
    assert len(smtp.inbox.messages) == 1
    actions = (
        db.session.execute(
            db.select(AuditEvent.action).where(
                AuditEvent.client_id == booking.client_id, AuditEvent.action.like("message.%")
            )
        )
        .scalars()
        .all()
    )
    assert sorted(actions) == ["message.failed", "message.sent"]


def test_failed_messages_are_tried_at_most_the_configured_number_of_times(booked, smtp, app):
    app.config["MESSAGE_MAX_ATTEMPTS"] = 2
    booking = booked()
    smtp.stop()
    send_due_reminders(at=_due(booking))
    retry_messages(at=_due(booking) + timedelta(minutes=10))
    retry_messages(at=_due(booking) + timedelta(minutes=20))
    [row] = _log(booking.client)
    assert (row.status, row.attempts) == ("failed", 2)


def test_a_message_left_sending_by_a_dead_worker_is_taken_again_after_the_timeout(booked, smtp):
    booking = booked()
    at = _due(booking)
    db.session.add(
        ClientMessage(
            client_id=booking.client_id,
            treatment_id=booking.id,
            kind="booking_reminder",
            channel="email",
            about_at=booking.scheduled_at,
            status="sending",
            attempts=1,
            created_at=at,
            claimed_at=at,
        )
    )
    db.session.commit()
    assert send_due_messages(at=at + timedelta(minutes=14))["sent"] == 0  # its worker may still be sending
    assert smtp.inbox.messages == []
    assert send_due_messages(at=at + timedelta(minutes=15))["sent"] == 1
    [row] = _log(booking.client)
    assert (row.status, row.attempts) == ("sent", 2)


def test_the_aftercare_message_arrives_with_the_plugins_aftercare(core, booked, smtp):
    booking = core.booked(_consenting(core, "Ann"), KEY, when=now() - timedelta(hours=1), minutes=30)
    record(
        booking,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=booking.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    assert send_aftercare_messages()["sent"] == 1
    assert send_aftercare_messages()["sent"] == 0
    [message] = smtp.inbox.messages
    text = message.get_content().replace("\r\n", "\n")
    assert "Rest for a day.\n\nDrink water." in text
    assert "Aftercare after your Test modality" in message["Subject"]
    assert [(m.kind, m.status) for m in _log(booking.client) if m.kind == "aftercare"] == [("aftercare", "sent")]


class Gateway:
    """A text-message gateway plugin: registers the sms channel and sends through ``send_message``."""

    def __init__(self, refuse=False):
        self.sent = []
        self.refuse = refuse

    @hookimpl
    def register_message_channels(self):
        return [MessageChannel("sms", "Text message (SMS)", address="phone")]

    @hookimpl
    def send_message(self, channel, recipient, text, message_id):
        if channel != "sms":
            return None
        if self.refuse:
            raise MessageRefused("not a mobile number")
        self.sent.append((recipient, text, message_id))
        return True


class ChannelOnly:
    """Registers the sms channel but sends nothing: the message must fail, not vanish."""

    @hookimpl
    def register_message_channels(self):
        return [MessageChannel("sms", "Text message (SMS)", address="phone")]


@pytest.mark.parametrize("message_plugins", [{"plugins": [("gateway", Gateway())]}])
def test_a_text_message_goes_through_the_send_message_hook(booked, smtp, message_plugins):
    [(_, gateway)] = message_plugins["plugins"]
    gateway.sent.clear()
    booking = booked("Tex", channel="sms")
    send_due_reminders(at=_due(booking))
    [(recipient, text, message_id)] = gateway.sent
    assert recipient == "+1 212 555 0100" and "at 15:00 at Test Clinic" in text
    [row] = _log(booking.client)
    assert (row.id, row.status, row.channel, row.recipient) == (message_id, "sent", "sms", "+1 212 555 0100")
    assert smtp.inbox.messages == []


@pytest.mark.parametrize("message_plugins", [{"plugins": [("gateway", Gateway(refuse=True))]}])
def test_a_text_message_refused_by_the_gateway_is_bounced(booked):
    booking = booked("Tex", channel="sms")
    send_due_reminders(at=_due(booking))
    [row] = _log(booking.client)
    assert row.status == "bounced" and "not a mobile number" in row.error


@pytest.mark.parametrize("message_plugins", [{"plugins": [("channel_only", ChannelOnly())]}])
def test_a_channel_no_plugin_sends_fails_with_the_reason(booked):
    booking = booked("Tex", channel="sms")
    assert send_due_reminders(at=_due(booking))["failed"] == 1
    [row] = _log(booking.client)
    assert row.status == "failed" and row.error == "no loaded plugin sends 'sms' messages (send_message)"


@pytest.mark.parametrize("message_plugins", [{"config": {"MESSAGE_LOG_SENDER": True}}])
def test_the_logging_sender_logs_text_messages_in_development(booked, caplog):
    booking = booked("Tex", channel="sms")
    with caplog.at_level("INFO", logger="clinicadmin.default_plugins.log_sender"):
        send_due_reminders(at=_due(booking))
    [row] = _log(booking.client)
    assert row.status == "sent"
    assert f"text message {row.id} to +1 212 555 0100" in caplog.text


TEMPLATE_URL = "/admin/message-templates/edit?kind=booking_reminder&channel=email"


def test_a_manager_edits_the_reminder_over_http_and_the_next_reminder_uses_it(booked, smtp, login):
    manager = login("manager")
    assert "Booking reminder" in manager.get("/admin/message-templates/").get_data(as_text=True)
    response = manager.post(
        TEMPLATE_URL,
        data={
            "subject": "See you {{ date }}",
            "body": "Hello {{ client_first_name }}, {{ time }} with {{ practitioner }}.",
        },
    )
    assert response.status_code == 302
    booking = booked()
    send_due_reminders(at=_due(booking))
    [message] = smtp.inbox.messages
    assert message["Subject"].startswith("See you ")
    assert message.get_content().strip() == f"Hello Ann, 15:00 with {booking.practitioner}."
    change = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "message_template.change")
    ).scalar_one()
    assert change.detail["new"]["subject"] == "See you {{ date }}" and change.detail["old"] is None


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("{{ client_name.__class__.__mro__ }}", "reaches for something a message may not use"),
        ("{{ cycler.__init__.__globals__ }}", "which is not a placeholder"),
        ("{{ client_name|attr('__class__') }}", "uses the filter attr, which a message may not use"),
        ("{{ config }}", "which is not a placeholder"),
        ("{% if %}", "cannot be read"),
        ("   ", "The message text is empty"),
    ],
)
def test_a_template_reaching_past_its_placeholders_is_refused_with_the_reason(core, login, body, said):
    response = login("manager").post(TEMPLATE_URL, data={"subject": "Hi", "body": body})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved." in page and said in page
    assert db.session.execute(db.select(MessageTemplate)).scalars().all() == []


NESTED_LOOPS = "".join("{% for x" + str(i) + " in location_address %}" for i in range(5)) + "x" + "{% endfor %}" * 5


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("{{ 10**5000 }}", "a number larger than a message may hold"),
        ("{{ clinic_name * 99999999999999 }}", "longer than the limit of 20000 characters"),
        ("{{ clinic_name*300000000 }}", "longer than the limit of 20000 characters"),
        ("{{ clinic_name|center(20000000) }}", "uses the filter center, which a message may not use"),
        ("{{ clinic_name|wordwrap(5) }}{{ clinic_name|indent(9) }}", "which a message may not use"),
        (NESTED_LOOPS, "uses a loop ({% for %}), which a message may not use"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "uses a macro ({% macro %})"),
        ("{% set a = clinic_name ~ clinic_name %}{% set b = a ~ a %}{{ b }}", "uses an assignment ({% set %})"),
        ("{{ '%99999999s' % clinic_name }}", "%-formatting is not available in a message"),
        ("{{ '{:99999999}'.format(clinic_name) }}", "uses a call of a function or method"),
        ("{{ clinic_name.ljust(99999999) }}", "uses a call of a function or method"),
        ("{{ clinic_name|replace('', clinic_name)|replace('', clinic_name) }}", "longer than the limit"),
        ("{{ aftercare }}" * 6, "more than the limit of 20000 (MESSAGE_MAX_CHARS)"),
    ],
)
def test_a_template_that_would_exhaust_the_server_is_refused_on_save_with_the_reason(core, login, body, said):
    response = login("manager").post(TEMPLATE_URL, data={"subject": "Hi", "body": body})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved." in page and html.escape(said, quote=False) in page
    assert 'name="body"' in page  # the form again, to correct it
    assert db.session.execute(db.select(MessageTemplate)).scalars().all() == []


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("{{ location_address }}{{ location_address }}", "more than the limit of 300 (MESSAGE_MAX_CHARS)"),
        ("{{ clinic_name * 99999999999999 }}", "longer than the limit of 300 characters"),
        ("{% for x in location_address %}{% for y in location_address %}{% endfor %}{% endfor %}", "a loop"),
    ],
)
def test_a_saved_template_too_long_for_the_real_values_fails_its_message_and_sends_nothing(
    app, booked, smtp, core, body, said
):
    app.config["MESSAGE_MAX_CHARS"] = 300
    core.location.address = "12 Long Street " * 12  # 180 characters: fine once, too long twice
    db.session.add(MessageTemplate(kind="booking_reminder", channel="email", subject="Hi", body=body))
    db.session.commit()
    booking = booked()
    assert send_due_messages(at=_due(booking))["failed"] == 1
    [row] = _log(booking.client)
    assert row.status == "failed" and said in row.error and row.error.startswith("the template cannot be used")
    assert smtp.inbox.messages == []


@pytest.mark.parametrize("message_plugins", [{"plugins": [("gateway", Gateway())]}])
def test_a_reminder_sent_by_email_is_not_sent_again_when_the_client_switches_to_text(booked, smtp, message_plugins):
    [(_, gateway)] = message_plugins["plugins"]
    gateway.sent.clear()
    booking = booked()
    assert send_due_reminders(at=_due(booking))["sent"] == 1
    booking.client.contact_channel = "sms"
    db.session.commit()
    assert send_due_messages(at=_due(booking) + timedelta(hours=1)) == Counter()
    assert gateway.sent == [] and len(smtp.inbox.messages) == 1
    [row] = _log(booking.client)
    assert (row.channel, row.status) == ("email", "sent")


@pytest.mark.parametrize("message_plugins", [{"plugins": [("gateway", Gateway())]}])
def test_aftercare_sent_by_email_is_not_sent_again_when_the_client_switches_to_text(core, smtp, message_plugins):
    [(_, gateway)] = message_plugins["plugins"]
    gateway.sent.clear()
    booking = core.booked(_consenting(core, "Ann"), KEY, when=now() - timedelta(hours=1), minutes=30)
    record(
        booking,
        details={"product": core.supply.id, "amount": "1"},
        performed_at=booking.scheduled_at,
        notes=None,
        user=core.staff["practitioner"],
    )
    assert send_aftercare_messages()["sent"] == 1
    booking.client.contact_channel = "sms"
    db.session.commit()
    assert send_aftercare_messages() == Counter()
    assert gateway.sent == [] and len(smtp.inbox.messages) == 1
    assert [(m.channel, m.status) for m in _log(booking.client) if m.kind == "aftercare"] == [("email", "sent")]


@pytest.mark.parametrize("message_plugins", [{"plugins": [("gateway", Gateway())]}])
def test_a_failed_reminder_is_retried_on_the_channel_the_client_chose_since(booked, smtp, message_plugins):
    [(_, gateway)] = message_plugins["plugins"]
    gateway.sent.clear()
    booking = booked()
    smtp.stop()
    assert send_due_reminders(at=_due(booking))["failed"] == 1
    booking.client.contact_channel = "sms"
    db.session.commit()
    assert send_due_messages(at=_due(booking) + timedelta(minutes=10))["sent"] == 1
    [(recipient, _, message_id)] = gateway.sent
    [row] = _log(booking.client)
    assert (row.id, row.channel, row.status, row.attempts, row.recipient) == (message_id, "sms", "sent", 2, recipient)


def test_a_production_server_refuses_to_start_with_the_logging_sender(database_url, tmp_path, monkeypatch):
    from clinicadmin import create_app
    from clinicadmin.deployment_secrets import new_secrets

    for name, value in {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "PLUGINS_ENABLED": "[]",
        "RATELIMIT_STORAGE_URI": "memory://",
        "HTTPS": "false",
        "MESSAGE_LOG_SENDER": "true",
    }.items():
        monkeypatch.setenv(f"CLINICADMIN_{name}", value)
    for name, value in new_secrets().items():
        monkeypatch.setenv(f"CLINICADMIN_{name}", value if isinstance(value, str) else json.dumps(value))
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="MESSAGE_LOG_SENDER is on, but a server in production mode"):
        create_app()
    monkeypatch.setenv("FLASK_DEBUG", "1")  # development: the logging sender is what it is for
    assert create_app().config["MESSAGE_LOG_SENDER"] is True
    monkeypatch.delenv("FLASK_DEBUG")
    monkeypatch.setenv("CLINICADMIN_MESSAGE_LOG_SENDER", "false")
    assert create_app().config["MESSAGE_LOG_SENDER"] is False


@pytest.mark.parametrize("role", ["practitioner", "front_desk", "stock_clerk"])
def test_only_managers_edit_message_templates(core, login, role):
    http = login(role)
    assert http.get("/admin/message-templates/").status_code == 403
    assert http.post(TEMPLATE_URL, data={"subject": "x", "body": "y"}).status_code == 403
    assert db.session.execute(db.select(MessageTemplate)).scalars().all() == []


def test_contact_consent_is_recorded_on_the_client_form_with_who_and_when(core, login):
    client = core.client(first="Fay", consents=[KEY])
    http = login("front_desk")
    form = {"first_name": "Fay", "last_name": "Client", "date_of_birth": "1985-05-05", "email": "", "phone": ""}
    refused = http.post(
        f"/admin/client_desk/edit/?id={client.id}", data={**form, "contact_consent": "y", "contact_channel": "email"}
    )
    assert "needs the client" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(client), client.id).contact_consent is False
    saved = http.post(
        f"/admin/client_desk/edit/?id={client.id}",
        data={**form, "email": "fay@example.com", "contact_consent": "y", "contact_channel": "email"},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    client = db.session.get(type(client), client.id)
    assert (client.contact_consent, client.contact_channel) == (True, "email")
    assert client.contact_consent_by == core.staff["front_desk"] and client.contact_consent_at is not None
    update = (
        db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "client.update", AuditEvent.client_id == client.id)
        )
        .scalars()
        .all()[-1]
    )
    assert "contact_consent" in str(update.detail["changes"])
    page = http.get(f"/admin/client_desk/details/?id={client.id}").get_data(as_text=True)
    assert "Yes, by E-mail" in page


def test_the_cli_sends_what_is_due(booked, smtp, cli, monkeypatch, core):
    monkeypatch.setenv("CLINICADMIN_MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("CLINICADMIN_MAIL_PORT", str(smtp.port))
    client = core.client(first="Gus", consents=[KEY])
    client.email, client.contact_consent, client.contact_channel = "gus@example.com", True, "email"
    db.session.commit()
    core.booked(client, KEY, when=now().replace(second=0, microsecond=0) + timedelta(hours=3), minutes=30)
    result = cli("messages", "send-due")
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    assert [m["To"] for m in smtp.inbox.messages] == ["gus@example.com"]
    assert "1 sent" not in cli("messages", "send-due").output


@pytest.mark.parametrize("message_plugins", [{"config": {"JOBS_QUEUE": "immediate"}}])
def test_the_client_messages_job_from_the_queue_delivers_each_due_reminder_once(app, core, smtp):
    """The background job "client-messages" (every minute) sends what is due: run twice from the queue, as two
    minutes' runs would, the reminder arrives once and the job's runs say so."""
    from clinicadmin.jobs import queue_of
    from clinicadmin.models import JobRun

    core.location.time_zone = ZONE
    db.session.commit()
    client = _consenting(core, "Bea")
    soon = now() + timedelta(hours=3)
    core.booked(client, KEY, when=soon.replace(second=0, microsecond=0), minutes=30)
    queue_of(app).enqueue("client-messages")
    queue_of(app).enqueue("client-messages")
    assert len(smtp.inbox.to("bea@example.com")) == 1
    runs = db.session.execute(db.select(JobRun).where(JobRun.job == "client-messages").order_by(JobRun.id))
    assert [(r.outcome, r.summary.split(",")[0]) for r in runs.scalars()] == [("ok", "1 sent"), ("ok", "0 sent")]
