"""Client views: the clinical record (practitioners, managers), the front desk's contact view, history, consents."""

from flask import request
from flask_admin import expose
from flask_security import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from wtforms import ValidationError
from wtforms.validators import DataRequired, Length

from ..audit import audit, audit_read
from ..clock import local_today, now
from ..extensions import db
from ..forms import client_lookup
from ..input_policy import policy_form_view
from ..models import Client, ScreeningFinding, Treatment
from ..plugins import registry
from ..roles import CLINICAL_ROLES
from ..transitions import change_once
from ..treatment_flow import attendance
from .archiving import ArchiveListActionMixin, ArchiveRefused
from .base import SecuredModelView
from .changes import changes_of
from .client_contact import (
    CONTACT_COLUMNS,
    CONTACT_FORM_ARGS,
    CONTACT_FORM_OVERRIDES,
    CONTACT_LABELS,
    ContactConsentMixin,
    client_messages,
    format_contact,
)
from .client_fields import ClientFieldsMixin, format_client_fields
from .duplicate_check import DuplicateWarningMixin
from .health_history import HEALTH_ENTRY_INLINE, KeptInlineConverter, audit_entries, format_history, review_entries
from .keyset import KeysetPagerMixin
from .registered_choices import RegisteredChoiceField
from .validators import not_in_future


def client_treatments(client_id):
    """A client's treatments, newest first, with their findings and practitioner loaded in a fixed number of queries."""
    return (
        db.session.execute(
            db.select(Treatment)
            .where(Treatment.client_id == client_id, Treatment.archived_at.is_(None))
            .options(
                selectinload(Treatment.findings).selectinload(ScreeningFinding.acknowledged_by),
                selectinload(Treatment.findings).selectinload(ScreeningFinding.overridden_by),
                selectinload(Treatment.practitioner),
                selectinload(Treatment.course),
            )
            .order_by(Treatment.scheduled_at.desc())
        )
        .scalars()
        .all()
    )


class ClientRecordMixin:
    """The details page of a client shows their treatments (and, to clinical roles, each one's screening)."""

    details_template = "admin/client_details.html"

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs["treatments"] = client_treatments(kwargs["model"].id)
            kwargs["attendance"] = attendance(kwargs["model"].id)
            kwargs["client_messages"] = client_messages(kwargs["model"].id)
            kwargs["message_channel_label"] = registry().message_channel_label
            kwargs["modality_label"] = registry().modality_label
        return super().render(template, **kwargs)


class ClientScopeMixin:
    """Lists and fetches only rows of active clients (or, with ``archived``, of archived ones): the client table
    itself, or, with ``belongs_to_client``, records that belong to a client (history, consents, courses)."""

    archived = False
    belongs_to_client = False

    def _scoped(self, query):
        if self.belongs_to_client:
            query = query.join(Client)
        return query.filter(Client.archived_at.is_not(None) if self.archived else Client.archived_at.is_(None))

    def get_query(self):
        return self._scoped(super().get_query())

    def get_count_query(self):
        return self._scoped(super().get_count_query())

    def _client_id(self, model):
        return model.client_id if self.belongs_to_client else model.id


class AuditedClientViewMixin(ClientScopeMixin):
    """Client data, scoped to active clients: every list, read and write of it is written to the audit log."""

    audit_prefix = "client"

    @expose("/")
    def index_view(self):
        response = super().index_view()
        audit_read(
            f"{self.audit_prefix}.list",
            object_type=self.model.__name__,
            detail={
                "search": request.args.get("search"),
                "page": request.args.get("page"),
                "cursor": request.args.get("after") or request.args.get("before"),
            },
        )
        return response

    @expose("/details/")
    def details_view(self):
        response = super().details_view()
        model = self.get_one(request.args.get("id"))
        if model is not None:
            audit_read(f"{self.audit_prefix}.view", obj=model, client_id=self._client_id(model))
        return response

    @expose("/edit/", methods=("GET", "POST"))
    @policy_form_view
    def edit_view(self):
        if request.method == "GET":
            model = self.get_one(request.args.get("id"))
            if model is not None:
                audit_read(
                    f"{self.audit_prefix}.view", obj=model, client_id=self._client_id(model), detail={"form": "edit"}
                )
        return super().edit_view()

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        changes = changes_of(model)  # before the flush, which clears the attribute history
        db.session.flush()
        audit(
            f"{self.audit_prefix}.{'create' if is_created else 'update'}",
            obj=model,
            client_id=self._client_id(model),
            detail={"changes": changes},
        )


def _modality_choices():
    return registry().modality_choices()


