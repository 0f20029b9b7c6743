"""The appointment book as a page reads it: a location's day in columns, one per practitioner, with each booking
placed by its local start and sized by its length; and one practitioner's week, a column per day.

Times are the location's wall clock. The grid is made of ``SLOT_MINUTES`` rows from the first hour shown to the last
(the clinic's usual hours, widened to every booking of the day), so a page can draw it with CSS alone. A booking that
runs past midnight is drawn on each day it takes (from the top of the next day's grid).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from markupsafe import Markup
from sqlalchemy.orm import defer, joinedload

from .booking import MAX_MINUTES
from .clock import day_bounds, local
from .extensions import db
from .models import Client, Location, Resource, Role, Treatment, TreatmentResource, User
from .plugins import registry

SLOT_MINUTES = 15  # a grid row
BOOKABLE_MINUTES = 30  # an empty slot's link covers this much (a drag may land on either quarter of it)
USUAL_HOURS = (8, 20)
FALLBACK_MINUTES = 60


def length_of(treatment):
    """How long a booking lasts: its own end when it has one, else its modality's usual length."""
    ends_at = getattr(treatment, "ends_at", None)
    if ends_at is not None:
        return max(ends_at - treatment.scheduled_at, timedelta(minutes=SLOT_MINUTES))
    modality = registry().modalities.get(treatment.modality)
    return timedelta(minutes=getattr(modality, "duration_minutes", None) or FALLBACK_MINUTES)


def wall_span(treatment, location):
    """When ``treatment`` starts and ends on ``location``'s wall clock. The end is its start plus its length in real
    time, then read on the wall: on the day the clocks change, a wall time plus an hour is not an hour later."""
    starts = treatment.scheduled_at
    return local(starts, location), local(starts + length_of(treatment), location)


def tone_of(treatment):
    """The colour a booking is drawn in: its state once it is over, else its screening status."""
    if treatment.status == "cancelled":
        return "no-show" if treatment.cancellation == "no_show" else "cancelled"
    if treatment.status == "performed":
        return "performed"
    return {"blocked": "blocked", "warnings": "warnings", "clear": "clear"}.get(
        treatment.screening_status, "unscreened"
    )


@dataclass(frozen=True)
class Block:
    treatment: Treatment
    start: datetime  # wall clock at the location
    end: datetime
    row: int  # the grid row it starts on (1 is the first slot shown)
    rows: int  # how many slots it covers
    tone: str


@dataclass
class Column:
    title: str
    day: date
    practitioner_id: int | None
    location_id: int | None
    resource_id: int | None = None
    blocks: list = field(default_factory=list)


@dataclass
class Grid:
    """Columns over the same rows of ``SLOT_MINUTES``; ``slots`` is [(row, wall-clock time)] of each bookable slot
    (every ``BOOKABLE_MINUTES``) from the first hour shown, ``hours`` the same for each full hour."""

    location: Location
    first: time
    slots: list
    columns: list
    rows: int

    @property
    def hours(self):
        return [(row, t) for row, t in self.slots if t.minute == 0]

    @property
    def slot_rows(self):
        return BOOKABLE_MINUTES // SLOT_MINUTES


def _treatments(*conditions):
    return (
        db.session.execute(
            db.select(Treatment)
            .options(
                joinedload(Treatment.client),
                joinedload(Treatment.practitioner),
                joinedload(Treatment.location),
                defer(Treatment.details),
                defer(Treatment.consumed),
            )
            .join(Client, Client.id == Treatment.client_id)
            .where(Treatment.archived_at.is_(None), Client.archived_at.is_(None), *conditions)
            .order_by(Treatment.scheduled_at, Treatment.id)
        )
        .scalars()
        .all()
    )


def _minute_of(moment, day):
    """Minutes from the start of ``day`` to the wall-clock time ``moment`` (negative the day before, 1440 and more
    the day after), clipped to the day."""
    return min(max((moment.date() - day).days * 1440 + moment.hour * 60 + moment.minute, 0), 1440)


