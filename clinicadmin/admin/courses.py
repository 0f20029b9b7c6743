"""Courses: a planned series of sessions of one modality for one client, with sessions done and remaining."""

from flask import url_for
from markupsafe import Markup
from wtforms import ValidationError
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import client_lookup
from ..models import Course
from ..plugins import registry
from ..roles import CLINICAL_ROLES
from .base import SecuredModelView
from .clients import AuditedClientViewMixin
from .registered_choices import RegisteredChoiceField


def _book_next(view, context, model, name):
    if model.sessions_remaining <= 0:
        return "complete"
    return Markup('<a href="{}">Book next session</a> · <a href="{}">find a time</a>').format(
        url_for("treatment_desk.book", client_id=model.client_id, course_id=model.id),
        url_for("treatment_desk.find_time", client_id=model.client_id, course_id=model.id, modality=model.modality),
    )


class CourseView(AuditedClientViewMixin, SecuredModelView):
    """Courses of treatment. Practitioners and managers plan them; the front desk books their sessions."""

    allowed_roles = CLINICAL_ROLES + ("front_desk",)
    create_roles = edit_roles = CLINICAL_ROLES
    audit_prefix = "course"
    belongs_to_client = True
    can_view_details = False
    column_list = (
        "client",
        "modality",
        "planned_sessions",
        "sessions_done",
        "sessions_remaining",
        "min_interval_days",
        "started_on",
        "book",
    )
    column_labels = {
        "planned_sessions": "Planned",
        "sessions_done": "Done",
        "sessions_remaining": "Remaining",
        "min_interval_days": "Minimum days apart",
        "book": "",
    }
    column_filters = ("modality", "started_on")
    column_sortable_list = ("started_on",)
    column_default_sort = ("started_on", True)
    column_formatters = {
        "modality": lambda v, c, m, n: registry().modality_label(m.modality),
        "book": _book_next,
        "min_interval_days": lambda v, c, m, n: (
            m.min_interval_days if m.min_interval_days is not None else "clinic setting"
        ),
    }
    form_columns = ("client", "modality", "planned_sessions", "min_interval_days", "started_on", "notes")
    form_overrides = {"modality": RegisteredChoiceField}
    form_args = {
        "modality": {
            "choices": lambda: registry().modality_choices(),
            "unknown_label": lambda key: registry().modality_label(key),
            "validators": [DataRequired()],
        },
        "planned_sessions": {
            "validators": [Optional(), NumberRange(min=1, max=52)],
            "description": "Leave empty for the modality's usual number of sessions.",
        },
        "min_interval_days": {
            "validators": [Optional(), NumberRange(min=0, max=365)],
            "description": "Leave empty to use the clinic's setting for the modality.",
        },
        "notes": {"validators": [Optional(), Length(max=500)]},
    }

    @property
    def form_ajax_refs(self):
        return {"client": client_lookup()}

    def on_model_change(self, form, model, is_created):
        if model.client is None:
            raise ValidationError("Choose the client.")
        if model.planned_sessions is None:
            modality = registry().modalities.get(model.modality)
            if modality is None or not modality.default_sessions:
                raise ValidationError("Give the number of sessions planned.")
            model.planned_sessions = modality.default_sessions
        super().on_model_change(form, model, is_created)


__all__ = ["CourseView", "Course"]
