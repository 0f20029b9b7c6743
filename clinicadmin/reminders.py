"""Reminders before bookings and aftercare after recorded sessions, sent once each to clients who agreed to be
contacted, on the channel they chose; every message is a row of the client's message log, and audited.

Once, under any number of workers and whatever the channel: a message is claimed by inserting its row (unique on kind,
treatment and the booking's start or the session's time, not the channel, so a client who changes channel after a
message went out is not sent it again; a retry goes on the channel the client has chosen by then) in a transaction of
its own, committed before anything is sent; a worker whose insert fails leaves it to the one that won. Every later
change is a conditional UPDATE on the status and the attempt number it expects, checked by its row count. A failed
message is claimed again after ``MESSAGE_RETRY_MINUTES`` (up to ``MESSAGE_MAX_ATTEMPTS`` attempts); one left ``sending``
by a worker that died between its claim and its outcome is claimed again after ``MESSAGE_SENDING_TIMEOUT_MINUTES``: such
a message may have gone out before the worker died, so that rare case can repeat it, while no other case can.

``at`` is the clock of a run (now, unless a test or a catch-up run gives one): what is due, and every claim's time.
"""

import logging
import smtplib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_mailman import EmailMessage
from sqlalchemy import exists, insert, or_, update
from sqlalchemy.exc import IntegrityError

from .audit import audit
from .clinic_settings import effective_settings
from .clock import local, now
from .default_plugins.messages import REMINDER_LEAD_HOURS
from .extensions import db, mail
from .letterhead import clinic_identity
from .message_templates import TemplateProblem, render_message
from .models import Client, ClientMessage, Treatment
from .plugin_api import MessageRefused
from .plugins import each_implementation, registry

log = logging.getLogger(__name__)

REMINDER = "booking_reminder"
AFTERCARE = "aftercare"


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended: a status (sent, failed, bounced, withdrawn) and why, when not sent."""

    status: str
    error: str | None = None


def send_due_messages(at: datetime | None = None) -> Counter:
    """Retry what is due again, then send the reminders and aftercare now due; how many ended how (a Counter of
    ``sent``, ``failed``, ``bounced``, ``withdrawn`` and ``taken``: claimed by another worker first)."""
    at = at or now()
    summary = retry_messages(at)
    summary.update(send_due_reminders(at))
    summary.update(send_aftercare_messages(at))
    return summary


def send_due_job() -> str:
    """The background job "client-messages": :func:`send_due_messages` now, summed up in a line for the admin's
    Background jobs (a message that failed is retried on its own schedule; the job itself succeeded)."""
    summary = send_due_messages()
    return ", ".join(f"{summary[k]} {k}" for k in ("sent", "failed", "bounced", "withdrawn", "taken"))


def send_due_reminders(at: datetime | None = None) -> Counter:
    """Send the reminder of every booking whose reminder time (its start less ``core.reminder_lead_hours``) has come
    and that has not started: still booked, not archived, its client not archived and agreeing to be contacted.
    Returns how many ended how (``taken``: another worker claimed it first)."""
    at = at or now()
    lead = timedelta(hours=int(effective_settings()[REMINDER_LEAD_HOURS]))
    due = db.session.execute(
        db.select(Treatment.id, Treatment.client_id, Treatment.scheduled_at, Client.contact_channel)
        .join(Client, Client.id == Treatment.client_id)
        .where(
            Treatment.status == "booked",
            Treatment.archived_at.is_(None),
            Treatment.scheduled_at > at,
            Treatment.scheduled_at <= at + lead,
            *_reachable(),
            ~_logged(REMINDER, Treatment.scheduled_at),
        )
        .order_by(Treatment.scheduled_at, Treatment.id)
    ).all()
    db.session.commit()
    summary: Counter = Counter()
    for row in due:
        summary[_claim_and_send(REMINDER, row.id, row.client_id, row.contact_channel, row.scheduled_at, at)] += 1
    return summary


def send_aftercare_messages(at: datetime | None = None) -> Counter:
    """Send the aftercare of every session recorded in the last ``MESSAGE_AFTERCARE_WITHIN_HOURS`` (not archived)
    whose modality's plugin gives aftercare, to clients agreeing to be contacted, once each."""
    at = at or now()
    since = at - timedelta(hours=int(current_app.config["MESSAGE_AFTERCARE_WITHIN_HOURS"]))
    recorded = db.session.execute(
        db.select(Treatment.id, Treatment.client_id, Treatment.performed_at, Client.contact_channel)
        .join(Client, Client.id == Treatment.client_id)
        .where(
            Treatment.status == "performed",
            Treatment.archived_at.is_(None),
            Treatment.recorded_at >= since,
            Treatment.recorded_at <= at,
            *_reachable(),
            ~_logged(AFTERCARE, Treatment.performed_at),
        )
        .order_by(Treatment.recorded_at, Treatment.id)
    ).all()
    summary: Counter = Counter()
    for row in recorded:
        try:
            if not _aftercare_lines(db.session.get(Treatment, row.id)):
                continue  # the modality gives no aftercare: there is nothing to send
        except TemplateProblem:
            pass  # a plugin failed: claimed, so that the failure is on the client's record and retried
        db.session.commit()
        summary[_claim_and_send(AFTERCARE, row.id, row.client_id, row.contact_channel, row.performed_at, at)] += 1
    db.session.commit()
    return summary


