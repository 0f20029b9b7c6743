"""Keyset paging for lists that grow without bound (the schedule, the clients of a chain).

"Next" and "Previous" carry the sort key of the page's last or first row (``after=`` / ``before=``), so any page,
however deep, is one range read of the index behind the sort: no OFFSET walking past every earlier row, and no count.
A numeric ``page=`` still works (old links, bookmarks) by OFFSET; the pager never produces one.
"""

import base64
import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import flash, g, request
from sqlalchemy import and_, or_

from ..input_policy import text_problem

CURSOR_ARGS = ("after", "before")
MAX_CURSOR = 2000  # characters: a sort key of a few columns is far shorter


class BadCursor(ValueError):
    """A cursor that does not decode into the list's current sort key."""


@dataclass
class Keyset:
    """The columns a list is ordered by (the primary key last, as the tie-break) and each one's direction."""

    columns: list
    descending: list

    def encode(self, row):
        values = [getattr(row, column.key) for column in self.columns]
        if any(value is None for value in values):
            return None  # a NULL has no place in a range comparison; that row's page links by number instead
        raw = json.dumps([v.isoformat() if isinstance(v, (date, datetime)) else v for v in values])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, cursor):
        if len(cursor) > MAX_CURSOR:
            raise BadCursor("the cursor is too long")
        try:
            values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (ValueError, RecursionError) as exc:
            raise BadCursor(str(exc)) from exc
        if not isinstance(values, list) or len(values) != len(self.columns):
            raise BadCursor("the cursor does not match the list's sort")
        return [_typed(column, value) for column, value in zip(self.columns, values, strict=True)]

    def beyond(self, values, reverse=False):
        """Rows strictly after ``values`` in this order (before them with ``reverse``), as one SQL condition whose
        first term bounds the leading column, so the database reads a range of its index."""
        terms, equal = [], []
        for column, desc, value in zip(self.columns, self.descending, values, strict=True):
            later = column < value if desc != reverse else column > value
            terms.append(and_(*equal, later))
            equal.append(column == value)
        first, desc = self.columns[0], self.descending[0] != reverse
        return and_(first <= values[0] if desc else first >= values[0], or_(*terms))


#: The widest integer both databases compare with a column (a 64-bit signed integer).
INTEGER_RANGE = (-(2**63), 2**63 - 1)


def _typed(column, value):
    """``value`` as the column's type, or BadCursor: a value of the JSON type the column's values encode to, finite
    numbers within the databases' integer range, and text that the input policy accepts (no NUL, which PostgreSQL
    refuses, and no lone surrogate)."""
    python_type = column.type.python_type
    if value is None or isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadCursor("a cursor value is missing")
    expected = str if python_type in (str, date, datetime) else int if python_type is int else (int, float)
    if not isinstance(value, expected):
        raise BadCursor("a cursor value is not of its column's type")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadCursor("a cursor number is not finite")
    if isinstance(value, str) and text_problem(value):
        raise BadCursor("a cursor text holds characters no record holds")
    try:
        if python_type is datetime:
            instant = datetime.fromisoformat(value)
            if instant.tzinfo is None:
                raise BadCursor("a cursor time has no zone")
            return instant
        if python_type is date:
            return date.fromisoformat(value)
        typed = python_type(value)
    except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
        raise BadCursor(str(exc)) from exc
    if isinstance(typed, int) and not INTEGER_RANGE[0] <= typed <= INTEGER_RANGE[1]:
        raise BadCursor("a cursor number is out of range")
    if isinstance(typed, float) and not math.isfinite(typed):
        raise BadCursor("a cursor number is not finite")
    if isinstance(typed, Decimal) and not typed.is_finite():
        raise BadCursor("a cursor number is not finite")
    return typed


class KeysetPagerMixin:
    """Pages a model list by its sort key. Sorts by plain columns of the model are keyset-paged; a sort through a
    relationship falls back to Flask-Admin's numbered pages.

    The page's links are in ``g.keyset_links`` (``first``, ``previous``, ``next``: a URL or None), for the
    ``admin/keyset_list.html`` template.
    """

    list_template = "admin/keyset_list.html"
    simple_list_pager = True  # counting a chain's table would cost more than the page

    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        for name in CURSOR_ARGS:  # never carried into sort, filter or search links: they start from the top
            args.extra_args.pop(name, None)
        return args

    def _keyset_for(self, sort_column, sort_desc):
        """The keyset for the requested sort, or None when the sort goes through a relationship."""
        if sort_column is not None and sort_column in self._sortable_columns:
            if self._sortable_joins.get(sort_column):
                return None
            order = [(self._sortable_columns[sort_column], bool(sort_desc))]
        else:
            default = list(self._get_default_order())
            if any(joins for _, joins, _ in default):
                return None
            order = [(field, bool(desc)) for field, _, desc in default]
        if not order or any(getattr(field, "class_", None) is not self.model for field, _ in order):
            return None
        pk = getattr(self.model, self.model.__mapper__.primary_key[0].key)
        return Keyset([field for field, _ in order] + [pk], [desc for _, desc in order] + [order[-1][1]])

    def _cursor(self, keyset):
        """(values, reverse) from ``after=`` or ``before=``; a cursor that does not decode is dropped with a
        message and the list starts from the top."""
        for name, reverse in (("after", False), ("before", True)):
            raw = request.args.get(name)
            if raw:
                try:
                    return keyset.decode(raw), reverse
                except BadCursor:
                    flash("That page link no longer fits this list; showing the first page.", "warning")
        return None, False

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        keyset = self._keyset_for(sort_column, sort_desc)
        g.keyset = None
        if keyset is None:
            return super()._apply_sorting(query, joins, sort_column, sort_desc)
        values, reverse = self._cursor(keyset)
        if values is not None:
            query = query.filter(keyset.beyond(values, reverse))
        order = [c.desc() if d != reverse else c.asc() for c, d in zip(keyset.columns, keyset.descending, strict=True)]
        g.keyset = (keyset, values, reverse)
        return query.order_by(*order), joins

    def _apply_pagination(self, query, page, page_size):
        if g.get("keyset") is None:
            return super()._apply_pagination(query, page, page_size)
        size = page_size or self.page_size
        query = query.limit(size + 1)  # one more tells whether another page follows
        if g.keyset[1] is None and page:
            query = query.offset(page * size)
        return query

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, rows = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )
        state = g.pop("keyset", None)
        if not execute or state is None:
            return count, rows
        keyset, values, reverse = state
        size = page_size or self.page_size
        more = len(rows) > size
        rows = rows[:size]
        if reverse:
            rows.reverse()
        has_previous = more if reverse else (values is not None or bool(page))
        has_next = True if reverse else more
        base = self._get_list_url(self._get_list_extra_args().clone(page=None))
        joiner = "&" if "?" in base else "?"

        def link(name, row):
            cursor = keyset.encode(row) if row is not None else None
            return f"{base}{joiner}{name}={cursor}" if cursor else None

        g.keyset_links = {
            "first": base if has_previous else None,
            "previous": link("before", rows[0]) if has_previous and rows else None,
            "next": link("after", rows[-1]) if has_next and rows else None,
        }
        return count, rows
