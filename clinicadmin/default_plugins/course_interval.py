"""Sessions of a modality must be at least the modality's minimum interval apart (a setting the plugin names)."""
from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.plugin_api import Finding, hookimpl
from clinicadmin.plugins import registry


@hookimpl
def check_contraindications(treatment, history, settings):
    modality = registry().modalities.get(treatment.modality)
    if modality is None or not modality.min_interval_setting:
        return []
    min_days = settings[modality.min_interval_setting]
    if not min_days:
        return []
    when = treatment.performed_at or treatment.scheduled_at
    last = db.session.execute(
        db.select(db.func.max(Treatment.performed_at)).where(
            Treatment.client_id == treatment.client_id,
            Treatment.modality == treatment.modality,
            Treatment.status == "performed",
            Treatment.id != treatment.id,
            Treatment.performed_at <= when,
        )
    ).scalar()
    if last is None:
        return []
    gap = (when.date() - last.date()).days
    if gap < min_days:
        return [Finding("course-interval-too-short", "warn",
                        f"The last {modality.label} session was {gap} days ago; the minimum interval is {min_days} days.")]
    return []