def retry_messages(at: datetime | None = None) -> Counter:
    """Claim again each failed message whose retry time has come (fewer than ``MESSAGE_MAX_ATTEMPTS`` attempts) and
    each left ``sending`` past the timeout, and send it; a timed-out one with no attempts left is marked failed."""
    at = at or now()
    config = current_app.config
    limit = int(config["MESSAGE_MAX_ATTEMPTS"])
    retry_before = at - timedelta(minutes=int(config["MESSAGE_RETRY_MINUTES"]))
    stuck_before = at - timedelta(minutes=int(config["MESSAGE_SENDING_TIMEOUT_MINUTES"]))
    rows = db.session.execute(
        db.select(ClientMessage.id, ClientMessage.status, ClientMessage.attempts)
        .where(
            or_(
                (ClientMessage.status == "failed")
                & (ClientMessage.attempts < limit)
                & (ClientMessage.claimed_at <= retry_before),
                (ClientMessage.status == "sending") & (ClientMessage.claimed_at <= stuck_before),
            )
        )
        .order_by(ClientMessage.id)
    ).all()
    db.session.commit()
    summary: Counter = Counter()
    for row in rows:
        if row.status == "sending" and row.attempts >= limit:
            outcome = Outcome("failed", "the worker sending it stopped before it finished, and no attempts are left")
            summary[outcome.status if _finish(row.id, row.attempts, outcome, at) else "taken"] += 1
            continue
        result: Any = db.session.execute(  # a CursorResult, which has the row count
            update(ClientMessage)
            .where(
                ClientMessage.id == row.id,
                ClientMessage.status == row.status,
                ClientMessage.attempts == row.attempts,
            )
            .values(status="sending", attempts=row.attempts + 1, claimed_at=at, error=None)
        )
        db.session.commit()
        summary[_send(row.id, row.attempts + 1, at) if result.rowcount == 1 else "taken"] += 1
    return summary


def _reachable():
    """The conditions of a client who may be sent messages."""
    return (Client.archived_at.is_(None), Client.contact_consent.is_(True), Client.contact_channel.is_not(None))


def _logged(kind, about_at):
    """Whether the message of ``kind`` about the treatment at ``about_at`` has a row, on whatever channel."""
    return exists().where(
        ClientMessage.kind == kind,
        ClientMessage.treatment_id == Treatment.id,
        ClientMessage.about_at == about_at,
    )


def _claim_and_send(kind, treatment_id, client_id, channel, about_at, at):
    """Insert the message's row (the claim) in a transaction of its own and send it if this worker's insert won."""
    try:
        message_id = db.session.execute(
            insert(ClientMessage)
            .values(
                client_id=client_id,
                treatment_id=treatment_id,
                kind=kind,
                channel=channel,
                about_at=about_at,
                status="sending",
                attempts=1,
                created_at=at,
                claimed_at=at,
            )
            .returning(ClientMessage.id)
        ).scalar_one()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return "taken"
    return _send(message_id, 1, at)


def _send(message_id, attempt, at):
    """Send the claimed attempt ``attempt`` of a message and record how it ended; returns that status."""
    message = db.session.get(ClientMessage, message_id)
    treatment, client = message.treatment, message.client
    reason = _not_wanted(message, treatment, client, at)
    if reason:
        db.session.commit()
        _finish(message_id, attempt, Outcome("withdrawn", reason), at)
        return "withdrawn"
    kind, channel_key = message.kind, client.contact_channel  # a retry follows the client's latest choice
    channel = registry().message_channels.get(channel_key)
    recipient = (getattr(client, channel.address) or "").strip() if channel else ""
    try:
        lines = _aftercare_lines(treatment) if kind == AFTERCARE else []
        subject, text = render_message(kind, channel_key, _values(treatment, client, message.about_at, lines))
    except TemplateProblem as exc:
        subject, text, problem = "", "", f"the template cannot be used: {exc}"
    else:
        problem = None
    db.session.commit()  # no transaction is held open while a server or gateway answers
    if problem:
        outcome = Outcome("failed", problem)
    elif channel is None:
        outcome = Outcome("failed", f"no loaded plugin registers the channel {channel_key!r}")
    elif not recipient:
        outcome = Outcome("failed", f"the client has no {channel.address} on record for {channel.label}")
    elif channel_key == "email":
        outcome = _send_email(recipient, subject, text)
    else:
        outcome = _send_by_plugin(channel_key, recipient, subject, text, message_id)
    _finish(
        message_id, attempt, outcome, at, channel=channel_key, recipient=recipient or None, subject=subject, body=text
    )
    return outcome.status


