"""The booking window's settings: how far back and ahead a treatment may be booked."""

from clinicadmin.booking_window import DAYS_AHEAD, DAYS_BACK, LATE_CANCEL_HOURS, RECORD_WITHIN
from clinicadmin.plugin_api import SettingSpec, hookimpl


@hookimpl
def register_settings():
    return [
        SettingSpec(
            DAYS_BACK,
            "Bookings may be entered for up to (days ago)",
            730,
            help="A session entered afterwards may be booked this far back.",
            minimum=0,
            maximum=3650,
        ),
        SettingSpec(DAYS_AHEAD, "Bookings may be made up to (days ahead)", 730, minimum=1, maximum=3650),
        SettingSpec(
            RECORD_WITHIN,
            "Sessions are recorded within (days of being performed)",
            3,
            help="Screening judges a session as of the day it was performed, so that day cannot be "
            "set further back than this.",
            minimum=0,
            maximum=30,
        ),
        SettingSpec(
            LATE_CANCEL_HOURS,
            "Notice a client gives to cancel (hours)",
            24,
            help="A client who cancels with less notice than this has cancelled late; late "
            "cancellations and no-shows are counted on the client's record.",
            minimum=0,
            maximum=336,
        ),
    ]
