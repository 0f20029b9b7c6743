"""A practitioner performs only the modalities they hold a valid certification for."""
from clinicadmin.plugin_api import Finding, hookimpl


@hookimpl
def check_contraindications(treatment, history, settings):
    day = treatment.day
    practitioner = treatment.practitioner
    certs = [c for c in practitioner.certifications if c.modality == treatment.modality]
    if any(c.valid_on(day) for c in certs):
        return []
    if certs:
        return [Finding("practitioner-certification-expired", "block",
                        f"{practitioner}'s certification for this modality is not valid on {day.isoformat()}.")]
    return [Finding("practitioner-not-certified", "block",
                    f"{practitioner} holds no certification for this modality.")]