def _not_wanted(message, treatment, client, at):
    """Why the message should no longer go out (the booking was cancelled or moved, consent withdrawn), or None."""
    if client.archived_at is not None:
        return "the client's record was archived"
    if not client.contact_consent:
        return "the client no longer agrees to be contacted"
    if not client.contact_channel:
        return "the client chose no channel"
    if treatment.archived_at is not None:
        return "the treatment was archived"
    if message.kind == REMINDER:
        if treatment.status != "booked":
            return f"the booking is {treatment.state_label}"
        if treatment.scheduled_at != message.about_at:
            return "the booking was moved (its reminder is sent for the new time)"
        if treatment.scheduled_at <= at:
            return "the booking has begun"
    elif treatment.status != "performed":
        return f"the session is {treatment.state_label}"
    return None


def _send_email(recipient, subject, text):
    try:
        EmailMessage(subject=subject, body=text, to=[recipient], connection=mail.get_connection()).send()
    except smtplib.SMTPRecipientsRefused as exc:
        refused = "; ".join(f"{code} {reply.decode(errors='replace')}" for code, reply in exc.recipients.values())
        return Outcome("bounced", f"the mail server refused the address: {refused}"[:500])
    except Exception as exc:  # a server down, a timeout, a refused login: tried again later
        return Outcome("failed", f"{type(exc).__name__}: {exc}"[:500])
    return Outcome("sent")


def _send_by_plugin(channel, recipient, subject, text, message_id):
    """Offer the message to each ``send_message`` implementation until one sends it; fail closed when none does."""
    for name, answer, error in each_implementation(
        registry().pm,
        "send_message",
        channel=channel,
        recipient=recipient,
        subject=subject,
        text=text,
        message_id=message_id,
    ):
        if isinstance(error, MessageRefused):
            return Outcome("bounced", f"{name}: {error}"[:500])
        if error is not None:
            log.error("send_message of plugin %s failed", name, exc_info=error)
            return Outcome("failed", f"{name}: {type(error).__name__}: {error}"[:500])
        if answer is True:
            return Outcome("sent")
    return Outcome("failed", f"no loaded plugin sends {channel!r} messages (send_message)")


def _finish(message_id, attempt, outcome, at, **values):
    """Record how attempt ``attempt`` ended, with its audit row, if the message is still in that attempt."""
    changed = db.session.execute(
        update(ClientMessage)
        .where(ClientMessage.id == message_id, ClientMessage.status == "sending", ClientMessage.attempts == attempt)
        .values(
            status=outcome.status,
            error=outcome.error,
            sent_at=at if outcome.status == "sent" else None,
            **values,
        )
    ).rowcount
    if changed != 1:
        db.session.rollback()
        log.warning(
            "message %s: attempt %s was taken over; its outcome (%s) is not recorded",
            message_id,
            attempt,
            outcome.status,
        )
        return False
    message = db.session.get(ClientMessage, message_id)
    audit(
        f"message.{outcome.status}",
        obj=message,
        client_id=message.client_id,
        detail={
            "kind": message.kind,
            "channel": message.channel,
            "treatment": message.treatment_id,
            "attempt": attempt,
            "error": outcome.error,
        },
    )
    db.session.commit()
    return True


def _aftercare_lines(treatment):
    from .admin.treatments import aftercare_for

    lines, failed = aftercare_for(treatment)
    if failed:
        raise TemplateProblem(f"the aftercare of plugin {failed} could not be read")
    return lines


def _values(treatment, client, about_at, aftercare_lines):
    """The placeholders' text for a message about ``treatment`` at ``about_at``, in the location's time zone."""
    location = treatment.location
    when = local(about_at, location)
    identity = clinic_identity()
    return {
        "client_first_name": client.first_name,
        "client_name": client.full_name,
        "clinic_name": identity.name,
        "clinic_phone": identity.phone,
        "clinic_address": identity.address,
        "treatment": registry().modality_label(treatment.modality),
        "practitioner": str(treatment.practitioner),
        "location": location.name,
        "location_address": location.address or "",
        "date": f"{when:%A} {when.day} {when:%B %Y}",
        "time": when.strftime("%H:%M"),
        "time_zone": when.tzinfo.key if hasattr(when.tzinfo, "key") else str(when.tzinfo),
        "aftercare": "\n\n".join(aftercare_lines),
    }
