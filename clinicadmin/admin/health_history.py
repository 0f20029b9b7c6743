"""The health history on the client form: entries are added, dated, ended or marked entered in error; never deleted
and never recoded in place. Each change is audited on its own with before and after values.

Recoding is refused rather than audited: "pregnancy" silently becoming "asthma" on the same row would make the
record say asthma was recorded when pregnancy was. The right history is the wrong entry marked entered in error (or
ended) and a new entry, each with its own author and date.
"""

from flask_admin.contrib.sqla.fields import InlineModelFormList
from flask_admin.contrib.sqla.form import InlineModelConverter
from markupsafe import Markup
from sqlalchemy import inspect
from wtforms import ValidationError
from wtforms.validators import DataRequired, Length

from ..audit import audit
from ..clock import now, shown
from ..input_policy import real_text
from ..models import HealthEntry
from ..plugins import registry
from .changes import changes_of
from .registered_choices import RegisteredChoiceField
from .validators import not_in_future

#: What the form edits on an entry, and so what its audit rows compare.
ENTRY_FIELDS = ("code", "onset", "ended", "notes", "entered_in_error_reason")


class KeptInlineFormList(InlineModelFormList):
    """Inline rows with no delete box; a ``del-...`` field posted anyway is ignored."""

    def display_row_controls(self, field):
        return False

    def should_delete(self, field):
        return False


class KeptInlineConverter(InlineModelConverter):
    inline_field_list_type = KeptInlineFormList


def _condition_choices():
    return registry().condition_choices()


def _condition_label(code):
    return registry().condition_label(code)


HEALTH_ENTRY_INLINE = (
    HealthEntry,
    {
        "form_columns": ("id", "code", "onset", "ended", "notes", "entered_in_error_reason"),
        "form_overrides": {"code": RegisteredChoiceField},
        "form_args": {
            "code": {
                "label": "Condition",
                "choices": _condition_choices,
                "unknown_label": _condition_label,
                "validators": [DataRequired()],
            },
            "onset": {"label": "Started / date it happened", "validators": [not_in_future]},
            "ended": {"label": "Ended on (waiting periods count from this date)"},
            "notes": {"validators": [Length(max=500)]},
            "entered_in_error_reason": {
                "label": "Entered in error: why",
                "description": "Only for an entry that was never true: it then stays on the record, struck through, "
                "and screening ignores it. An entry that was true but is over gets an end date instead.",
                "validators": [Length(max=255)],
            },
        },
    },
)


def _blank_to_none(entry):
    """Text that says nothing (whitespace, invisible characters) is no text: a reason of zero-width spaces does not
    mark an entry entered in error."""
    for name in ("notes", "entered_in_error_reason"):
        if getattr(entry, name) is not None and not real_text(getattr(entry, name)):
            setattr(entry, name, None)


def _check_dates(entry, reg):
    condition = reg.conditions.get(entry.code)
    if condition is not None and condition.dated and entry.onset is None:
        raise ValidationError(f"{condition.label}: give the date it happened; screening depends on it.")
    if entry.onset and entry.ended and entry.ended < entry.onset:
        raise ValidationError(f"{reg.condition_label(entry.code)}: the end date is before the start.")


def review_entries(client, user):
    """Check what the form did to ``client``'s health history, stamp who did it, and return the audit rows to write
    as [(entry, action, changes)]. Raises ``ValidationError`` (nothing is written) for a recoded entry, a changed entry
    that is marked entered in error, or a new entry with a code no loaded plugin registers."""
    reg = registry()
    found = []
    for entry in client.health_entries:
        _blank_to_none(entry)
        label = reg.condition_label(entry.code)
        if inspect(entry).persistent:
            changes = {k: v for k, v in changes_of(entry).items() if k in ENTRY_FIELDS}
            if not changes:
                continue
            if "code" in changes:
                raise ValidationError(
                    f"{reg.condition_label(changes['code'][0])}: the condition of an entry cannot be changed. End it "
                    "or mark it entered in error, and add the right condition as a new entry."
                )
            if entry.entered_in_error_at is not None:
                raise ValidationError(f"{label} was marked entered in error; it stays on the record as it is.")
            if "entered_in_error_reason" in changes:
                if len(real_text(entry.entered_in_error_reason)) < 3:
                    raise ValidationError(f"{label}: say in words why it was entered in error.")
                entry.entered_in_error_at, entry.entered_in_error_by = now(), user
                action = "health_entry.entered_in_error"
            elif "ended" in changes and changes["ended"][0] is None:
                action = "health_entry.end"
            else:
                action = "health_entry.update"
        else:
            if entry.code not in reg.conditions:
                raise ValidationError(f"{label}: a new entry needs a condition from the loaded vocabulary.")
            if entry.entered_in_error_reason:
                raise ValidationError(f"{label}: a new entry cannot be entered in error; leave it out.")
            entry.recorded_by = user
            changes = {k: [None, str(getattr(entry, k))] for k in ENTRY_FIELDS if getattr(entry, k) is not None}
            action = "health_entry.add"
        _check_dates(entry, reg)
        found.append((entry, action, changes))
    return found


def audit_entries(client, reviewed):
    """Write one audit row per added or changed entry (after the flush that gave new entries their ids)."""
    for entry, action, changes in reviewed:
        audit(action, obj=entry, client_id=client.id, detail={"code": entry.code, "changes": changes})


def _dates(entry):
    if entry.onset:
        return (
            f" since {entry.onset.isoformat()}"
            if not entry.ended
            else f" {entry.onset.isoformat()} to {entry.ended.isoformat()}"
        )
    if entry.ended:
        return f" until {entry.ended.isoformat()}"
    return ""


def format_history(view, context, model, name):
    """The client's health history for the record page: current entries, then those entered in error, struck
    through with who marked them, when and why."""
    reg = registry()
    kept, wrong = [], []
    for e in model.health_entries:
        note = f" ({e.notes})" if e.notes else ""
        if e.entered_in_error_at is None:
            kept.append(Markup("<li>{}{}{}</li>").format(reg.condition_label(e.code), _dates(e), note))
        else:
            wrong.append(
                Markup("<li><s>{}{}{}</s> entered in error: {} ({}, {})</li>").format(
                    reg.condition_label(e.code),
                    _dates(e),
                    note,
                    e.entered_in_error_reason,
                    e.entered_in_error_by or "?",
                    shown(e.entered_in_error_at),
                )
            )
    if not kept and not wrong:
        return "none recorded"
    page = Markup("<ul class='mb-0'>{}</ul>").format(Markup("").join(kept)) if kept else Markup("none current")
    if wrong:
        page += Markup("<div class='text-muted'>Entered in error:</div><ul class='mb-0'>{}</ul>").format(
            Markup("").join(wrong)
        )
    return page
