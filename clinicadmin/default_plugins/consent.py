"""A client must have signed, unexpired, unwithdrawn consent for the modality on the treatment's day."""

from clinicadmin.plugin_api import Finding, hookimpl

#: The name a finding of this check shows as its source.
LABEL = "Client's consent"


def _why_not(consents, day):
    if all(c.signed_on > day for c in consents):
        return f"was signed after the treatment's day ({day.isoformat()})"
    if any(c.withdrawn_on is not None and c.withdrawn_on <= day for c in consents):
        return f"was withdrawn by {day.isoformat()}"
    return f"had expired by {day.isoformat()}"


@hookimpl
def check_contraindications(treatment, history, settings):
    day = treatment.day
    consents = [c for c in treatment.client.consents if c.modality == treatment.modality]
    if any(c.valid_on(day) for c in consents):
        return []
    if consents:
        return [
            Finding(
                "consent-not-valid",
                "block",
                f"The client's consent for this modality {_why_not(consents, day)}; a new signed consent is needed.",
            )
        ]
    return [Finding("consent-missing", "block", "No signed consent for this modality is on file.")]
