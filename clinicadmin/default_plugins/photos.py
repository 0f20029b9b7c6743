"""The core's photo setting: whether a client's printable treatment history shows the photos of each session."""

from clinicadmin.plugin_api import SettingSpec, hookimpl

HISTORY_SETTING = "core.photos_in_history"


@hookimpl
def register_settings():
    return [
        SettingSpec(
            HISTORY_SETTING,
            "Show photos in the printable treatment history",
            False,
            bool,
            help="Each performed session's photos (not archived ones) are printed under it.",
        )
    ]
