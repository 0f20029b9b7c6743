"""The one input policy for every form and every request: text is refused when it holds NUL or another control
character (tab, line feed and carriage return excepted), a lone surrogate, or a character that overrides or
isolates the direction of text (which can make a record read differently from what it says).

Forms apply it to every string field through :class:`PolicyForm` (the base of every form class, core and plugin),
so the person sees which field to correct; :func:`init_input_guard` applies it to every query string, and to the
body of every request whose view does not validate through a policy form (declared with :func:`policy_form_view`),
answering 400 with the field's name. Reasons (override, archive, write-off ...) must also hold real text once
whitespace and invisible characters are stripped: :func:`real_text`.
"""

import re
import unicodedata

from flask import abort, current_app, request
from flask_admin.form import BaseForm as AdminBaseForm
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import Form as PlainForm
from wtforms import ValidationError

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
MESSAGE = "Contains a control character or a text-direction override, which are not allowed; remove it and try again."


def text_problem(value):
    """The message for text that breaks the policy, or None when ``value`` is acceptable (or not text). A file sent
    where text is expected is refused too (no form here takes a file)."""
    if isinstance(value, str) and FORBIDDEN.search(value):
        return MESSAGE
    if isinstance(value, FileStorage):
        return "A file was sent where text is expected."
    return None


def real_text(value):
    """``value`` without whitespace and invisible (control and format) characters: empty when it says nothing."""
    return "".join(ch for ch in (value or "") if not ch.isspace() and unicodedata.category(ch)[0] != "C")


def required_reason(minimum=3):
    """A validator: the field holds at least ``minimum`` visible characters."""

    def check(form, field):
        if len(real_text(field.data)) < minimum:
            raise ValidationError(f"Write the reason in words (at least {minimum} characters).")

    return check


def _leaves(fields):
    """Every field of a form, with the fields of its sub-forms and lists, depth first."""
    for field in fields:
        if hasattr(field, "form") and hasattr(field.form, "_fields"):  # FormField
            yield from _leaves(field.form)
        elif hasattr(field, "entries"):  # FieldList
            yield from _leaves(field.entries)
        else:
            yield field


class PolicyForm:
    """Mixed into every form base: validation first refuses, in every string field (sub-forms included), what the
    policy refuses, before any field's own validators run (one of them may ask the database, which PostgreSQL
    refuses for a NUL). Use :class:`PolicyFlaskForm`, :class:`PolicyPlainForm` or :class:`PolicyAdminForm`."""

    def validate(self, extra_validators=None):
        refused = False
        for field in _leaves(self):
            values = [*(field.raw_data or ()), *(field.data if isinstance(field.data, (list, tuple)) else [field.data])]
            problem = next((p for p in map(text_problem, values) if p), None)
            if problem:
                field.errors = [problem]
                refused = True
        if refused:
            return False
        return super().validate(extra_validators=extra_validators)


class PolicyFlaskForm(PolicyForm, FlaskForm):
    """A form of a custom view (CSRF from Flask-WTF)."""


class PolicyPlainForm(PolicyForm, PlainForm):
    """A sub-form (a plugin's details), validated within its parent."""


class PolicyAdminForm(PolicyForm, AdminBaseForm):
    """Flask-Admin's model forms (``SecuredModelView.form_base_class``)."""


def policy_form_view(view):
    """Mark a view whose POST body is validated by a :class:`PolicyForm`, which names the field to correct; the
    request guard then leaves its body to the form (the query string is still checked)."""
    view.validates_with_policy_form = True
    return view


def _first_problem(values):
    for key, value in values.items(multi=True):
        if text_problem(key) or text_problem(value):
            return key
    return None


def init_input_guard(app):
    """Refuse (400) any request whose query string, or whose body when no policy form reads it, breaks the policy."""

    @app.before_request
    def guard_input():
        name = _first_problem(request.args)
        if name is not None:
            abort(400, description=f"The address's “{_shown(name)}” {MESSAGE[0].lower()}{MESSAGE[1:]}")
        if request.method in ("POST", "PUT", "PATCH"):
            view = current_app.view_functions.get(request.endpoint)
            if not getattr(view, "validates_with_policy_form", False):
                name = _first_problem(request.form)
                if name is not None:
                    abort(
                        400,
                        description=f"The field “{_shown(name)}” {MESSAGE[0].lower()}{MESSAGE[1:]} Nothing was saved.",
                    )


def _shown(name):
    return FORBIDDEN.sub("?", name)[:60]
