"""Time as the clinic keeps it: every instant is stored in UTC and shown, and reasoned about by day, in the zone of
the location where it happens (a location's ``time_zone``, else the clinic's ``core.time_zone`` setting)."""

from datetime import UTC, date, datetime, time, timedelta
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import g, has_app_context
from wtforms import ValidationError

TIME_ZONE = "core.time_zone"
DEFAULT_ZONE = "UTC"


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


#: IANA names only: not the machine's own "localtime" nor the "posixrules" and "Factory" files
_KNOWN = frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ValueError with a message for the user when there is none."""
    try:
        key = str(name).strip()
        if key not in _KNOWN:
            raise ZoneInfoNotFoundError(key)
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"{name!r} is not a time zone; use an IANA name such as Europe/London or America/New_York."
        ) from None


#: every IANA zone this machine knows, sorted (the choices for a location's zone)
ZONE_NAMES = tuple(sorted(_KNOWN))


def is_time_zone(form, field):
    """A WTForms validator: the field names an IANA zone (blank is left to ``Optional``)."""
    if field.data:
        try:
            zone(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def clinic_zone() -> ZoneInfo:
    """The clinic's default zone (read once a request)."""
    if has_app_context() and "clinic_zone" in g:
        return g.clinic_zone
    from .clinic_settings import effective_settings

    try:
        found = zone(effective_settings().get(TIME_ZONE, DEFAULT_ZONE))
    except ValueError:
        found = ZoneInfo(DEFAULT_ZONE)
    if has_app_context():
        g.clinic_zone = found
    return found


def zone_of(location=None) -> ZoneInfo:
    """The zone of ``location`` (a Location or its id; its own zone, else the clinic's)."""
    if isinstance(location, int):
        from .extensions import db
        from .models import Location

        location = db.session.get(Location, location)
    name = getattr(location, "time_zone", None)
    return zone(name) if name else clinic_zone()


@overload
def local(instant: datetime, location=None) -> datetime: ...


@overload
def local(instant: None, location=None) -> None: ...


def local(instant: datetime | None, location=None) -> datetime | None:
    """``instant`` as the wall-clock time at ``location``."""
    if instant is None:
        return None
    return aware(instant).astimezone(zone_of(location))


def local_today(location=None) -> date:
    """Today's date at ``location``."""
    return now().astimezone(zone_of(location)).date()


def local_date(instant: datetime, location=None) -> date:
    """The date at ``location`` on which ``instant`` falls."""
    return local(instant, location).date()


def from_local(wall: datetime, location=None) -> datetime:
    """The UTC instant of the wall-clock time ``wall`` (naive) at ``location``.

    A time the clocks skip (the hour lost in spring) raises ValueError with a message; a time that happens twice
    (the hour repeated in autumn) is the first of the two."""
    if wall.tzinfo is not None:
        return wall.astimezone(UTC)
    tz = zone_of(location)
    placed = wall.replace(tzinfo=tz, fold=0)
    instant = placed.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        raise ValueError(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {tz.key}: the clocks go forward then. Choose another time."
        )
    return instant


def day_bounds(day: date, location=None) -> tuple[datetime, datetime]:
    """The UTC instants at which ``day`` starts and ends at ``location`` (a day may be 23 or 25 hours long)."""
    tz = zone_of(location)
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    return start, end


def aware(instant: datetime) -> datetime:
    """``instant`` made timezone-aware: a naive value is taken to be UTC (how the database returns it on SQLite)."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant


def shown(instant: datetime | None, location=None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``instant`` written as the wall-clock time at ``location`` ('' for None)."""
    return "" if instant is None else local(instant, location).strftime(fmt)
