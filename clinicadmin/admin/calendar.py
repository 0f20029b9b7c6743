"""The appointment book: a location's day (practitioners as columns), a practitioner's week, and the printed day
sheet. Readable and bookable without JavaScript: an empty slot links to the booking form filled in, a booking links
to its page; ``static/calendar.js`` adds moving a booking by dragging it (a reschedule, with the same checks)."""

from datetime import date, timedelta

from flask import abort, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user

from ..appointment_book import location_day, location_rooms, practitioner_week, slot_links
from ..audit import audit_read
from ..clock import local_today, zone_of
from ..extensions import db
from ..models import Location, User
from ..plugins import registry
from ..roles import DESK_ROLES as BOOKING_ROLES
from .base import SecuredView, user_has_role
from .index import consents_expiring

#: the days a calendar opens on: a fortnight from either end of the calendar, so that its neighbours and its start in
#: any zone are days too (year 9999 or 0001 typed in the address opens today, as an unreadable day does)
_READABLE = (date.min + timedelta(days=14), date.max - timedelta(days=14))


def _day(text, default):
    try:
        day = date.fromisoformat(text) if text else default
    except ValueError:
        return default
    return day if _READABLE[0] <= day <= _READABLE[1] else default


def _locations():
    return (
        db.session.execute(db.select(Location).where(Location.active.is_(True)).order_by(Location.name)).scalars().all()
    )


def _chosen_location(locations):
    """The location asked for, else the user's own, else the first; 404 when there is none or it is unknown."""
    wanted = request.args.get("location", type=int) or current_user.location_id
    for location in locations:
        if location.id == wanted:
            return location
    if request.args.get("location"):
        abort(404)
    if not locations:
        abort(404)
    return locations[0]


def _audit(grid, detail, extra_clients=()):
    clients = sorted({b.treatment.client_id for c in grid.columns for b in c.blocks} | set(extra_clients))
    if clients:
        audit_read("calendar.view", object_type="Client", detail={**detail, "clients": clients})


class CalendarView(SecuredView):
    """The front desk's home: today's day at their location."""

    allowed_roles = BOOKING_ROLES

    def _page(self, template, grid, **context):
        can_book = user_has_role(*BOOKING_ROLES)
        return self.render(
            template,
            grid=grid,
            modality_label=registry().modality_label,
            can_book=can_book,
            slot_links=slot_links(grid, url_for("treatment_desk.book")) if can_book else [],
            locations=context.pop("locations"),
            show_cancelled=bool(request.args.get("cancelled")),
            zone_name=zone_of(grid.location).key,
            **context,
        )

    @expose("/")
    def index(self):
        locations = _locations()
        location = _chosen_location(locations)
        today = local_today(location)
        day = _day(request.args.get("day"), today)
        by_room = request.args.get("by") == "room"
        grid = (location_rooms if by_room else location_day)(
            location, day, show_cancelled=bool(request.args.get("cancelled"))
        )
        # Today's page is the front desk's home: what needs their attention is on it too.
        consents = consents_expiring(today) if day == today else []
        _audit(
            grid,
            {
                "view": "rooms" if by_room else "day",
                "location": location.id,
                "day": day.isoformat(),
                **({"consents": sorted({c.client_id for c in consents})} if consents else {}),
            },
            extra_clients={c.client_id for c in consents},
        )
        return self._page(
            "admin/calendar_day.html",
            grid,
            locations=locations,
            day=day,
            today=today,
            by_room=by_room,
            consents=consents,
            previous=day - timedelta(days=1),
            following=day + timedelta(days=1),
        )

    @expose("/week")
    def week(self):
        practitioner = db.session.get(User, request.args.get("practitioner", type=int) or current_user.id)
        if practitioner is None or not practitioner.role_names & {"practitioner"}:
            return redirect(url_for(".index"))
        locations = _locations()
        location = _chosen_location(locations)
        day = _day(request.args.get("week"), local_today(location))
        monday = day - timedelta(days=day.weekday())
        grid = practitioner_week(practitioner, location, monday, show_cancelled=bool(request.args.get("cancelled")))
        _audit(grid, {"view": "week", "practitioner": practitioner.id, "week": monday.isoformat()})
        return self._page(
            "admin/calendar_week.html",
            grid,
            locations=locations,
            practitioner=practitioner,
            monday=monday,
            previous=monday - timedelta(days=7),
            following=monday + timedelta(days=7),
            today=local_today(location),
        )

    @expose("/sheet")
    def sheet(self):
        """The day sheet: each practitioner's bookings at the location, in order, to print."""
        locations = _locations()
        location = _chosen_location(locations)
        day = _day(request.args.get("day"), local_today(location))
        grid = location_day(location, day)
        _audit(grid, {"view": "sheet", "location": location.id, "day": day.isoformat()})
        return self._page("admin/day_sheet.html", grid, locations=locations, day=day)
