"""A client must have signed, unexpired, unwithdrawn consent for the modality on the treatment's day."""
from clinicadmin.plugin_api import Finding, hookimpl


@hookimpl
def check_contraindications(treatment, history, settings):
    day = treatment.day
    consents = [c for c in treatment.client.consents if c.modality == treatment.modality]
    if any(c.valid_on(day) for c in consents):
        return []
    if consents:
        return [Finding("consent-not-valid", "block",
                        f"The client's consent for this modality has expired or was withdrawn by {day.isoformat()}.")]
    return [Finding("consent-missing", "block", "No signed consent for this modality is on file.")]