def _format_consents(view, context, model, name):
    reg = registry()
    today = local_today()
    items = [
        Markup("<li>{}: signed {}{}</li>").format(
            reg.modality_label(c.modality), c.signed_on.isoformat(), "" if c.valid_on(today) else " (not valid today)"
        )
        for c in model.consents
    ]
    return Markup("<ul class='mb-0'>{}</ul>").format(Markup("").join(items)) if items else "none on file"


class ClientView(
    ContactConsentMixin,
    ClientFieldsMixin,
    DuplicateWarningMixin,
    ArchiveListActionMixin,
    ClientRecordMixin,
    AuditedClientViewMixin,
    KeysetPagerMixin,
    SecuredModelView,
):
    """The clinical client record: demographics, health history and clinical notes."""

    archive_noun = "client"
    archive_explanation = (
        "Archived records leave the lists and stay on record: managers find them under Archived "
        "clients, and the audit log keeps every access."
    )

    allowed_roles = CLINICAL_ROLES
    create_roles = edit_roles = CLINICAL_ROLES
    column_list = ("last_name", "first_name", "date_of_birth", "email", "phone", "intake_reviewed_on", "created_at")
    column_details_list = (
        "first_name",
        "last_name",
        "date_of_birth",
        "email",
        "phone",
        "contact_consent",
        "intake_reviewed_on",
        "plugin_fields",
        "health_entries",
        "consents",
        "clinical_notes",
        "created_at",
    )
    column_labels = {
        "health_entries": "Health history",
        "intake_reviewed_on": "History reviewed on",
        "date_of_birth": "Born",
        "plugin_fields": "Other details",
        **CONTACT_LABELS,
    }
    column_searchable_list = ("last_name", "first_name", "email")
    column_sortable_list = ("last_name", "created_at")
    column_filters = ("last_name", "email", "created_at")
    column_default_sort = [("last_name", False), ("first_name", False)]
    column_formatters_detail = {
        "health_entries": format_history,
        "consents": _format_consents,
        "plugin_fields": format_client_fields,
        "contact_consent": format_contact,
    }
    form_columns = (
        "first_name",
        "last_name",
        "date_of_birth",
        "email",
        "phone",
        *CONTACT_COLUMNS,
        "intake_reviewed_on",
        "clinical_notes",
        "health_entries",
    )
    form_args = {
        "first_name": {"validators": [DataRequired(), Length(max=80)]},
        "last_name": {"validators": [DataRequired(), Length(max=80)]},
        "date_of_birth": {"validators": [not_in_future]},
        "intake_reviewed_on": {"validators": [not_in_future]},
        "clinical_notes": {"validators": [Length(max=20000)]},
        "phone": {"validators": [Length(max=40)]},
        **CONTACT_FORM_ARGS,
    }
    form_overrides = CONTACT_FORM_OVERRIDES
    inline_models = [HEALTH_ENTRY_INLINE]
    inline_model_form_converter = KeptInlineConverter

    def on_model_change(self, form, model, is_created):
        reviewed = review_entries(model, current_user._get_current_object())
        super().on_model_change(form, model, is_created)
        audit_entries(model, reviewed)

    def archive_records(self, clients, reason):
        at = now()
        for client in clients:
            if not change_once(
                client,
                lambda c: (c.archived_at.is_(None),),
                archived_at=at,
                archived_by_id=current_user.id,
                archive_reason=reason,
            ):
                db.session.rollback()
                raise ArchiveRefused(f"{client} was archived already; nothing was archived.")
            audit("client.archive", obj=client, client_id=client.id, detail={"reason": reason, "with": len(clients)})
        db.session.commit()


class ClientDeskView(
    ContactConsentMixin,
    DuplicateWarningMixin,
    ClientRecordMixin,
    AuditedClientViewMixin,
    KeysetPagerMixin,
    SecuredModelView,
):
    """The front desk's view of clients: contact details only, no health history or clinical notes."""

    allowed_roles = ("front_desk",)
    create_roles = edit_roles = ("front_desk",)
    column_list = ("last_name", "first_name", "date_of_birth", "email", "phone")
    column_details_list = ("first_name", "last_name", "date_of_birth", "email", "phone", "contact_consent", "consents")
    column_formatters_detail = {"consents": _format_consents, "contact_consent": format_contact}
    column_labels = CONTACT_LABELS
    column_searchable_list = ("last_name", "first_name", "email")
    column_sortable_list = ("last_name",)
    column_default_sort = [("last_name", False), ("first_name", False)]
    form_columns = ("first_name", "last_name", "date_of_birth", "email", "phone", *CONTACT_COLUMNS)
    form_args = ClientView.form_args
    form_overrides = CONTACT_FORM_OVERRIDES


