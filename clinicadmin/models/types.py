"""Column types shared by the models."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

QUANTITY_SCALE = 1000  # thousandths of a unit of use: 0.001 mL is the finest quantity stored


class Quantity(TypeDecorator):
    """A stock quantity in units of use, exact to 0.001 and stored as an integer number of thousandths.

    Integer storage keeps ``quantity - :n`` exact on SQLite (no float residue) so the ``>= 0`` CHECK and the
    conditional stock UPDATE behave identically on SQLite and PostgreSQL.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        try:
            scaled = Decimal(str(value)) * QUANTITY_SCALE
        except InvalidOperation as exc:
            raise ValueError(f"not a quantity: {value!r}") from exc
        if not scaled.is_finite():
            raise ValueError(f"not a quantity: {value!r}")
        return int(scaled.to_integral_value(rounding=ROUND_HALF_UP))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / QUANTITY_SCALE).normalize() + Decimal(0)

    def coerce_compared_value(self, op, value):
        return self


class UTCDateTime(TypeDecorator):
    """An instant: stored in UTC (``timestamptz`` on PostgreSQL), always read back timezone-aware in UTC.

    Binding a naive datetime raises: a wall-clock time without its zone is a bug (``clock.from_local`` places one)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self):
        return datetime

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"an instant must be a datetime, not {value!r}")
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: say which zone it is in (clinicadmin.clock)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
