"""Creating or editing a client who is probably already on file (same name and date of birth, e-mail or phone)
stops with the matching records, each linked, until the person saving confirms it is someone else."""

from flask import request
from markupsafe import Markup, escape
from wtforms import BooleanField
from wtforms.widgets import CheckboxInput, HiddenInput

from ..audit import audit_read
from ..duplicates import probable_duplicates

CONFIRM_LABEL = "I have checked the records listed above: this is a different person."


class ConfirmWhenAsked(HiddenInput):
    """Renders nothing until duplicates were found (no empty label either: Flask-Admin puts hidden inputs first),
    then an unticked checkbox with its label."""

    def __call__(self, field, **kwargs):
        if not getattr(field, "asked", False):
            return Markup("")
        box = CheckboxInput()(field, id="confirm_new_person", checked=False)
        return Markup(
            '<div class="form-check alert alert-warning">{} <label class="form-check-label" '
            'for="confirm_new_person">{}</label></div>'
        ).format(box, escape(CONFIRM_LABEL))


class DuplicateWarningMixin:
    """For client model views: ``validate_form`` refuses a probable duplicate until confirmed; the create and edit
    pages list the matches (``duplicates``) with links."""

    create_template = "admin/client_create.html"
    edit_template = "admin/client_edit.html"

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.confirm_new_person = BooleanField(CONFIRM_LABEL, widget=ConfirmWhenAsked())
        return form_class

    def validate_form(self, form):
        if not super().validate_form(form):
            return False
        if not hasattr(form, "confirm_new_person"):
            return True  # not the record's form (a list action's, a delete's)
        editing = request.args.get("id") if request.endpoint.endswith("edit_view") else None

        def value(name):
            field = getattr(form, name, None)
            return field.data if field is not None else None

        found = probable_duplicates(
            first_name=value("first_name"),
            last_name=value("last_name"),
            date_of_birth=value("date_of_birth"),
            email=value("email"),
            phone=value("phone"),
            exclude_id=int(editing) if editing and editing.isdecimal() else None,
        )
        if found:
            # The matches name clients: what was typed, and who it found, is an audited read.
            audit_read(
                "client.duplicate_check",
                object_type="Client",
                detail={
                    "found": [c.id for c, _ in found],
                    "by": sorted({why for _, reasons in found for why in reasons}),
                },
            )
        if found and not form.confirm_new_person.data:
            self._template_args["duplicates"] = found
            form.confirm_new_person.asked = True
            return False
        return True
