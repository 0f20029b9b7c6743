"""Screening is only as good as the health history: warn when it was never reviewed, or not recently."""

from clinicadmin.plugin_api import Finding, SettingSpec, hookimpl
from clinicadmin.wording import days

#: The name a finding of this check shows as its source.
LABEL = "Health history review"

SETTING = "core.intake_review_valid_days"


@hookimpl
def register_settings():
    return [
        SettingSpec(
            SETTING,
            "Health history must be reviewed within (days)",
            365,
            int,
            "A treatment warns when the client's health history was reviewed longer ago than this.",
            minimum=1,
            maximum=3650,
        )
    ]


@hookimpl
def check_contraindications(treatment, history, settings):
    reviewed = treatment.client.intake_reviewed_on
    if reviewed is None:
        return [
            Finding(
                "intake-not-reviewed",
                "warn",
                "The client's health history has never been reviewed; confirm it before treating.",
            )
        ]
    age = (treatment.day - reviewed).days
    if age > settings[SETTING]:
        return [
            Finding(
                "intake-out-of-date",
                "warn",
                f"The client's health history was last reviewed {days(age)} ago; confirm it is current.",
            )
        ]
    return []
