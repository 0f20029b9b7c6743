"""A select of what the loaded plugins register, which never rewrites a stored value that no loaded plugin knows."""

from wtforms import SelectField

NOT_LOADED_GROUP = "Plugin not loaded"


class RegisteredChoiceField(SelectField):
    """A select of registered keys (condition codes, modalities, certification scopes).

    A stored value that no loaded plugin registers (its plugin was removed) is offered first and preselected, labelled
    by ``unknown_label`` ("... (plugin not loaded)"), and it is the only unregistered value the field accepts back: the
    record keeps it exactly as stored when the form is saved, instead of taking whichever choice a browser shows first.
    """

    def __init__(self, label=None, validators=None, unknown_label=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.unknown_label = unknown_label or (lambda value: f"{value} (plugin not loaded)")

    @property
    def choices(self):
        offered = SelectField.choices.fget(self)
        stored = getattr(self, "object_data", None)
        if stored in (None, "") or offered is None or self._offers(offered, stored):
            return offered
        kept = (stored, self.unknown_label(stored))
        if isinstance(offered, dict):
            return {NOT_LOADED_GROUP: [kept], **offered}
        return [kept, *offered]

    @choices.setter
    def choices(self, value):
        SelectField.choices.fset(self, value)

    def _offers(self, offered, value):
        return any(c.value == value for c in self._choices_from_input(offered) or [])
