"""The plugin contract: every hook a ClinicAdmin plugin may implement. Documented one by one in docs/plugin-hooks.md.

An implementation may take any subset of a hook's parameters, by name (pluggy passes only those it names).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from os import PathLike

    from flask_admin import BaseView
    from wtforms.fields.core import UnboundField

    from .demo import DemoContext
    from .models import Treatment
    from .plugin_api import (
        ClientField,
        ConditionCode,
        Consumption,
        Finding,
        MessageChannel,
        Modality,
        ProductCategory,
        Qualification,
        Report,
        ResourceKind,
        SettingSpec,
    )
    from .screening import HealthHistory

hookspec = pluggy.HookspecMarker("clinicadmin")


@hookspec
def register_modality() -> Modality | None:
    """Return the :class:`~clinicadmin.plugin_api.Modality` this plugin provides, or None.

    Called once at start-up. The modality's ``key`` must be unique across plugins.

    :return: the modality, or None for a plugin that provides none.
    """


@hookspec
def register_qualifications() -> list[Qualification] | None:
    """Return a list of :class:`~clinicadmin.plugin_api.Qualification` (certifications that are not a modality).

    Called once at start-up. Managers certify staff for them like for a modality; a modality lists the ones it needs
    in ``Modality.requires``. Two plugins may register the same key only with the same label.

    :return: the qualifications, or None.
    """


@hookspec
def register_resource_kinds() -> list[ResourceKind] | None:
    """Return a list of :class:`~clinicadmin.plugin_api.ResourceKind` (a treatment room, a device).

    Called once at start-up. A modality lists the kinds a session takes in ``Modality.resources``; the clinic maps
    each kind to its rooms and devices per location. Two plugins may register the same key only with the same label.

    :return: the resource kinds, or None.
    """


@hookspec
def register_conditions() -> list[ConditionCode] | None:
    """Return a list of :class:`~clinicadmin.plugin_api.ConditionCode` the plugin's checks read.

    Called once at start-up. A code is the plugin's own unless ``shared=True``; two plugins may register the same code
    only when both mark it shared and give it the same label, kind and ``dated`` flag.

    :return: the condition codes, or None.
    """


@hookspec
def register_settings() -> list[SettingSpec] | None:
    """Return a list of :class:`~clinicadmin.plugin_api.SettingSpec` (waiting periods, intervals) with defaults.

    Called once at start-up; a manager edits the values in Settings. Keys are conventionally ``<plugin>.<name>``.

    :return: the settings, or None.
    """


@hookspec
def treatment_form_fields(modality: str, settings: Mapping[str, Any]) -> dict[str, UnboundField] | None:
    """Return a dict of unbound WTForms fields for the details of a ``modality`` treatment, or None.

    Only the plugin that owns ``modality`` answers (another plugin's answer stops start-up, as does a field name that is
    not an identifier, starts with ``_`` or is one of the form's own attributes); if it raises, the record page refuses
    naming the plugin and other pages list the stored details by key. The validated data is stored in
    ``Treatment.details``. Called for the recording form and to show a treatment's details; also once at start-up (with
    every setting at its default) to register the lookups the fields use, so a field's class and name must not depend on
    a setting.

    :param modality: the key of the modality whose form is built.
    :param settings: every registered setting key mapped to the clinic's current value (a default or a bound may
        come from one).
    :return: the fields by name, in form order, or None when the plugin does not own ``modality``.
    """


@hookspec
def booking_form_fields(modality: str, settings: Mapping[str, Any]) -> dict[str, UnboundField] | None:
    """Return a dict of unbound WTForms fields the front desk answers when a ``modality`` treatment is booked, or None.

    Only the plugin that owns ``modality`` answers (checked as for ``treatment_form_fields``), with a few fields
    screening needs before the day (the sites to inject, the agent of a peel); if it raises, nothing is booked for
    ``modality`` and the booking form names the plugin. A booking posted for a modality whose questions the page did not
    show is not made: the form comes back with them. Their validated data is stored in ``Treatment.details`` when the
    treatment is booked, so ``check_contraindications`` sees it at booking, review and recording; a field of the same
    name in ``treatment_form_fields`` is shown pre-filled on the recording form, and a booking field the recording form
    does not have is added to it, so the answer is kept and can be corrected. Bad input books nothing.

    :param modality: the key of the modality being booked.
    :param settings: every registered setting key mapped to the clinic's current value.
    :return: the fields by name, in form order, or None when the plugin does not own ``modality`` or asks nothing.
    """


@hookspec
def check_contraindications(
    treatment: Treatment, history: HealthHistory, settings: Mapping[str, Any]
) -> list[Finding] | None:
    """Return a list of :class:`~clinicadmin.plugin_api.Finding` for ``treatment``, or None.

    Called on every plugin separately when a treatment is booked, reviewed and recorded; a plugin checks only the
    treatments it knows about. An exception blocks the treatment.

    :param treatment: the treatment screened; ``treatment.details`` holds the booking fields' answers from booking
        on, and the recording form's data once it is recorded.
    :param history: the client's :class:`~clinicadmin.screening.HealthHistory` as of the treatment's date.
    :param settings: every registered setting key mapped to the clinic's current value.
    :return: the findings (an empty list when clear), or None when the plugin does not check this treatment.
    """


@hookspec
def consumables(treatment: Treatment) -> list[Consumption] | None:
    """Return a list of :class:`~clinicadmin.plugin_api.Consumption` that recording ``treatment`` uses up, or None.

    Called when a treatment is recorded as performed, inside the transaction that stores it.

    :param treatment: the treatment being recorded, with its ``details`` from the recording form.
    :return: what it uses up, or None when the plugin does not own the treatment's modality.
    """


@hookspec
def treatment_recorded(treatment: Treatment) -> None:
    """Store what the plugin keeps about a treatment just recorded as performed, in its own tables; return None.

    Called on every plugin inside the recording transaction, after the stock is consumed and before the commit, so
    what a plugin adds commits or rolls back with the treatment. An exception refuses the recording, naming the plugin.

    :param treatment: the treatment just recorded (flushed, so it has its id).
    :return: None; what the plugin stores is its own.
    """


@hookspec(firstresult=True)
def aftercare(treatment: Treatment, settings: Mapping[str, Any]) -> list[str] | None:
    """Return the aftercare instructions for ``treatment`` as a list of strings, or None if not the owner.

    The first non-None answer is used; it is printed for the client.

    :param treatment: the treatment whose aftercare sheet is printed.
    :param settings: every registered setting key mapped to the clinic's current value, so an instruction can
        follow a setting the clinic chose ("no retinoids for 7 days").
    :return: the instructions, one paragraph each, or None when the plugin does not own the treatment's modality.
    """


@hookspec
def register_reports() -> list[Report] | None:
    """Return a list of :class:`~clinicadmin.plugin_api.Report` to add to the Reports menu.

    Called once at start-up. Each report's ``roles`` lists who may run it.

    :return: the reports, or None.
    """


@hookspec
def register_migrations() -> str | PathLike[str] | None:
    """Return the folder of the plugin's own Alembic revisions (a path), or None if the plugin has no tables.

    Called once at start-up. The folder's revisions form a branch labelled with the plugin's name whose root
    ``depends_on`` a core revision; ``clinicadmin db upgrade`` applies the core's and every loaded plugin's branch.

    :return: the folder, or None.
    """


@hookspec
def register_admin_views() -> list[BaseView] | None:
    """Return a list of Flask-Admin views to add, each an instance of ``clinicadmin.admin.base.SecuredView``.

    Called once at start-up. Views of any other class are refused, so that every page requires login and a role.

    :return: the views, or None.
    """


@hookspec
def demo_data(demo: DemoContext) -> None:
    """Add the plugin's demo records (its products, lots, past treatments) through ``demo``.

    Called by ``clinicadmin demo-data`` after the core's demo clinic exists; must be idempotent (look before adding).

    :param demo: the :class:`~clinicadmin.demo.DemoContext`, with helpers that add products, lots and sessions.
    :return: None.
    """


# --- Vocabularies a plugin grows: product categories and client fields (issue 16, item 4) ---


@hookspec
def register_product_categories() -> list[ProductCategory] | None:
    """Return a list of :class:`~clinicadmin.plugin_api.ProductCategory` products may be filed under.

    Called once at start-up. Products are filed under a registered category; a ``ProductField`` names the categories
    it offers, each one registered or start-up stops naming the plugin. Two plugins may register the same key only
    with the same label.

    :return: the product categories, or None.
    """


@hookspec
def register_client_fields() -> list[ClientField] | None:
    """Return a list of :class:`~clinicadmin.plugin_api.ClientField`: facts kept on the client, not on a session.

    Called once at start-up. The fields appear on the client's form and details; checks read them through
    ``history.client_field(key)``. Two plugins may register the same key only with the same label and choices.

    :return: the client fields, or None.
    """


# --- Messages to clients (issue 17, part 6) ---


@hookspec
def register_message_channels() -> list[MessageChannel] | None:
    """Return a list of :class:`~clinicadmin.plugin_api.MessageChannel` the plugin sends messages on (``sms``).

    Called once at start-up. A client who agrees to be contacted chooses one of the registered channels; the core
    registers ``email`` and sends it itself. A plugin that registers another channel implements ``send_message``
    for it. Two plugins may register the same key only with the same label and address.

    :return: the channels, or None.
    """


@hookspec
def send_message(channel: str, recipient: str, subject: str, text: str, message_id: int) -> bool | None:
    """Send one message to a client on ``channel`` (never ``email``, which the core sends); return True once sent.

    Called by the reminder and aftercare runs, outside any transaction, once per message and attempt, one plugin at a
    time until one returns True; a plugin returns None for a channel it does not send. An exception marks the message
    failed with its text (retried later, up to the configured attempts); raising
    :class:`~clinicadmin.plugin_api.MessageRefused` marks it bounced (the address cannot receive it; not retried).
    When no plugin returns True the message is failed, saying that no plugin sends ``channel``.

    :param channel: the key of the client's chosen channel (``sms``).
    :param recipient: the client's address for the channel (a phone number for ``address="phone"``).
    :param subject: the subject line of the manager's template (a text message may leave it out).
    :param text: the message, rendered from the manager's template.
    :param message_id: the id of the message's row in the client's message log, the same on every attempt (a gateway
        may pass it on to recognise a repeat).
    :return: True when this plugin sent it, None when it does not send ``channel``.
    """


# --- Diagrams on the treatment form (issue 18, items 6-8) ---


@hookspec
def diagram_marks(treatment: Treatment, history: HealthHistory, settings: Mapping[str, Any]) -> dict[str, str] | None:
    """Return the codes of ``treatment``'s diagrams that screening forbids for this client now, each with why.

    Called on every plugin when the recording form draws the modality's
    :class:`~clinicadmin.plugin_api.Diagram` shapes; a plugin answers only for the treatments it knows about. Each
    code returned is drawn as forbidden, with its reason as the shape's title and in the legend under the drawing.
    Marks only show; the recording is still screened by ``check_contraindications``. If a plugin raises, the form says
    the marks could not be worked out, naming the plugin.

    :param treatment: the booked treatment being recorded.
    :param history: the client's :class:`~clinicadmin.screening.HealthHistory` as of the treatment's date.
    :param settings: every registered setting key mapped to the clinic's current value.
    :return: {code: why} (an empty dict when nothing is forbidden), or None when the plugin does not mark this
        treatment.
    """
