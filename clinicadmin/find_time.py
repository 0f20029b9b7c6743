"""Find a time: for a client and a modality, the next openings where a practitioner certified for it, a room and
device of each kind it takes, and the client are all free, within the practitioner's working hours, away from their
time off, and far enough from the client's other sessions of the modality (the course's minimum interval).

Everything the search needs is read up front in a handful of queries (certifications, hours, time off, the time
already held, the client's other sessions); the candidates are then walked in Python, day by day, in
``STEP_MINUTES`` steps. The booking itself is checked again when it is made (someone may book the time meanwhile).
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from . import clock
from .booking import span_of
from .booking_window import DAYS_AHEAD
from .certified import scopes_needed
from .clinic_settings import effective_settings
from .extensions import db
from .models import BookingSlot, Certification, Location, Resource, Role, TimeOff, Treatment, User, WorkingHours
from .plugins import registry

STEP_MINUTES = 15
#: the hours a practitioner with no working hours on record is offered in (they are not held to hours when booked)
USUAL_HOURS = (time(9), time(17))
LEAD = timedelta(minutes=15)  # an opening starts at least this far from now


@dataclass(frozen=True)
class Opening:
    """A time that can be booked: its start (aware UTC), at ``location`` with ``practitioner`` and ``resources``."""

    starts: datetime
    ends: datetime
    practitioner: User
    location: Location
    resources: dict = field(default_factory=dict)  # kind: Resource


def _overlaps(intervals, start, end):
    return any(a < end and start < b for a, b in intervals)


def _minimum_days(modality, course, settings):
    if course is not None and course.min_interval_days is not None:
        return course.min_interval_days
    spec = registry().modalities[modality]
    return int(settings[spec.min_interval_setting]) if spec.min_interval_setting else 0


def openings(
    client,
    modality,
    *,
    locations,
    first_day=None,
    days=14,
    limit=10,
    course=None,
    duration_minutes=None,
    practitioner_ids=None,
):
    """The first ``limit`` :class:`Opening` s over ``days`` days from ``first_day`` (today at the first location),
    at ``locations``, in time order; one per practitioner per session length (the next starts after it ends)."""
    spec = registry().modalities[modality]
    locations = list(locations)
    by_id = {loc.id: loc for loc in locations}
    today = clock.local_today(locations[0])
    first_day = first_day or today
    # No further than the clinic's booking window: an opening there could not be booked.
    ahead = int(effective_settings()[DAYS_AHEAD])
    last_day = min(first_day + timedelta(days=days - 1), today + timedelta(days=ahead))
    days = (last_day - first_day).days + 1
    earliest = clock.now() + LEAD
    window_from, _ = clock.day_bounds(first_day - timedelta(days=1), locations[0])
    _, window_until = clock.day_bounds(last_day + timedelta(days=1), locations[0])

    # Who may perform it, on which days (certifications are few: read them all for the scopes it needs).
    needed = set(scopes_needed(modality))
    held = {}
    for user_id, scope, valid_from, valid_until in db.session.execute(
        db.select(
            Certification.user_id, Certification.scope, Certification.valid_from, Certification.valid_until
        ).where(Certification.scope.in_(needed))
    ):
        held.setdefault(user_id, []).append((scope, valid_from, valid_until))
    people = {
        u.id: u
        for u in db.session.execute(
            db.select(User)
            .join(User.roles)
            .where(Role.name == "practitioner", User.active.is_(True), User.id.in_(list(held)))
        )
        .scalars()
        .unique()
    }
    if practitioner_ids is not None:
        people = {i: u for i, u in people.items() if i in practitioner_ids}

    def certified(user_id, day):
        valid = {s for s, a, b in held.get(user_id, ()) if (a is None or a <= day) and (b is None or day <= b)}
        return needed <= valid

    hours = {}
    everywhere = set()
    for row in db.session.execute(db.select(WorkingHours).where(WorkingHours.user_id.in_(list(people)))).scalars():
        everywhere.add(row.user_id)
        if row.location_id in by_id:
            hours.setdefault((row.user_id, row.location_id, row.weekday), []).append((row.starts, row.ends))
    off = {}
    for row in db.session.execute(
        db.select(TimeOff).where(
            TimeOff.user_id.in_(list(people)), TimeOff.last_day >= first_day, TimeOff.first_day <= last_day
        )
    ).scalars():
        off.setdefault(row.user_id, []).append((row.first_day, row.last_day))

    resources = {}
    for resource in db.session.execute(
        db.select(Resource)
        .where(
            Resource.location_id.in_(list(by_id)), Resource.kind.in_(spec.resources or ("",)), Resource.active.is_(True)
        )
        .order_by(Resource.name, Resource.id)
    ).scalars():
        resources.setdefault((resource.location_id, resource.kind), []).append(resource)

    held_by = {"practitioner": {}, "resource": {}, "client": []}
    resource_ids = [r.id for rs in resources.values() for r in rs]
    for slot in db.session.execute(
        db.select(BookingSlot).where(
            BookingSlot.busy_from < window_until,
            BookingSlot.busy_until > window_from,
            db.or_(
                BookingSlot.practitioner_id.in_(list(people)),
                BookingSlot.client_id == client.id,
                BookingSlot.resource_id.in_(resource_ids or [-1]),
            ),
        )
    ).scalars():
        span = (slot.busy_from, slot.busy_until)
        if slot.client_id == client.id:
            held_by["client"].append(span)
        elif slot.practitioner_id is not None:
            held_by["practitioner"].setdefault(slot.practitioner_id, []).append(span)
        elif slot.resource_id is not None:
            held_by["resource"].setdefault(slot.resource_id, []).append(span)

    gap = _minimum_days(modality, course, effective_settings())
    others = []
    if gap:
        for when, location_id in db.session.execute(
            db.select(
                db.func.coalesce(Treatment.performed_at, Treatment.scheduled_at, type_=Treatment.scheduled_at.type),
                Treatment.location_id,
            ).where(
                Treatment.client_id == client.id,
                Treatment.modality == modality,
                Treatment.status.in_(("booked", "performed")),
                Treatment.archived_at.is_(None),
            )
        ):
            others.append(clock.local_date(when, location_id))

    found, next_free = [], {}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if gap and any(abs((day - other).days) < gap for other in others):
            continue
        day_openings = []
        for user_id, person in people.items():
            if not certified(user_id, day) or any(a <= day <= b for a, b in off.get(user_id, ())):
                continue
            for location in locations:
                stretches = hours.get((user_id, location.id, day.weekday()))
                if stretches is None:
                    if user_id in everywhere or person.location_id not in (None, location.id):
                        continue  # works elsewhere or another day; without hours, at their home location
                    stretches = [USUAL_HOURS]
                day_openings += _openings_in(
                    day, person, location, stretches, spec, duration_minutes, resources, held_by, earliest, next_free
                )
        found += sorted(day_openings, key=lambda o: (o.starts, str(o.practitioner), o.location.name))
        if len(found) >= limit:
            break
    return found[:limit]


def _openings_in(day, person, location, stretches, spec, duration_minutes, resources, held_by, earliest, next_free):
    """The openings with ``person`` at ``location`` on ``day`` within ``stretches`` of working hours."""
    step = timedelta(minutes=STEP_MINUTES)
    mine = held_by["practitioner"].get(person.id, [])
    result = []
    for starts_at, ends_at in stretches:
        try:
            opens = clock.from_local(datetime.combine(day, starts_at), location)
            closes = clock.from_local(datetime.combine(day, ends_at), location)
        except ValueError:  # a stretch starting in the hour the clocks skip
            continue
        candidate = opens + timedelta(minutes=spec.prep_minutes)
        while True:
            span = span_of(spec.key, candidate, duration_minutes)
            if span.busy_until > closes:
                break
            key = (person.id, location.id)
            if (
                span.starts >= earliest
                and span.starts >= next_free.get(key, span.starts)
                and not _overlaps(mine, span.busy_from, span.busy_until)
                and not _overlaps(held_by["client"], span.starts, span.ends)
            ):
                taken = _free_resources(spec, location, resources, held_by, span)
                if taken is not None:
                    result.append(Opening(span.starts, span.ends, person, location, taken))
                    next_free[key] = span.ends
                    candidate = span.ends + timedelta(minutes=spec.prep_minutes)
                    continue
            candidate += step
    return result


def _free_resources(spec, location, resources, held_by, span):
    """{kind: the first free resource of the kind at ``location``}, or None when a kind has none free."""
    taken = {}
    for kind in spec.resources:
        free = next(
            (
                r
                for r in resources.get((location.id, kind), ())
                if not _overlaps(held_by["resource"].get(r.id, ()), span.busy_from, span.busy_until)
            ),
            None,
        )
        if free is None:
            return None
        taken[kind] = free
    return taken
