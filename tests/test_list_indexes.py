"""Every sort, filter and default sort an admin list offers is backed by an index in the migrated database, so a
list stays fast as a clinic's tables grow."""

from flask_admin.contrib.sqla import ModelView
from sqlalchemy import inspect

from clinicadmin.extensions import db


def _column(model, dotted):
    """The table column behind a Flask-Admin column name such as ``last_name`` or ``practitioner.email``."""
    *relations, name = dotted.split(".")
    for relation in relations:
        model = getattr(model, relation).property.mapper.class_
    return getattr(model, name).property.columns[0]


def _names(spec):
    """Column names from a sortable list, a filter list or a default sort, in order."""
    if not spec:
        return []
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], bool):
        return [spec[0]]
    names = []
    for item in spec:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, tuple):
            names.append(item[0])
        else:  # a filter object
            names.append(item.column.key)
    return names


def _indexed_prefixes(table):
    """Every column tuple that leads an index, a unique constraint or the primary key of ``table``, as stored."""
    insp = inspect(db.engine)
    prefixes = {tuple(insp.get_pk_constraint(table)["constrained_columns"])}
    for index in insp.get_indexes(table) + insp.get_unique_constraints(table):
        prefixes.add(tuple(index["column_names"]))
    return prefixes


def _backed(columns):
    table = columns[0].table.name
    wanted = tuple(c.name for c in columns)
    return any(prefix[: len(wanted)] == wanted for prefix in _indexed_prefixes(table))


def test_every_list_sort_and_filter_has_an_index(app):
    views = [v for v in app.extensions["admin"][0]._views if isinstance(v, ModelView)]
    assert len(views) > 10
    missing, checked = [], 0
    for view in views:
        for name in _names(view.column_sortable_list) + _names(view.column_filters):
            checked += 1
            if not _backed([_column(view.model, name)]):
                missing.append(f"{view.endpoint}: {name}")
        default = [_column(view.model, n) for n in _names(view.column_default_sort)]
        if default and len({c.table.name for c in default}) == 1:
            checked += 1
            if not _backed(default):
                missing.append(f"{view.endpoint}: default sort {[c.name for c in default]}")
    assert checked > 40
    assert missing == []


def test_the_check_notices_a_missing_index(app):
    from clinicadmin.models import Client

    assert not _backed([Client.__table__.c.phone])
    assert _backed([Client.__table__.c.last_name, Client.__table__.c.first_name])
    assert not _backed([Client.__table__.c.first_name])
