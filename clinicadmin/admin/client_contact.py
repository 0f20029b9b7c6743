"""Whether a client agreed to be contacted (reminders, aftercare) and on which channel: on the client forms, kept with
who recorded it and when, and the client's message log on the details page. Not a treatment consent."""

from flask_security import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, ValidationError

from ..clock import now, shown
from ..extensions import db
from ..models import ClientMessage, Treatment
from ..plugins import registry
from .registered_choices import RegisteredChoiceField

CONTACT_COLUMNS = ("contact_consent", "contact_channel")
CONTACT_LABELS = {
    "contact_consent": "Agrees to be contacted",
    "contact_channel": "Reminders and aftercare by",
}


def _channel_choices():
    return [("", "(not chosen)"), *registry().message_channel_choices()]


CONTACT_FORM_ARGS = {
    "contact_consent": {
        "description": "The client agreed to booking reminders and aftercare messages on the channel below.",
    },
    "contact_channel": {
        "choices": _channel_choices,
        "unknown_label": lambda key: registry().message_channel_label(key),
    },
}
CONTACT_FORM_OVERRIDES = {"contact_consent": BooleanField, "contact_channel": RegisteredChoiceField}


def format_contact(view, context, model, name):
    """ "Yes, by E-mail (recorded by Ann Manager, 2026-12-02 10:00)" or "No"."""
    if not model.contact_consent:
        recorded = model.contact_consent_by or model.contact_consent_at
        return Markup("No{}").format(_recorded(model) if recorded else "")
    return Markup("Yes, by {}{}").format(registry().message_channel_label(model.contact_channel), _recorded(model))


def _recorded(model):
    by = model.contact_consent_by or "?"
    return Markup(" (recorded by {}, {})").format(by, shown(model.contact_consent_at))


class ContactConsentMixin:
    """Checks and stamps the client's contact consent when a client form is saved."""

    def on_model_change(self, form, model, is_created):
        model.contact_channel = model.contact_channel or None
        if model.contact_consent:
            channel = registry().message_channels.get(model.contact_channel)
            if model.contact_channel is None:
                raise ValidationError("Choose the channel the client agreed to be contacted on.")
            if channel is not None and not (getattr(model, channel.address) or "").strip():
                raise ValidationError(
                    f"{channel.label} needs the client's {'e-mail address' if channel.address == 'email' else 'phone'}"
                    ": add it, or choose another channel."
                )
        history = db.inspect(model).attrs
        if (
            is_created
            and (model.contact_consent or model.contact_channel)
            or any(history[column].history.has_changes() for column in CONTACT_COLUMNS)
        ):
            model.contact_consent_at = now()
            model.contact_consent_by = current_user._get_current_object()
        super().on_model_change(form, model, is_created)


def client_messages(client_id, limit=50):
    """The client's latest messages, newest first."""
    return (
        db.session.execute(
            db.select(ClientMessage)
            .where(ClientMessage.client_id == client_id)
            .options(selectinload(ClientMessage.treatment).selectinload(Treatment.location))
            .order_by(ClientMessage.created_at.desc(), ClientMessage.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
