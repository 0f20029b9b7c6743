"""Column types shared by the models."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import BigInteger
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
