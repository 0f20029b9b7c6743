"""Sessions of a modality must be at least the minimum interval apart, and a course has as many as were planned.

The minimum is the treatment's course's own interval when it has one, else the setting the modality names. Every
other performed or booked session of the same client and modality counts, before or after this one, so a booking
made too close to another is flagged as well as one recorded too soon after the last.
"""

from datetime import timedelta

from clinicadmin.clock import local_date
from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.models.types import UTCDateTime
from clinicadmin.plugin_api import Finding, hookimpl
from clinicadmin.plugins import registry
from clinicadmin.wording import days as in_days
from clinicadmin.wording import in_sentence

#: The name a finding of this check shows as its source.
LABEL = "Course and interval"


def _minimum_days(treatment, modality, settings):
    if treatment.course is not None and treatment.course.min_interval_days is not None:
        return treatment.course.min_interval_days
    if modality.min_interval_setting:
        return settings[modality.min_interval_setting]
    return 0


def _nearest_other_session(treatment, when, days):
    other_when = db.func.coalesce(Treatment.performed_at, Treatment.scheduled_at, type_=UTCDateTime)
    rows = (
        db.session.execute(
            db.select(other_when).where(
                Treatment.client_id == treatment.client_id,
                Treatment.modality == treatment.modality,
                Treatment.status.in_(("performed", "booked")),
                Treatment.archived_at.is_(None),
                Treatment.id != treatment.id,
                # a day wider than the interval: the gap is counted below in local dates (a day may be 25 hours)
                other_when > when - timedelta(days=days + 1),
                other_when < when + timedelta(days=days + 1),
            )
        )
        .scalars()
        .all()
    )
    # Dates, not times: two sessions on consecutive days are one day apart whatever the hour (days as the
    # treatment's location counts them).
    day = local_date(when, treatment.location)
    gaps = [(abs((day - local_date(other, treatment.location)).days), other) for other in rows]
    gaps = [(gap, other) for gap, other in gaps if gap < days]
    return min(gaps, default=None)


def _interval_finding(treatment, modality, settings):
    days = _minimum_days(treatment, modality, settings)
    if not days:
        return None
    when = treatment.performed_at or treatment.scheduled_at
    nearest = _nearest_other_session(treatment, when, days)
    if nearest is None:
        return None
    gap, other = nearest
    side = "before" if other <= when else "after"
    return Finding(
        "course-interval-too-short",
        "warn",
        f"Another {in_sentence(modality.label)} session is {in_days(gap)} {side} this one "
        f"({local_date(other, treatment.location).isoformat()}); the minimum interval is {in_days(days)}.",
    )


def _course_finding(treatment):
    course = treatment.course
    if course is None:
        return None
    done = db.session.execute(
        db.select(db.func.count(Treatment.id)).where(
            Treatment.course_id == course.id,
            Treatment.status == "performed",
            Treatment.archived_at.is_(None),
            Treatment.id != treatment.id,
        )
    ).scalar_one()
    if done >= course.planned_sessions:
        return Finding(
            "course-complete",
            "warn",
            f"All {course.planned_sessions} planned sessions of this course are done; "
            "extend the course or plan a new one.",
        )
    return None


@hookimpl
def check_contraindications(treatment, history, settings):
    modality = registry().modalities.get(treatment.modality)
    if modality is None:
        return []
    found = [_interval_finding(treatment, modality, settings), _course_finding(treatment)]
    return [f for f in found if f is not None]
