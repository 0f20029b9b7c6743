"""The treatment desk's forms: booking, recording (the core's fields plus the modality plugin's), and showing the
plugin's stored details in the words of its form."""

import json
import logging
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_admin.model.fields import AjaxSelectField
from markupsafe import escape
from wtforms import (
    BooleanField,
    DateField,
    DateTimeField,
    DateTimeLocalField,
    DecimalField,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectFieldBase,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..booking_window import within_booking_window
from ..clinic_settings import effective_settings
from ..forms import ClientField, ProductField
from ..input_policy import PolicyFlaskForm, PolicyPlainForm
from ..plugins import each_implementation, registry
from .once import OnceForm

log = logging.getLogger(__name__)


def _id_or_none(value):
    """A select's id, or None for its empty "choose ..." option (so "nobody yet" is a choice, not a coercion error)."""
    if value in (None, ""):
        return None
    return int(value)


class BookForm(OnceForm):
    client = ClientField("Client", validators=[DataRequired()])
    modality = SelectField("Modality", validators=[DataRequired(message="Choose a modality.")])
    practitioner = SelectField(
        "Practitioner",
        coerce=_id_or_none,
        validators=[DataRequired(message="Choose a practitioner certified for the modality.")],
        description="Only practitioners certified for the modality on the booking's day.",
    )
    location = SelectField("Location", coerce=int, validators=[DataRequired()])
    # InputRequired, not DataRequired: a time that cannot be read keeps its own message ("Not a valid datetime").
    scheduled_at = DateTimeLocalField(
        "When", format="%Y-%m-%dT%H:%M", validators=[InputRequired(), within_booking_window]
    )
    duration_minutes = IntegerField(
        "Minutes",
        validators=[Optional(), NumberRange(min=1, max=24 * 60)],
        description="How long the session lasts; leave empty for the modality's usual length.",
    )
    resources = SelectMultipleField(
        "Rooms and devices",
        coerce=int,
        validators=[Optional()],
        description="Leave empty to take the first free room (and device) the modality needs.",
    )
    confirm_outside_hours = BooleanField(
        "Confirm outside working hours (managers)",
        description="A booking outside the practitioner's working hours or on their time off needs a manager's "
        "confirmation; it is audited.",
    )
    notes = TextAreaField("Booking notes", validators=[Optional(), Length(max=2000)])
    course = HiddenField()
    # The modality whose booking questions the page showed: a booking for another is not booked unseen.
    questions_for = HiddenField()


class RescheduleForm(PolicyFlaskForm):
    """Move a booking: the new time (at the new location), practitioner and location, and why (optional)."""

    scheduled_at = DateTimeLocalField(
        "New time", format="%Y-%m-%dT%H:%M", validators=[InputRequired(), within_booking_window]
    )
    practitioner = SelectField("Practitioner", coerce=int, validators=[DataRequired()])
    location = SelectField("Location", coerce=int, validators=[DataRequired()])
    reason = TextAreaField(
        "Why it moves",
        validators=[Optional(), Length(max=255)],
        description="Optional: the client asked, the practitioner is away ...",
    )
    confirm_outside_hours = BooleanField(
        "Confirm outside working hours (managers)",
        description="A move outside the practitioner's working hours or onto their time off needs a manager's "
        "confirmation; it is audited.",
    )
    expected_at = HiddenField()
    resource = HiddenField()  # a room's or device's column of the calendar, when the booking is dropped on one
    next = HiddenField()


class FindTimeForm(PolicyPlainForm):
    """Find a time (read from the query string): for whom, what, where, from which day."""

    client = ClientField("Client", validators=[DataRequired()])
    modality = SelectField("Modality", validators=[DataRequired()])
    location = SelectField("Location", coerce=int, validators=[DataRequired()])
    first_day = DateField(
        "From",
        validators=[Optional(), within_booking_window],
        description="The next 14 days from this day (today if empty).",
    )


class RecordBaseForm(PolicyFlaskForm):
    performed_at = DateTimeLocalField("Performed at", format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    notes = TextAreaField("Treatment notes", validators=[Optional(), Length(max=20000)])
    acknowledgement_note = TextAreaField(
        "Acknowledge remaining warnings",
        validators=[Optional(), Length(max=1000)],
        description="If screening warns, say how you handled it; the note is stored with each warning.",
    )


class PluginFormError(Exception):
    """The plugin that owns a modality could not give one of its forms (its form hook raised or answered with
    something other than a dict of fields): what depends on that form is refused, naming the plugin."""

    def __init__(self, plugin, hook_name, modality, error):
        self.plugin, self.hook_name, self.modality = plugin, hook_name, modality
        super().__init__(
            f"The plugin {plugin!r} could not give its form for {registry().modality_label(modality)} "
            f"({hook_name} failed: {type(error).__name__}). Nothing was saved; tell the clinic's administrator."
        )


def plugin_fields(hook_name, modality, settings=None):
    """{name: unbound field} from the answer of the plugin that owns ``modality`` to a form hook
    (``treatment_form_fields`` or ``booking_form_fields``), given the clinic's settings (read when not given).

    Other plugins' answers (and failures) are ignored; the owner's failure raises :class:`PluginFormError`."""
    owner = registry().modality_plugin.get(modality)
    if owner is None:
        return {}
    settings = effective_settings() if settings is None else settings
    for name, answer, error in each_implementation(registry().pm, hook_name, modality=modality, settings=settings):
        if name != owner:
            continue
        if error is None and answer is not None and not isinstance(answer, dict):
            error = TypeError(f"returned {type(answer).__name__}, not a dict of fields")
        if error is not None:
            log.error("plugin %s: %s(%r) failed", name, hook_name, modality, exc_info=error)
            raise PluginFormError(name, hook_name, modality, error)
        return dict(answer or {})
    return {}


def _escaped(unbound):
    """Flask-Admin renders help text with |safe; plugin text is escaped here, so it shows as written."""
    if not unbound.kwargs.get("description"):
        return unbound
    escaped = unbound.field_class(
        *unbound.args, **{**unbound.kwargs, "description": escape(str(unbound.kwargs["description"]))}
    )
    escaped.creation_counter = unbound.creation_counter  # WTForms orders fields by this counter
    return escaped


def details_form_class(modality, settings=None):
    """A form class of the fields the modality's plugin records (none if no loaded plugin answers), in its order,
    then any field it asks at booking that the recording form does not repeat (so the answer is kept)."""
    settings = effective_settings() if settings is None else settings
    fields = plugin_fields("treatment_form_fields", modality, settings)
    for name, unbound in plugin_fields("booking_form_fields", modality, settings).items():
        fields.setdefault(name, unbound)
    return type("DetailsForm", (PolicyPlainForm,), {name: _escaped(unbound) for name, unbound in fields.items()})


def booking_form_class(modality, settings=None):
    """A form class of the fields the modality's plugin asks when a treatment is booked, or None when it asks none."""
    fields = plugin_fields("booking_form_fields", modality, settings) if modality in registry().modalities else {}
    if not fields:
        return None
    return type("BookingDetailsForm", (PolicyPlainForm,), {name: _escaped(unbound) for name, unbound in fields.items()})


def book_form_class(modality):
    """The booking form, with the modality's booking fields under ``details`` when its plugin asks any."""
    details = booking_form_class(modality)
    if details is None:
        return BookForm
    return type("BookForm", (BookForm,), {"details": FormField(details, label=""), "questions_of": modality})


def fill_details(subform, details):
    """Show stored ``details`` (as :func:`details_from_form` wrote them) in the form's fields of the same names.

    A stored answer the field can no longer read (the plugin changed the field's type since the booking) leaves the
    field empty, with an error quoting the stored answer, so the booking can still be recorded."""
    for name, field in subform._fields.items():
        value = (details or {}).get(name)
        if value is None:
            continue
        try:
            if isinstance(field, AjaxSelectField):
                value = field.loader.get_one(value)
            elif isinstance(field, DecimalField):
                value = Decimal(str(value))
                if not value.is_finite():
                    raise InvalidOperation(value)
            elif isinstance(field, DateField):
                value = date.fromisoformat(value)
            elif isinstance(field, DateTimeField):
                value = datetime.fromisoformat(value)
        except (ValueError, TypeError, ArithmeticError):
            field.data = None
            field.errors = [f'The stored answer "{value}" could not be read; enter it again.']
            continue
        field.data = value


def _product_fields(modality):
    """{name: categories} of the product fields in the modality's plugin form (the products a session may use)."""
    return {
        name: tuple(unbound.kwargs.get("categories") or ())
        for name, unbound in plugin_fields("treatment_form_fields", modality).items()
        if isinstance(unbound.field_class, type) and issubclass(unbound.field_class, ProductField)
    }


def _lot_id(value):
    """A chosen lot's id; empty means the first to expire."""
    if value in (None, "", "None"):
        return None
    return int(value)


LOT_HELP = (
    "The lot you opened. Unless you choose one, the first to expire is used. Expired lots and lots on hold "
    "are not listed."
)


def lots_form_class(modality):
    """One "lot opened" select for each product field of the plugin's form, under the same name; the view fills in
    the lots usable at the treatment's location (:func:`fill_lot_choices`)."""
    fields = {
        name: SelectField(
            "Lot opened", coerce=_lot_id, validate_choice=False, validators=[Optional()], description=LOT_HELP
        )
        for name in _product_fields(modality)
    }
    return type("LotsForm", (PolicyPlainForm,), fields)


def fill_lot_choices(form, modality, lots):
    """Offer, in each "lot opened" select, the ``lots`` of the categories its product field picks from (they come
    usable and first-expiry-first per product): the first to expire is the default."""
    categories = _product_fields(modality)
    for name, field in form.lots.form._fields.items():
        wanted = categories.get(name) or ()
        choices, firsts = [("", "The first to expire")], set()
        for lot in lots:
            if wanted and lot.product.category not in wanted:
                continue
            first = lot.product_id not in firsts
            firsts.add(lot.product_id)
            expiry = f"expires {lot.expires_on.isoformat()}" if lot.expires_on else "no expiry"
            choices.append(
                (
                    lot.id,
                    f"{lot.product.name}: lot {lot.lot_number}, {expiry}, "
                    f"{lot.quantity.normalize():f} {lot.product.unit} on hand"
                    + (" (first to expire)" if first else ""),
                )
            )
        field.choices = choices


def chosen_lot_ids(form):
    """The ids of the lots chosen in the record form (none for "the first to expire")."""
    return [field.data for field in form.lots.form._fields.values() if field.data is not None]


def record_form_class(modality):
    """The record form for a modality: the core's fields plus, under ``details``, the plugin's own fields, and under
    ``lots`` a "lot opened" choice for each of its product fields."""
    return type(
        "RecordForm",
        (RecordBaseForm,),
        {
            "details": FormField(details_form_class(modality), label=""),
            "lots": FormField(lots_form_class(modality), label=""),
        },
    )


def details_from_form(subform):
    """Plugin form data as JSON: products by id, dates and decimals as text."""
    data = {}
    for name, field in subform._fields.items():
        value = field.data
        if hasattr(value, "id") and hasattr(value, "__table__"):
            value = value.id
        elif isinstance(value, (date, datetime)):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = format(value, "f")
        data[name] = value
    return data


def _shown(field, value):
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(field, AjaxSelectField):
        record = field.loader.get_one(value)
        return str(record) if record is not None else f"#{value} (no longer on file)"
    if isinstance(field, SelectFieldBase):
        labels = {str(choice[0]): str(choice[1]) for choice in field.iter_choices()}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)
    if isinstance(field, BooleanField):
        return "yes" if value else "no"
    return str(value)


def details_for_display(treatment, settings=None):
    """[(label, text)] of a treatment's stored details, labelled and worded as the plugin's form shows them (given
    the clinic's settings, read when not given: a page listing many treatments reads them once).

    Keys the loaded plugin's form does not know (a plugin changed since) are still listed, by key; when no loaded
    plugin provides the modality, or its plugin cannot give its form, every key and value is listed exactly as stored.
    """
    details = dict(treatment.details or {})
    try:
        form = (
            details_form_class(treatment.modality, settings)() if treatment.modality in registry().modalities else None
        )
    except PluginFormError:
        form = None  # logged; the details are still shown, as stored
    if form is None:
        return [
            (key, json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value)
            for key, value in details.items()
        ]
    shown = [(field.label.text, _shown(field, details.pop(name, None))) for name, field in form._fields.items()]
    shown += [
        (key.replace("_", " ").capitalize(), "-" if value in (None, "") else str(value))
        for key, value in details.items()
    ]
    return shown
