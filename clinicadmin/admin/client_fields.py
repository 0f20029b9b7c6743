"""The client fields plugins register (``register_client_fields``), on the clinical client form and details page.

Values live in ``Client.plugin_fields`` ({key: value}). The form offers the registered fields only; a value whose
plugin was removed stays on the record untouched, and the details page shows it as "(plugin not loaded)". A field
left out of a posted form keeps its stored value: only what the person sent changes the record.
"""

from flask_admin.helpers import get_form_data
from markupsafe import Markup, escape
from wtforms import StringField
from wtforms.validators import Length, Optional

from ..plugins import registry
from .registered_choices import RegisteredChoiceField

FIELD_PREFIX = "client_field-"


class _StoredOnClient:
    """A form field whose value is kept in ``Client.plugin_fields[key]`` instead of a column of its own."""

    def __init__(self, label=None, validators=None, key=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.key = key

    def show_stored(self, client):
        """Take the client's stored value, unless the person posted this field."""
        stored = (client.plugin_fields or {}).get(self.key) if client is not None else None
        self.object_data = stored
        if not self.raw_data:
            self.data = stored if stored is not None else ""

    def populate_obj(self, obj, name):
        if not self.raw_data:
            return  # not posted: nothing to change
        values = dict(obj.plugin_fields or {})
        value = (self.data or "").strip()
        if value:
            values[self.key] = value
        else:
            values.pop(self.key, None)
        if values != (obj.plugin_fields or {}):
            obj.plugin_fields = values  # a new dict, so that the change is seen, saved and audited


class ClientFieldSelect(_StoredOnClient, RegisteredChoiceField):
    """A choice field; a stored value its plugin no longer offers is shown as "V (no longer offered)" and preselected,
    so that saving the client unchanged keeps it (a plain select would post "" and drop it)."""

    def __init__(self, label=None, validators=None, key=None, **kwargs):
        kwargs.setdefault("unknown_label", lambda value: f"{value} (no longer offered)")
        super().__init__(label, validators, key=key, **kwargs)


class ClientFieldText(_StoredOnClient, StringField):
    pass


def unbound_fields():
    """{form field name: unbound field} for every registered client field, by label."""
    fields = {}
    for spec in sorted(registry().client_fields.values(), key=lambda f: f.label.lower()):
        name = FIELD_PREFIX + spec.key
        # Flask-Admin renders a description with |safe: a plugin's help text is escaped, so it shows as written.
        help_text = escape(spec.help) if spec.help else ""
        if spec.choices:
            fields[name] = ClientFieldSelect(
                spec.label,
                key=spec.key,
                description=help_text,
                choices=[("", "Not recorded"), *spec.choices],
                default="",
            )
        else:
            fields[name] = ClientFieldText(
                spec.label, [Optional(), Length(max=spec.max_length)], key=spec.key, description=help_text, default=""
            )
    return fields


class ClientFieldsMixin:
    """Adds the registered client fields to the model view's create and edit forms."""

    def _with_client_fields(self, form_class):
        fields = unbound_fields()
        return type(form_class.__name__, (form_class,), fields) if fields else form_class

    def create_form(self, obj=None):
        form = self._with_client_fields(self._create_form_class)(get_form_data(), obj=obj)
        _show_stored(form, obj)
        return form

    def edit_form(self, obj=None):
        form = self._with_client_fields(self._edit_form_class)(get_form_data(), obj=obj)
        _show_stored(form, obj)
        return form


def _show_stored(form, client):
    for field in form:
        if isinstance(field, _StoredOnClient):
            field.show_stored(client)


def format_client_fields(view, context, model, name):
    """The client's recorded client fields, by label; a value whose plugin is not loaded is shown as such."""
    known = registry().client_fields
    items = []
    for key, value in sorted((model.plugin_fields or {}).items()):
        spec = known.get(key)
        if spec is None:
            items.append(Markup("<li>{}: {} (plugin not loaded)</li>").format(key, value))
        else:
            items.append(Markup("<li>{}: {}</li>").format(spec.label, spec.choice_label(value)))
    return Markup("<ul class='mb-0'>{}</ul>").format(Markup("").join(items)) if items else "none recorded"
