"""The dates a treatment may be booked for: from ``core.booking_days_back`` days ago to ``core.booking_days_ahead``
days ahead (clinic settings with bounds), so a slip of the keyboard (year 9999, year 0001) is refused with a message
instead of being stored."""
from datetime import date, timedelta

from wtforms import ValidationError

from .clinic_settings import effective_settings

DAYS_BACK = "core.booking_days_back"
DAYS_AHEAD = "core.booking_days_ahead"


def booking_window_problem(scheduled_at, today=None):
    """Why ``scheduled_at`` cannot be booked (a message for the user), or None when it lies within the window."""
    today = today or date.today()
    settings = effective_settings()
    back, ahead = int(settings[DAYS_BACK]), int(settings[DAYS_AHEAD])
    day = scheduled_at.date() if hasattr(scheduled_at, "date") else scheduled_at
    if (today - day).days > back or (day - today).days > ahead:
        first = today - timedelta(days=back)
        last = today + timedelta(days=min(ahead, (date.max - today).days))
        return (f"Bookings are taken from {first.isoformat()} to {last.isoformat()} (the clinic's booking window: "
                f"{back} days back, {ahead} days ahead); check the date.")
    return None


def within_booking_window(form, field):
    """A form validator for the date of a booking."""
    if field.data is not None:
        problem = booking_window_problem(field.data)
        if problem:
            raise ValidationError(problem)
