"""Whether a booking falls within its practitioner's working hours at its location and outside their time off.

Hours are wall-clock times in the location's zone, per weekday; a practitioner with no hours on record at any location
is not held to hours (a clinic that has not set them up keeps booking), while time off always counts.
"""

from datetime import timedelta

from . import clock
from .extensions import db
from .models import TimeOff, WorkingHours

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def outside_hours(practitioner, location, busy_from, busy_until):
    """None when the span from ``busy_from`` to ``busy_until`` (aware instants) is within ``practitioner``'s hours at
    ``location`` and not on their time off; otherwise a sentence naming the hours (or the time off)."""
    start, end = clock.local(busy_from, location), clock.local(busy_until, location)
    day = start.date()
    off = db.session.execute(
        db.select(TimeOff)
        .where(
            TimeOff.user_id == practitioner.id,
            TimeOff.first_day <= (end - timedelta(microseconds=1)).date(),
            TimeOff.last_day >= day,
        )
        .order_by(TimeOff.first_day)
        .limit(1)
    ).scalar_one_or_none()
    if off is not None:
        why = f" ({off.reason})" if off.reason else ""
        return (
            f"{practitioner} is off from {off.first_day.isoformat()} to {off.last_day.isoformat()}{why}, "
            f"so {start:%H:%M}–{end:%H:%M} on {day.isoformat()} is outside their working hours."
        )
    # One read of the practitioner's week everywhere (a few dozen rows at most): none at all means not held to hours.
    rows = (
        db.session.execute(
            db.select(WorkingHours).where(WorkingHours.user_id == practitioner.id).order_by(WorkingHours.starts)
        )
        .scalars()
        .all()
    )
    if not rows:
        return None
    stretches = [s for s in rows if s.location_id == location.id and s.weekday == day.weekday()]
    if end.date() == day and any(s.starts <= start.time() and end.time() <= s.ends for s in stretches):
        return None
    hours = ", ".join(f"{s.starts:%H:%M}–{s.ends:%H:%M}" for s in stretches) or "none"
    return (
        f"{practitioner}'s working hours at {location} on {WEEKDAYS[day.weekday()]}s are {hours}; "
        f"{start:%H:%M}–{end:%H:%M} on {day.isoformat()} is outside them."
    )
