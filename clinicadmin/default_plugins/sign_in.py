"""The core's sign-in settings: whether the clinic requires two-factor sign-in of all staff."""
from clinicadmin.plugin_api import SettingSpec, hookimpl
from clinicadmin.two_factor import REQUIRE_SETTING


@hookimpl
def register_settings():
    return [SettingSpec(REQUIRE_SETTING, "Require two-factor sign-in (an authenticator app) for all staff", False, bool,
                        help="Staff without it are sent to set it up at their next page or login, you included.")]