class ArchivedClientView(AuditedClientViewMixin, KeysetPagerMixin, SecuredModelView):
    """Archived clients, for managers: read-only, kept for the record and the audit."""

    allowed_roles = ("admin", "manager")
    audit_prefix = "client.archived"
    archived = True
    can_view_details = True
    column_list = ("last_name", "first_name", "date_of_birth", "archived_at", "archive_reason")
    column_details_list = ClientView.column_details_list + ("archived_at", "archive_reason")
    column_formatters_detail = ClientView.column_formatters_detail
    column_labels = ClientView.column_labels
    column_searchable_list = ("last_name", "first_name", "email")
    column_sortable_list = ("last_name", "archived_at")
    column_default_sort = ("archived_at", True)


class HealthEntryView(AuditedClientViewMixin, SecuredModelView):
    """Health-history entries across clients, to find who has a condition; edited on the client's record."""

    allowed_roles = CLINICAL_ROLES
    audit_prefix = "health_history"
    belongs_to_client = True
    can_view_details = False
    column_list = ("client", "code", "onset", "ended", "notes", "recorded_by", "recorded_at", "entered_in_error_reason")
    column_labels = {"code": "Condition", "onset": "Started / date", "entered_in_error_reason": "Entered in error"}
    column_filters = ("code", "onset")
    column_sortable_list = ("code", "onset")
    column_default_sort = ("onset", True)
    column_formatters = {"code": lambda v, c, m, n: registry().condition_label(m.code)}


class ConsentView(AuditedClientViewMixin, SecuredModelView):
    """Consents per modality; front desk records signed forms, and nobody deletes them (withdrawal is a date)."""

    allowed_roles = CLINICAL_ROLES + ("front_desk",)
    create_roles = edit_roles = CLINICAL_ROLES + ("front_desk",)
    audit_prefix = "consent"
    belongs_to_client = True
    create_template = "admin/consent_create.html"
    column_list = ("client", "modality", "signed_on", "expires_on", "withdrawn_on")
    column_details_list = ("client", "modality", "signed_on", "expires_on", "withdrawn_on", "recorded_by", "text")
    column_labels = {"text": "What the client consented to"}
    column_formatters_detail = {
        "modality": lambda v, c, m, n: registry().modality_label(m.modality),
        "text": lambda v, c, m, n: v.consent_text(m.modality) or "(the modality's plugin gives no text)",
    }
    column_filters = ("modality", "signed_on", "expires_on")
    column_sortable_list = ("signed_on",)
    column_default_sort = ("signed_on", True)
    column_formatters = {"modality": lambda v, c, m, n: registry().modality_label(m.modality)}
    form_columns = ("client", "modality", "signed_on", "expires_on", "withdrawn_on")
    form_overrides = {"modality": RegisteredChoiceField}
    form_args = {
        "modality": {
            "choices": _modality_choices,
            "unknown_label": lambda key: registry().modality_label(key),
            "validators": [DataRequired()],
        },
        "signed_on": {"validators": [DataRequired(), not_in_future]},
    }

    @property
    def form_ajax_refs(self):
        return {"client": client_lookup()}

    @staticmethod
    def consent_text(modality):
        """The text the modality's plugin gives the client to read and sign."""
        found = registry().modalities.get(modality)
        return found.consent_text if found else ""

    def consent_texts(self):
        """[(label, text)] of every loaded modality, for the page where a signed consent is recorded."""
        return [(label, self.consent_text(key)) for key, label in registry().modality_choices()]

    def create_form(self, obj=None):
        """Coming from a printed consent form ("Record as signed"), start with its client and modality."""
        form = super().create_form(obj)
        if request.method == "GET":
            if request.args.get("modality") in registry().modalities:
                form.modality.data = request.args["modality"]
            client = db.session.get(Client, request.args.get("client_id", type=int) or 0)
            if client is not None and client.archived_at is None:
                form.client.data = client
                audit_read("client.view", obj=client, client_id=client.id, detail={"form": "consent"})
        return form

    def on_model_change(self, form, model, is_created):
        if model.client is None:
            raise ValidationError("Choose the client.")
        if model.expires_on and model.expires_on < model.signed_on:
            raise ValidationError("The consent cannot expire before it was signed.")
        if model.withdrawn_on and model.withdrawn_on < model.signed_on:
            raise ValidationError("The consent cannot be withdrawn before it was signed.")
        if is_created:
            model.recorded_by = current_user._get_current_object()
        super().on_model_change(form, model, is_created)
