"""The clinic's name, address and phone as clinic settings, for the paper the clinic hands out (``letterhead.py``)."""

from clinicadmin.plugin_api import SettingSpec, hookimpl

NAME = "core.clinic_name"
ADDRESS = "core.clinic_address"
PHONE = "core.clinic_phone"
PRINTED = "Printed at the top of aftercare sheets, consent forms and the day sheet."


@hookimpl
def register_settings():
    return [
        SettingSpec(NAME, "Clinic name", "", str, help=f"{PRINTED} Empty: the name the server was set up with."),
        SettingSpec(ADDRESS, "Clinic address", "", str, help=PRINTED),
        SettingSpec(PHONE, "Clinic phone", "", str, help=PRINTED),
    ]
