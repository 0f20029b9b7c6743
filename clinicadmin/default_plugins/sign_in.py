"""The core's sign-in settings: whether the clinic requires two-factor sign-in of all staff, and whether (and for how
many hours, at most 12) "Remember me" keeps someone signed in after the browser closes."""

from clinicadmin.plugin_api import SettingSpec, hookimpl
from clinicadmin.sessions import MAX_REMEMBER_HOURS, REMEMBER_SETTING
from clinicadmin.two_factor import REQUIRE_SETTING


@hookimpl
def register_settings():
    return [
        SettingSpec(
            REQUIRE_SETTING,
            "Require two-factor sign-in (an authenticator app) for all staff",
            False,
            bool,
            help="Staff without it are sent to set it up at their next page or login, you included.",
        ),
        SettingSpec(
            REMEMBER_SETTING,
            '"Remember me" at login: hours a sign-in may outlive the browser',
            0,
            int,
            minimum=0,
            maximum=MAX_REMEMBER_HOURS,
            help=f"0: not offered. At most {MAX_REMEMBER_HOURS}. Logging out, or the idle timeout, still ends it.",
        ),
    ]
