"""One booking's place in the book: how long it takes, which rooms and devices it takes, and that no practitioner,
resource or client is in two overlapping bookings.

The time a booking holds is written as :class:`~clinicadmin.models.BookingSlot` rows, one per holder. The check that
names a conflict runs on both databases; what makes it hold under concurrency differs: on SQLite the booking takes the
database's write lock before checking (:func:`hold_the_book`), on PostgreSQL exclusion constraints on the slots refuse
the second of two concurrent bookings, and :func:`take` turns that refusal into the same message.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from . import clock
from .extensions import db
from .models import BookingSlot, Client, Resource, Treatment, TreatmentResource, User
from .plugins import registry
from .write_lock import hold_write_lock

#: no booking holds anyone longer than this, so an overlap search looks back no further (an index range)
MAX_SPAN = timedelta(days=3)
MAX_MINUTES = 24 * 60
EXCLUSION_VIOLATION = "23P01"


class BookingConflict(Exception):
    """The booking cannot take its time; ``messages`` name each conflict, for the user. Nothing was written."""

    def __init__(self, *messages):
        self.messages = list(messages)
        super().__init__("; ".join(messages))


@dataclass(frozen=True)
class Span:
    """A booking's times, aware UTC: the session (``starts``..``ends``) and what its practitioner, rooms and devices
    give it, with preparation and clean-up (``busy_from``..``busy_until``)."""

    starts: datetime
    ends: datetime
    busy_from: datetime
    busy_until: datetime


def span_of(modality, scheduled_at, duration_minutes=None):
    """The :class:`Span` of a session of ``modality`` starting at ``scheduled_at`` (a naive value is UTC), lasting
    ``duration_minutes`` or the modality's default."""
    spec = registry().modalities[modality]
    duration = spec.duration_minutes if duration_minutes in (None, "") else duration_minutes
    if not isinstance(duration, int) or isinstance(duration, bool) or not 1 <= duration <= MAX_MINUTES:
        raise BookingConflict(f"A session lasts from 1 to {MAX_MINUTES} minutes, not {duration!r}.")
    starts = clock.aware(scheduled_at)
    ends = starts + timedelta(minutes=duration)
    return Span(
        starts, ends, starts - timedelta(minutes=spec.prep_minutes), ends + timedelta(minutes=spec.cleanup_minutes)
    )


def times_of(span):
    """The treatment columns that store ``span``."""
    return {"ends_at": span.ends, "busy_from": span.busy_from, "busy_until": span.busy_until}


def hold_the_book():
    """SQLite: take the database's write lock now, so that the check and the booking's rows are one step no other
    booking interleaves with. PostgreSQL needs no lock: its exclusion constraints decide."""
    hold_write_lock()


def _overlaps(span_from, span_until):
    return (
        BookingSlot.busy_from < span_until,
        BookingSlot.busy_until > span_from,
        BookingSlot.busy_from > span_from - MAX_SPAN,
    )


def resources_for(modality, location, chosen, span):
    """{kind: Resource} for each kind of resource ``modality`` takes: the one ``chosen`` of that kind (checked), or
    the first active one of the kind at ``location`` that is free for the span. Raises :class:`BookingConflict`."""
    kinds = registry().modalities[modality].resources
    picked, problems = {}, []
    label = registry().resource_kind_label
    for resource in chosen:
        if resource.location_id != location.id:
            problems.append(f"{resource} is at {resource.location}, not at {location}.")
        elif not resource.active:
            problems.append(f"{resource} is no longer in use.")
        elif resource.kind not in kinds:
            problems.append(
                f"{resource} is a {label(resource.kind).lower()}, which "
                f"{registry().modality_label(modality)} does not take."
            )
        elif resource.kind in picked:
            problems.append(f"Choose one {label(resource.kind).lower()}, not {picked[resource.kind]} and {resource}.")
        else:
            picked[resource.kind] = resource
    if problems:
        raise BookingConflict(*problems)
    for kind in kinds:
        if kind in picked:
            continue
        taken = db.select(BookingSlot.resource_id).where(
            BookingSlot.resource_id.is_not(None), *_overlaps(span.busy_from, span.busy_until)
        )
        free = db.session.execute(
            db.select(Resource)
            .where(
                Resource.location_id == location.id,
                Resource.kind == kind,
                Resource.active.is_(True),
                Resource.id.not_in(taken),
            )
            .order_by(Resource.name, Resource.id)
            .limit(1)
        ).scalar_one_or_none()
        if free is None:
            any_of_kind = db.session.execute(
                db.select(Resource.id)
                .where(Resource.location_id == location.id, Resource.kind == kind, Resource.active.is_(True))
                .limit(1)
            ).first()
            problems.append(
                f"No {label(kind).lower()} is free at {location} {_times(span.busy_from, span.busy_until, location)}."
                if any_of_kind
                else f"{location} has no {label(kind).lower()} on file; "
                "a manager adds it under Clinic > Rooms and devices."
            )
        else:
            picked[kind] = free
    if problems:
        raise BookingConflict(*problems)
    return picked


