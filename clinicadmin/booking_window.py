"""The dates a treatment may be booked for: from ``core.booking_days_back`` days ago to ``core.booking_days_ahead``
days ahead (clinic settings with bounds), so a slip of the keyboard (year 9999, year 0001) is refused with a message
instead of being stored."""

from datetime import date, datetime, timedelta

from wtforms import ValidationError

from .clinic_settings import effective_settings
from .clock import local_date, local_today
from .clock import now as clock_now

DAYS_BACK = "core.booking_days_back"
DAYS_AHEAD = "core.booking_days_ahead"
RECORD_WITHIN = "core.record_within_days"
LATE_CANCEL_HOURS = "core.late_cancel_hours"
FUTURE_GRACE = timedelta(minutes=5)


def booking_window_problem(scheduled_at, today=None, location=None):
    """Why ``scheduled_at`` (an instant, a wall-clock time or a date at ``location``) cannot be booked (a message for
    the user), or None when it lies within the window."""
    today = today or local_today(location)
    settings = effective_settings()
    back, ahead = int(settings[DAYS_BACK]), int(settings[DAYS_AHEAD])
    if isinstance(scheduled_at, datetime):
        day = local_date(scheduled_at, location) if scheduled_at.tzinfo else scheduled_at.date()
    else:
        day = scheduled_at
    if (today - day).days > back or (day - today).days > ahead:
        first = today - timedelta(days=back)
        last = today + timedelta(days=min(ahead, (date.max - today).days))
        return (
            f"Bookings are taken from {first.isoformat()} to {last.isoformat()} (the clinic's booking window: "
            f"{back} days back, {ahead} days ahead); check the date."
        )
    return None


def within_booking_window(form, field):
    """A form validator for the date of a booking."""
    if field.data is not None:
        problem = booking_window_problem(field.data)
        if problem:
            raise ValidationError(problem)


def recording_window_problem(scheduled_at, performed_at, now=None):
    """Why a session booked for ``scheduled_at`` cannot be recorded as performed at ``performed_at``, or None.

    Screening judges a session as of the day it was performed, so that day is held to what can be true: not in the
    future, and not more than ``core.record_within_days`` days ago (a back-dated recording would otherwise screen
    against the history and certifications of another day)."""
    now = now or clock_now()
    within = int(effective_settings()[RECORD_WITHIN])
    if performed_at > now + FUTURE_GRACE:
        return "A treatment cannot be recorded as performed in the future."
    if performed_at < now - timedelta(days=within):
        return (
            f"Sessions are recorded within {within} day(s) of being performed (a clinic setting); this one says "
            f"{performed_at:%Y-%m-%d %H:%M}."
        )
    return None
