"""A practitioner performs only the modalities they hold a valid certification for, and holds every qualification
(such as injections) the modality requires. Scope of practice is a hard stop: no role can override it."""

from clinicadmin.plugin_api import Finding, hookimpl
from clinicadmin.plugins import registry

#: The name a finding of this check shows as its source.
LABEL = "Practitioner's certification"


def _finding(practitioner, scope, label, day):
    certs = [c for c in practitioner.certifications if c.scope == scope]
    if any(c.valid_on(day) for c in certs):
        return None
    if certs:
        return Finding(
            f"practitioner-certification-expired:{scope}",
            "block",
            f"{practitioner}'s certification for {label} is not valid on {day.isoformat()}.",
            overridable=False,
        )
    return Finding(
        f"practitioner-not-certified:{scope}",
        "block",
        f"{practitioner} holds no certification for {label}.",
        overridable=False,
    )


@hookimpl
def check_contraindications(treatment, history, settings):
    reg = registry()
    modality = reg.modalities.get(treatment.modality)
    scopes = [treatment.modality, *(modality.requires if modality else ())]
    findings = [_finding(treatment.practitioner, scope, reg.scope_label(scope), treatment.day) for scope in scopes]
    return [f for f in findings if f is not None]