def conflicts(*, practitioner, client, resources, span, location, limit=5):
    """Sentences naming each booking that holds ``practitioner``, one of ``resources`` or ``client`` during ``span``
    (the client for the session itself, the others with preparation and clean-up); [] when the time is free."""
    resource_ids = [r.id for r in resources]
    holds = db.or_(
        db.and_(BookingSlot.practitioner_id == practitioner.id, *_overlaps(span.busy_from, span.busy_until)),
        db.and_(BookingSlot.client_id == client.id, *_overlaps(span.starts, span.ends)),
        *(
            [db.and_(BookingSlot.resource_id.in_(resource_ids), *_overlaps(span.busy_from, span.busy_until))]
            if resource_ids
            else []
        ),
    )
    rows = db.session.execute(
        db.select(BookingSlot, Treatment)
        .join(Treatment, Treatment.id == BookingSlot.treatment_id)
        .where(holds)
        .order_by(BookingSlot.busy_from)
        .limit(limit)
    ).all()
    return [_describe(slot, other, client) for slot, other in rows]


def _describe(slot, other, client):
    where = other.location
    starts = clock.aware(other.scheduled_at)
    session = _times(starts, other.ends_at or starts, where)
    if slot.client_id is not None:
        return f"This client already has a booking {session} at {where} with {other.practitioner}."
    whom = "this client" if other.client_id == client.id else _initials(other.client)
    padded = ""
    if (slot.busy_from, slot.busy_until) != (starts, other.ends_at):
        padded = f" (with preparation and clean-up, {_times(slot.busy_from, slot.busy_until, where)})"
    if slot.practitioner_id is not None:
        return f"{other.practitioner} is booked {session}{padded} for {whom} at {where}."
    resource = db.session.get(Resource, slot.resource_id)
    return f"{resource} is booked {session}{padded} for {whom} at {where}."


def _initials(client):
    if client is None:
        return "another client"
    return "".join(f"{part[0]}." for part in (client.first_name, client.last_name) if part) or "another client"


def _times(start, end, location):
    day = clock.local(start, location)
    return f"{clock.shown(start, location, '%H:%M')}–{clock.shown(end, location, '%H:%M')} on {day:%Y-%m-%d}"


def take(treatment, *, span, resources):
    """Write ``treatment``'s resources and its slots (one per holder) in the caller's transaction; the treatment
    carries ``span``'s times already (:func:`times_of`).

    On PostgreSQL a concurrent booking of the same holder and time makes the exclusion constraint refuse the slots;
    the transaction is rolled back and :class:`BookingConflict` names the booking that won."""
    slots = [
        BookingSlot(
            treatment_id=treatment.id,
            practitioner_id=treatment.practitioner_id,
            busy_from=span.busy_from,
            busy_until=span.busy_until,
        ),
        BookingSlot(
            treatment_id=treatment.id, client_id=treatment.client_id, busy_from=span.starts, busy_until=span.ends
        ),
    ]
    for kind, resource in sorted(resources.items()):
        # Added to the session, not to ``treatment.resources``: appending would load the (empty) collection first.
        slots.append(TreatmentResource(treatment_id=treatment.id, resource_id=resource.id, kind=kind))
        slots.append(
            BookingSlot(
                treatment_id=treatment.id, resource_id=resource.id, busy_from=span.busy_from, busy_until=span.busy_until
            )
        )
    # Read before the flush: after a refused flush the session must be rolled back before it reads anything.
    ids = (treatment.practitioner_id, treatment.client_id, treatment.location_id, [r.id for r in resources.values()])
    db.session.add_all(slots)
    try:
        db.session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != EXCLUSION_VIOLATION:
            raise
        db.session.rollback()
        raise BookingConflict(*_named_after_the_fact(*ids, span)) from None


def _named_after_the_fact(practitioner_id, client_id, location_id, resource_ids, span):
    """The conflict the database found, read again after the rollback (the booking that won is committed by then)."""
    from .models import Location

    found = conflicts(
        practitioner=db.session.get(User, practitioner_id),
        client=db.session.get(Client, client_id),
        resources=[db.session.get(Resource, i) for i in resource_ids],
        span=span,
        location=db.session.get(Location, location_id),
    )
    db.session.rollback()
    return found or ["Another booking took this time a moment ago; choose another time."]


def clients_overlap(keep, duplicate):
    """Sentences naming the bookings of ``duplicate`` that overlap one of ``keep``'s ([] if none): merging the two
    records would put one client in two places at once."""
    mine, theirs = db.aliased(BookingSlot), db.aliased(BookingSlot)
    rows = db.session.execute(
        db.select(mine.treatment_id, theirs.treatment_id)
        .join(
            theirs,
            db.and_(
                theirs.client_id == keep.id, theirs.busy_from < mine.busy_until, theirs.busy_until > mine.busy_from
            ),
        )
        .where(mine.client_id == duplicate.id)
        .limit(3)
    ).all()
    found = []
    for duplicate_id, kept_id in rows:
        one, other = db.session.get(Treatment, duplicate_id), db.session.get(Treatment, kept_id)
        theirs_then = _times(clock.aware(one.scheduled_at), one.ends_at, one.location)
        mine_then = _times(clock.aware(other.scheduled_at), other.ends_at, other.location)
        found.append(
            f"{duplicate} is booked {theirs_then} at {one.location}, and {keep} {mine_then} at {other.location}."
        )
    return found


def release(treatment):
    """Free the time ``treatment`` held (it was cancelled or archived), in the caller's transaction."""
    db.session.execute(db.delete(BookingSlot).where(BookingSlot.treatment_id == treatment.id))
