"""The clinic's time zone: the default for every location that does not name its own."""

from clinicadmin.clock import DEFAULT_ZONE, TIME_ZONE, zone
from clinicadmin.plugin_api import SettingSpec, hookimpl


@hookimpl
def register_settings():
    return [
        SettingSpec(
            TIME_ZONE,
            "Time zone",
            DEFAULT_ZONE,
            type=str,
            validate=zone,
            help="An IANA name such as Europe/London or Australia/Sydney. Days, opening hours and every "
            "time shown follow it, at each location that does not set its own.",
        )
    ]
