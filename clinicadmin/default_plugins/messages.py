"""The core's messages to clients: the e-mail channel and how long before a booking its reminder goes out."""

from clinicadmin.plugin_api import MessageChannel, SettingSpec, hookimpl

REMINDER_LEAD_HOURS = "core.reminder_lead_hours"


@hookimpl
def register_message_channels():
    return [MessageChannel("email", "E-mail", address="email")]


@hookimpl
def register_settings():
    return [
        SettingSpec(
            REMINDER_LEAD_HOURS,
            "Booking reminders are sent (hours before the booking)",
            24,
            help="Only to clients who agreed to be contacted, on the channel they chose.",
            minimum=1,
            maximum=336,
        )
    ]