def _hours(spans):
    """The first and last hour to show: the usual hours, widened to every (start, end) in ``spans`` (minutes of
    their day)."""
    first, last = USUAL_HOURS
    for start, end in spans:
        first = min(first, start // 60)
        last = max(last, -(-end // 60))
    return first, last


def _grid(location, columns, placed):
    """Lay ``placed`` [(column index, treatment, local start, local end)] on rows of ``SLOT_MINUTES`` of the column's
    day (a booking from the day before starts at the top, one into the day after runs to the bottom)."""
    minutes = [
        (_minute_of(start, columns[index].day), _minute_of(end, columns[index].day)) for index, _, start, end in placed
    ]
    first, last = _hours(minutes)
    total = (last - first) * 60 // SLOT_MINUTES
    step = BOOKABLE_MINUTES // SLOT_MINUTES
    slots = [(i + 1, time(first + (i * SLOT_MINUTES) // 60, (i * SLOT_MINUTES) % 60)) for i in range(0, total, step)]
    for (index, treatment, start, end), (top, bottom) in zip(placed, minutes, strict=True):
        offset = top - first * 60
        row = offset // SLOT_MINUTES + 1
        rows = max(1, -(-(bottom - first * 60 - offset) // SLOT_MINUTES))
        columns[index].blocks.append(Block(treatment, start, end, row, min(rows, total - row + 1), tone_of(treatment)))
    return Grid(location, time(first), slots, columns, total)


def _taking(start, end):
    """Conditions for the bookings that take some of the time from ``start`` to ``end``: those starting in it, and
    those started before that run into it (no session is longer than ``MAX_MINUTES``: one range of the index)."""
    return [
        Treatment.scheduled_at >= start - timedelta(minutes=MAX_MINUTES),
        Treatment.scheduled_at < end,
        db.or_(Treatment.scheduled_at >= start, Treatment.ends_at > start),
    ]


def practitioners_at(location):
    """Active practitioners whose home is ``location``, by name."""
    return (
        db.session.execute(
            db.select(User)
            .join(User.roles)
            .where(Role.name == "practitioner", User.active.is_(True), User.location_id == location.id)
            .order_by(User.full_name, User.id)
        )
        .scalars()
        .unique()
        .all()
    )


def location_day(location, day, show_cancelled=False):
    """The day at ``location``: a column per practitioner who works there or has a booking there that day."""
    conditions = [Treatment.location_id == location.id, *_taking(*day_bounds(day, location))]
    if not show_cancelled:
        conditions.append(Treatment.status != "cancelled")
    treatments = _treatments(*conditions)
    people = {p.id: p for p in practitioners_at(location)}
    for treatment in treatments:
        people.setdefault(treatment.practitioner_id, treatment.practitioner)
    order = sorted(people.values(), key=lambda p: (str(p).lower(), p.id))
    index = {p.id: i for i, p in enumerate(order)}
    columns = [Column(str(p), day, p.id, location.id) for p in order]
    placed = []
    for treatment in treatments:
        begins, ends = wall_span(treatment, location)
        placed.append((index[treatment.practitioner_id], treatment, begins, ends))
    return _grid(location, columns, placed)


def location_rooms(location, day, show_cancelled=False):
    """The day at ``location`` by room and device: a column per active one (a booking that takes a room and a device
    is in both), and one for bookings that take none."""
    conditions = [Treatment.location_id == location.id, *_taking(*day_bounds(day, location))]
    if not show_cancelled:
        conditions.append(Treatment.status != "cancelled")
    treatments = _treatments(*conditions)
    held = {}
    if treatments:
        for treatment_id, resource_id in db.session.execute(
            db.select(TreatmentResource.treatment_id, TreatmentResource.resource_id).where(
                TreatmentResource.treatment_id.in_([t.id for t in treatments])
            )
        ):
            held.setdefault(treatment_id, []).append(resource_id)
    rooms = (
        db.session.execute(
            db.select(Resource)
            .where(Resource.location_id == location.id, Resource.active.is_(True))
            .order_by(Resource.kind, Resource.name, Resource.id)
        )
        .scalars()
        .all()
    )
    label = registry().resource_kind_label
    columns = [Column(f"{r.name} ({label(r.kind).lower()})", day, None, location.id, resource_id=r.id) for r in rooms]
    index = {r.id: i for i, r in enumerate(rooms)}
    if any(not held.get(t.id) or not any(r in index for r in held[t.id]) for t in treatments):
        columns.append(Column("No room or device", day, None, location.id))
    placed = []
    for treatment in treatments:
        begins, ends = wall_span(treatment, location)
        where = [index[r] for r in held.get(treatment.id, ()) if r in index] or [len(columns) - 1]
        placed += [(i, treatment, begins, ends) for i in where]
    return _grid(location, columns, placed)


def practitioner_week(practitioner, location, monday, show_cancelled=False):
    """The week from ``monday`` of ``practitioner``'s bookings at every location, read in ``location``'s zone."""
    start, _ = day_bounds(monday, location)
    _, end = day_bounds(monday + timedelta(days=6), location)
    conditions = [Treatment.practitioner_id == practitioner.id, *_taking(start, end)]
    if not show_cancelled:
        conditions.append(Treatment.status != "cancelled")
    columns = [
        Column(f"{day:%a} {day.isoformat()}", day, practitioner.id, location.id)
        for day in (monday + timedelta(days=i) for i in range(7))
    ]
    placed = []
    for treatment in _treatments(*conditions):
        begins, ends = wall_span(treatment, location)
        last = (ends - timedelta(microseconds=1)).date() if ends > begins else begins.date()
        for day in range(max((begins.date() - monday).days, 0), min((last - monday).days, 6) + 1):
            placed.append((day, treatment, begins, ends))
    return _grid(location, columns, placed)


def slot_links(grid, book_url):
    """Each column's empty-slot links as one piece of HTML: a link per ``BOOKABLE_MINUTES`` to ``book_url`` filled
    in with the practitioner, location and time. Built here rather than in the template because a busy day has
    hundreds of them and every value is a number, a date or a time (nothing to escape)."""
    span = BOOKABLE_MINUTES // SLOT_MINUTES
    pieces = []
    for column in grid.columns:
        day = column.day.isoformat()
        who = (
            f"practitioner={column.practitioner_id}"
            if column.practitioner_id is not None
            else f"resource={column.resource_id}"
            if column.resource_id is not None
            else ""
        )
        base = f"{book_url}?{who}&amp;location={column.location_id}&amp;at={day}T"
        pieces.append(
            Markup(
                "".join(
                    f'<a class="cal-slot cal-r-{row} cal-s-{span}" href="{base}{t:%H:%M}" data-at="{day}T{t:%H:%M}">'
                    f"{t:%H:%M}</a>"
                    for row, t in grid.slots
                )
            )
        )
    return pieces
