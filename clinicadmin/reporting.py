"""Helpers for reports (the core's and plugins'): the standard filters a report's parameters stand for, and months."""

from datetime import date, timedelta

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .clock import day_bounds
from .extensions import db
from .models import Treatment

#: The status of a performed session written into the SQL rather than bound: a database can use a partial index
#: (``ix_treatment_performed_month``, ``ix_treatment_client_performed``) only when the query's condition is the
#: index's own literal.
PERFORMED = db.literal("performed", literal_execute=True)


def period(params):
    """The report's date range as instants: from the start of ``date_from`` to the end of ``date_to``, days as the
    report's location (or, for every location, the clinic) counts them."""
    start, _ = day_bounds(params["date_from"], params.get("location_id"))
    _, after = day_bounds(params["date_to"], params.get("location_id"))
    return start, after - timedelta(microseconds=1)


def date_range(args, today, max_days=3 * 366):
    """``(date_from, date_to, errors)`` from a query string's ``date_from`` and ``date_to`` (YYYY-MM-DD), by default
    the year up to ``today``; ``errors`` says what is wrong, for the page to show instead of running anything."""

    def parse(name, default):
        try:
            return date.fromisoformat(args[name]) if args.get(name) else default
        except ValueError:
            return None

    date_from, date_to = parse("date_from", today - timedelta(days=365)), parse("date_to", today)
    if date_from is None or date_to is None:
        return date_from, date_to, ["Dates must be given as YYYY-MM-DD."]
    if date_to < date_from:
        return date_from, date_to, ["The end date is before the start date."]
    if (date_to - date_from).days > max_days:
        return date_from, date_to, [f"Choose a period of at most {max_days // 366} years."]
    return date_from, date_to, []


def treatment_filters(query, params):
    """Narrow a select over treatments to the report's location, practitioner and modality, where they are chosen."""
    for column, key in (
        (Treatment.location_id, "location_id"),
        (Treatment.practitioner_id, "practitioner_id"),
        (Treatment.modality, "modality"),
    ):
        if params.get(key):
            query = query.where(column == params[key])
    return query


def performed_in_period(params, *columns):
    """A select of ``columns`` over the treatments performed in the report's period (archived ones left out),
    narrowed by the report's other filters.

    It reads the sessions from ``ix_treatment_performed_month``, in month order: the period's months are that index's
    range, the exact days a filter within it. Group by ``month_group(Treatment.performed_at)`` to group in the
    index's order."""
    start, end = period(params)
    month = month_group(Treatment.performed_at)
    query = db.select(*columns).where(
        Treatment.status == PERFORMED,
        Treatment.archived_at.is_(None),
        month >= month_group(db.literal(start)),
        month <= month_group(db.literal(end)),
        Treatment.performed_at >= start,
        Treatment.performed_at <= end,
    )
    return treatment_filters(query, params)


def performed_sessions(modality, params, *columns):
    """A select of ``columns`` over the treatments of ``modality`` performed in the report's period, at its location
    (and by its practitioner) when one is chosen."""
    return performed_in_period({**params, "modality": None}, *columns).where(Treatment.modality == modality)


def month_label(year, month):
    return f"{int(year)}-{int(month):02d}"


def months(params):
    """Every month of the report's period as ``YYYY-MM``, oldest first (a chart's x axis, with no gaps)."""
    year, month = params["date_from"].year, params["date_from"].month
    labels = []
    while (year, month) <= (params["date_to"].year, params["date_to"].month):
        labels.append(month_label(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


# Aggregating a plugin's details in SQL. A year of a chain is tens of thousands of sessions per modality: grouping
# them in the database returns a few dozen rows, where reading each session's details into Python took most of a
# report's time. Each helper writes the same meaning on SQLite and PostgreSQL.


class month_key(FunctionElement):
    """``YYYY-MM`` of a date or datetime column, as text (a report's month label). Select it, and group by
    ``month_group`` of the same column: on PostgreSQL the label is computed from the group."""

    type = String()
    inherit_cache = True


class month_group(FunctionElement):
    """The month of a datetime column as ``ix_treatment_performed_month`` keys it, written exactly as that index's
    expression (``strftime('%Y-%m', ...)`` on SQLite, ``date_trunc('month', ... AT TIME ZONE 'UTC')`` on PostgreSQL,
    where ``to_char`` cannot be indexed): group and order by it, and a year's sessions are read in the index's order,
    never sorted."""

    inherit_cache = True


@compiles(month_key, "sqlite")
@compiles(month_group, "sqlite")
def _month_sqlite(element, compiler, **kw):
    # On SQLite a month's label and its group are the same text.
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_key, "postgresql")
def _month_key_postgresql(element, compiler, **kw):
    return f"to_char(date_trunc('month', ({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC'), 'YYYY-MM')"


@compiles(month_group, "postgresql")
def _month_group_postgresql(element, compiler, **kw):
    # The month of the UTC instant: ``date_trunc`` of a ``timestamptz`` depends on the session's zone (not indexable).
    return f"date_trunc('month', ({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC')"


def detail_number(details, key, precision=12, scale=3):
    """A number recorded in the details (stored as JSON text or a JSON number), as SQL NUMERIC; NULL when absent."""
    return db.cast(db.func.nullif(details[key].as_string(), ""), db.Numeric(precision, scale))


def detail_text(details, key):
    """A single text value recorded in the details (a choice such as the device used), as SQL text; NULL when absent
    or empty, so that grouping by it gives one row for "not recorded"."""
    return db.func.nullif(details[key].as_string(), "")


def detail_flag(details, key):
    """1 where a yes/no detail is true, else 0 (absent counts as no)."""
    return db.case((details[key].as_boolean(), 1), else_=0)


def detail_items(details, key):
    """The items of a list in the details (chosen checkboxes) as a table with one ``value`` column, to join each
    session to: ``select(...).select_from(Treatment).join(items, db.true())``."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.func.jsonb_array_elements_text(details.op("->")(key)).table_valued("value")
    return db.func.json_each(details, f"$.{key}").table_valued("value")


def detail_count(details, key):
    """How many items a list in the details holds (0 when absent)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.func.coalesce(db.func.jsonb_array_length(details.op("->")(key)), 0)
    return db.func.coalesce(db.func.json_array_length(details, f"$.{key}"), 0)


def counts_per(rows, key, distinct):
    """A select of ``(key, how many rows, how many distinct values of distinct)`` per value of ``key``, over ``rows``
    (a select with its conditions and no columns, such as ``db.select().select_from(Model).where(...)``), grouped
    the way each database does it fastest for a year of rows: PostgreSQL hashes the (key, value) pairs and counts
    them (a distinct count would sort every row), SQLite counts distinct values as it groups."""
    if db.session.get_bind().dialect.name == "postgresql":
        pairs = (
            rows.add_columns(key.label("key"), distinct.label("value"), db.func.count().label("rows"))
            .group_by(key, distinct)
            .subquery()
        )
        return db.select(
            pairs.c.key, db.cast(db.func.sum(pairs.c.rows), db.Integer).label("rows"), db.func.count().label("distinct")
        ).group_by(pairs.c.key)
    return rows.add_columns(
        key.label("key"), db.func.count().label("rows"), db.func.count(db.distinct(distinct)).label("distinct")
    ).group_by(key)


#: What a plugin's report may import from here (docs/plugin-hooks.md documents each).
__all__ = [
    "performed_sessions",
    "performed_in_period",
    "treatment_filters",
    "period",
    "months",
    "month_key",
    "month_group",
    "detail_number",
    "detail_text",
    "detail_flag",
    "detail_count",
    "detail_items",
    "counts_per",
]
