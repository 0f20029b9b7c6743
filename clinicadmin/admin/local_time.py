"""Instants in the admin's lists, details, filters and model forms: shown and entered as the wall-clock time of the
record's location (its ``location``, else the clinic's zone), stored in UTC."""

from datetime import datetime

from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model.form import converts
from wtforms import DateTimeField

from ..clock import from_local, local
from ..models.types import UTCDateTime


def location_of(model):
    """The location whose zone a record's times are read in (None: the clinic's)."""
    return getattr(model, "location", None)


def _placed(value):
    """A filter's wall-clock value (the clinic's zone) as the UTC instant a column compares with."""
    if isinstance(value, datetime):
        return from_local(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_placed(v) for v in value)
    return value


def _local_filter(base):
    return type(f"Local{base.__name__}", (base,), {"clean": lambda self, value: _placed(base.clean(self, value))})


class LocalTimeFilterConverter(sqla_filters.FilterConverter):
    """Flask-Admin's filters, with the ones on instants reading the typed time in the clinic's zone."""

    local_datetime_filters = tuple(_local_filter(f) for f in sqla_filters.FilterConverter.datetime_filters)

    @sqla_filters.filters.convert("utcdatetime")
    def conv_utc_datetime(self, column, name, **kwargs):
        return [f(column, name, **kwargs) for f in self.local_datetime_filters]


class LocalTimeModelConverter(AdminModelConverter):
    """Model forms: an instant is a date and time field (its value placed in the zone by ``LocalTimeMixin``)."""

    @converts("UTCDateTime")
    def conv_utc_datetime(self, field_args, **extra):
        field_args.setdefault("format", "%Y-%m-%d %H:%M:%S")
        field_args["widget"] = field_args.get("widget")
        if field_args["widget"] is None:
            del field_args["widget"]
        return DateTimeField(**field_args)


class LocalTimeMixin:
    """For ``SecuredModelView``: lists and details show local times; forms are filled and read in local time."""

    filter_converter = LocalTimeFilterConverter()
    model_form_converter = LocalTimeModelConverter

    def _get_field_value(self, model, name):
        value = super()._get_field_value(model, name)
        return local(value, location_of(model)) if isinstance(value, datetime) else value

    def _instant_fields(self, form):
        columns = self.model.__table__.columns
        return [field for field in form if field.name in columns and isinstance(columns[field.name].type, UTCDateTime)]

    def on_form_prefill(self, form, id):
        super().on_form_prefill(form, id)
        model = self.get_one(id)
        for field in self._instant_fields(form):
            if isinstance(field.data, datetime) and field.data.tzinfo is not None:
                field.data = local(field.data, location_of(model)).replace(tzinfo=None)

    def on_model_change(self, form, model, is_created):
        # Placed before anything else runs: a query would flush the naive value.
        for field in self._instant_fields(form):
            value = getattr(model, field.name)
            if isinstance(value, datetime) and value.tzinfo is None:
                setattr(model, field.name, from_local(value, location_of(model)))
        super().on_model_change(form, model, is_created)
