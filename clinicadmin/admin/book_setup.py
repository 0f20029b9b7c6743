"""What the appointment book is made of, kept by managers: rooms and devices of each location, practitioners'
working hours and time off. Every change is audited with its before and after values."""

from wtforms import SelectField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from ..audit import audit
from ..plugins import registry
from ..working_hours import WEEKDAYS
from .base import SecuredModelView
from .clients import changes_of
from .registered_choices import RegisteredChoiceField
from .validators import date_order

MANAGERS = ("admin", "manager")


def _kind_choices():
    return registry().resource_kind_choices()


class _Audited(SecuredModelView):
    audit_noun = ""

    def on_model_change(self, form, model, is_created):
        audit(
            f"{self.audit_noun}.{'create' if is_created else 'update'}",
            obj=model,
            detail={"changes": changes_of(model)},
        )


class ResourceView(_Audited):
    """Rooms and devices: each of a kind the plugins register, at one location; one taken out of use is made
    inactive (never deleted), so past bookings still name it."""

    allowed_roles = create_roles = edit_roles = MANAGERS
    can_view_details = False
    audit_noun = "resource"
    column_list = ("location", "kind", "name", "active")
    column_filters = ("location.name",)
    column_sortable_list = ()
    column_default_sort = ("location_id", False)
    column_formatters = {"kind": lambda v, c, m, n: registry().resource_kind_label(m.kind)}
    form_columns = ("location", "kind", "name", "active")
    form_overrides = {"kind": RegisteredChoiceField}
    form_args = {
        "location": {"validators": [DataRequired()]},
        "kind": {
            "choices": _kind_choices,
            "unknown_label": lambda key: registry().resource_kind_label(key),
            "validators": [DataRequired()],
        },
        "name": {"validators": [DataRequired(), Length(max=120)]},
    }


def _ends_after_start(form, field):
    if form.starts.data and field.data and field.data <= form.starts.data:
        raise ValidationError("The stretch must end after it starts.")


class WorkingHoursView(_Audited):
    """When each practitioner works at each location: one row per stretch of a weekday, in the location's time."""

    allowed_roles = create_roles = edit_roles = MANAGERS
    can_delete = False
    can_view_details = False
    audit_noun = "working_hours"
    column_list = ("user", "location", "weekday", "starts", "ends")
    column_labels = {"user": "Practitioner"}
    column_filters = ("user.email", "location.name")
    column_sortable_list = ()
    column_default_sort = ("user_id", False)
    column_formatters = {"weekday": lambda v, c, m, n: WEEKDAYS[m.weekday]}
    form_columns = ("user", "location", "weekday", "starts", "ends")
    form_overrides = {"weekday": SelectField}
    form_args = {
        "user": {"label": "Practitioner", "validators": [DataRequired()]},
        "location": {"validators": [DataRequired()]},
        "weekday": {"choices": list(enumerate(WEEKDAYS)), "coerce": int},
        "starts": {"validators": [DataRequired()]},
        "ends": {"validators": [DataRequired(), _ends_after_start]},
    }


class TimeOffView(_Audited):
    """Days a practitioner does not work (leave, training); a booking on one needs a manager's confirmation."""

    allowed_roles = create_roles = edit_roles = MANAGERS
    can_view_details = False
    audit_noun = "time_off"
    column_list = ("user", "first_day", "last_day", "reason")
    column_labels = {"user": "Practitioner"}
    column_filters = ("user.email", "first_day")
    column_sortable_list = ("first_day",)
    column_default_sort = ("first_day", True)
    form_columns = ("user", "first_day", "last_day", "reason")
    form_args = {
        "user": {"label": "Practitioner", "validators": [DataRequired()]},
        "first_day": {"validators": [DataRequired()]},
        "last_day": {
            "validators": [DataRequired(), date_order("first_day", "last_day", "The last day is before the first.")]
        },
        "reason": {"validators": [Optional(), Length(max=255)]},
    }


__all__ = ["ResourceView", "WorkingHoursView", "TimeOffView"]
