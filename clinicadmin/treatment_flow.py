"""Booking, reviewing and recording a treatment: each step one transaction, screened, audited.

Recording stores the plugin's details, screens again, requires every warning acknowledged and every block overridden
by a manager, then consumes what the plugin says the treatment uses, from the lots the practitioner chose or first
expiry first. Stock never blocks the clinical record: what the stock on file cannot give becomes a stock exception
for the stock clerk (:mod:`clinicadmin.stock_exceptions`). Any other failure rolls the whole step back.

Every step that changes a treatment's or a finding's state starts with a conditional UPDATE on the state it expects
(:func:`clinicadmin.transitions.change_once`): a second, concurrent or replayed run of the same step finds the state
changed, writes nothing, and is told who changed it first.
"""

from datetime import timedelta
from decimal import Decimal

from . import booking, clock
from .audit import audit
from .booking_window import LATE_CANCEL_HOURS, booking_window_problem
from .clinic_settings import effective_settings
from .clock import now, shown
from .extensions import db
from .first_session import note_performed, recompute
from .input_policy import real_text
from .models import BookingSlot, StockLot, Treatment, TreatmentResource
from .plugin_api import Consumption
from .plugins import each_implementation, registry
from .screening import answers_fingerprint, screen, summarise
from .stock import StockError, consume_available, fmt
from .stock_exceptions import open_shortfall
from .transitions import change_once, when
from .working_hours import outside_hours

OVERRIDE_ROLES = {"admin", "manager"}
ACKNOWLEDGE_ROLES = {"admin", "manager", "practitioner"}


class TreatmentRejected(Exception):
    """The step was refused and nothing was written; ``messages`` say why, for the user."""

    def __init__(self, *messages):
        self.messages = [m for m in messages if m]
        super().__init__("; ".join(self.messages))


def book(
    *,
    client,
    modality,
    practitioner,
    location,
    scheduled_at,
    user,
    course=None,
    notes=None,
    duration_minutes=None,
    resources=(),
    confirm_outside_hours=False,
    details=None,
) -> Treatment:
    """Create a booked treatment and screen it (stage ``booking``); commits.

    ``details`` are the validated answers to the modality's booking fields (``booking_form_fields``), stored in
    ``Treatment.details`` so screening sees them now and at review and recording.

    The session lasts ``duration_minutes`` (else the modality's default) and takes one resource of each kind the
    modality needs (those in ``resources``, else the first free one). It is refused, naming the conflict, when its
    practitioner, a resource or the client is booked at an overlapping time; outside the practitioner's working
    hours it needs ``confirm_outside_hours`` from a manager."""
    if (outside := booking_window_problem(scheduled_at, location=location)) is not None:
        raise TreatmentRejected(outside)
    if client.archived_at is not None:
        raise TreatmentRejected("This client's record is archived; restore it before booking.")
    if modality not in registry().modalities:
        raise TreatmentRejected(f"No loaded plugin provides the modality {modality!r}.")
    if course is not None and (course.client_id != client.id or course.modality != modality):
        raise TreatmentRejected("That course belongs to another client or modality.")
    span, off_hours = _span_in_hours(
        modality, scheduled_at, duration_minutes, practitioner, location, user, confirm_outside_hours
    )
    booking.hold_the_book()
    # Hold the client's row as the booking expects it (active): an archive or a merge committed a moment ago refuses
    # the booking instead of leaving it on a record nobody sees.
    if not change_once(client, lambda c: (c.archived_at.is_(None),), archived_at=None):
        db.session.rollback()
        raise TreatmentRejected("This client's record was archived or merged a moment ago; open the client again.")
    try:
        taken = _free_for(modality, location, resources, span, practitioner, client)
        treatment = Treatment(
            client=client,
            modality=modality,
            practitioner=practitioner,
            location=location,
            scheduled_at=scheduled_at,
            course=course,
            notes=notes,
            details=dict(details or {}),
            status="booked",
            created_by_id=user.id,
            **booking.times_of(span),
        )
        db.session.add(treatment)
        db.session.flush()
        booking.take(treatment, span=span, resources=taken)
    except booking.BookingConflict as exc:
        db.session.rollback()
        raise TreatmentRejected(*exc.messages) from None
    findings = screen(treatment, "booking")
    detail = {
        "modality": modality,
        "screening": treatment.screening_status,
        "findings": len(findings),
        "minutes": int((span.ends - span.starts).total_seconds() // 60),
        "resources": {kind: r.id for kind, r in sorted(taken.items())},
    }
    if off_hours:
        detail["outside_hours_confirmed"] = off_hours
    if treatment.details:
        detail["details"] = dict(treatment.details)  # the booking answers screening saw
    audit("treatment.book", obj=treatment, client_id=client.id, detail=detail)
    db.session.commit()
    return treatment


def rescreen(treatment):
    """Screen a booked treatment again (stage ``review``), e.g. after its client's history changed; commits."""
    _require_booked(treatment)
    run = treatment.screening_run
    # Two runs of "screen again" at once would both number their run N + 1; the second waits here and is refused.
    if not change_once(
        treatment,
        lambda c: (*_booked(c), c.screening_run.is_(None) if run is None else c.screening_run == run),
        screening_run=run,
    ):
        db.session.rollback()
        db.session.refresh(treatment)
        if treatment.status == "booked" and treatment.archived_at is None:
            return  # screened again by someone else a moment ago: their run is the current one
        raise TreatmentRejected(why_not_booked(treatment))
    screen(treatment, "review")
    audit(
        "treatment.screen",
        obj=treatment,
        client_id=treatment.client_id,
        detail={"screening": treatment.screening_status},
    )
    db.session.commit()


def acknowledge(finding, *, user, note):
    """A practitioner or manager acknowledges a warning with a note; commits."""
    note = (note or "").strip()
    if not user.role_names & ACKNOWLEDGE_ROLES:
        raise TreatmentRejected("Only a practitioner or manager can acknowledge a warning.")
    if finding.severity != "warn":
        raise TreatmentRejected("Only warnings are acknowledged; a block needs a manager's override.")
    if not note:
        raise TreatmentRejected("Write a note saying how the warning is handled.")
    _require_booked(finding.treatment)
    _hold_run(finding)
    if not change_once(
        finding,
        lambda c: (c.acknowledged_at.is_(None), c.overridden_at.is_(None)),
        acknowledged_by_id=user.id,
        acknowledged_at=now(),
        acknowledgement_note=note,
        decided_on=answers_fingerprint(finding.treatment.details),
    ):
        db.session.rollback()
        raise TreatmentRejected(_finding_done(finding))
    finding.treatment.screening_status = summarise(finding.treatment.current_findings())
    audit(
        "finding.acknowledge",
        obj=finding,
        client_id=finding.treatment.client_id,
        detail={"code": finding.code, "note": note},
    )
    db.session.commit()


def override(finding, *, user, reason):
    """A manager overrides a finding with a written reason; commits and audits."""
    reason = (reason or "").strip()
    if not user.role_names & OVERRIDE_ROLES:
        raise TreatmentRejected("Only a manager can override a screening finding.")
    if not finding.overridable:
        raise TreatmentRejected(
            "This finding is a hard stop (scope of practice, or a check that could not run): no role can override "
            "it. Resolve its cause (a valid certification, the plugin's fault) and screen again."
        )
    if len(reason) < 10:
        raise TreatmentRejected("An override needs a written reason (at least 10 characters).")
    _require_booked(finding.treatment)
    _hold_run(finding)
    if not change_once(
        finding,
        lambda c: (c.overridden_at.is_(None), c.overridable.is_(True)),
        overridden_by_id=user.id,
        overridden_at=now(),
        override_reason=reason,
        decided_on=answers_fingerprint(finding.treatment.details),
    ):
        db.session.rollback()
        raise TreatmentRejected(_finding_done(finding))
    finding.treatment.screening_status = summarise(finding.treatment.current_findings())
    audit(
        "finding.override",
        obj=finding,
        client_id=finding.treatment.client_id,
        detail={"code": finding.code, "severity": finding.severity, "reason": reason},
    )
    db.session.commit()


def archive(treatment, *, user, reason):
    """A manager archives a treatment entered in error, with the reason: it leaves the lists, counts and reports, and
    stays on record (its ledger rows too). Commits and audits."""
    archive_many([treatment], user=user, reason=reason)


def archive_many(treatments, *, user, reason):
    """Archive several treatments with one reason, all or none: one archived already refuses the lot. Commits and
    audits each."""
    reason = (reason or "").strip()
    if not user.role_names & OVERRIDE_ROLES:
        raise TreatmentRejected("Only a manager can archive a treatment.")
    done = [t for t in treatments if t.archived_at is not None]
    if done:
        raise TreatmentRejected("Archived already: " + ", ".join(_label(t) for t in done) + ". Nothing was archived.")
    if not 5 <= len(reason) <= 255:
        raise TreatmentRejected("Say why the treatment is archived (5 to 255 characters).")
    at = now()
    for treatment in treatments:
        if not change_once(
            treatment,
            lambda c: (c.archived_at.is_(None),),
            archived_at=at,
            archived_by_id=user.id,
            archive_reason=reason,
        ):
            db.session.rollback()
            raise TreatmentRejected(
                f"Archived already: {_label(treatment)} (by {treatment.archived_by} at "
                f"{when(treatment.archived_at)}). Nothing was archived."
            )
    for treatment in treatments:
        booking.release(treatment)
    # Every writer takes the treatment, then the client (the same order everywhere: no deadlock).
    recompute({t.client_id for t in treatments if t.status == "performed"})
    for treatment in treatments:
        audit(
            "treatment.archive",
            obj=treatment,
            client_id=treatment.client_id,
            detail={"reason": reason, "status": treatment.status, "with": len(treatments)},
        )
    db.session.commit()


def _label(treatment):
    return f"{treatment.client} on {shown(treatment.scheduled_at, treatment.location)}"


def reschedule(
    treatment,
    *,
    scheduled_at,
    practitioner,
    location,
    user,
    reason=None,
    expected_at=None,
    confirm_outside_hours=False,
    resources=(),
):
    """Move a booked treatment to another time, practitioner or location (any of them), keeping its length; it is
    checked as a new booking is (the booking window, working hours, conflicts, a room or device of each kind it needs
    at the new location) and screened again as of the new day, and the move is audited with before and after.
    ``expected_at`` is the time the person moving it saw (a calendar's drag): a booking moved by someone else
    meanwhile is refused, not moved twice. ``resources`` are rooms or devices it moves into (a calendar's room column);
    it keeps the others it had at the location where they are still free. Commits."""
    _require_booked(treatment)
    if (outside := booking_window_problem(scheduled_at, location=location)) is not None:
        raise TreatmentRejected(outside)
    resources = list(resources)
    if (scheduled_at, practitioner.id, location.id) == (
        treatment.scheduled_at,
        treatment.practitioner_id,
        treatment.location_id,
    ) and all(r.id in {taken.resource_id for taken in treatment.resources} for r in resources):
        raise TreatmentRejected("That is where the booking is already; nothing was changed.")
    minutes = int((treatment.ends_at - treatment.scheduled_at).total_seconds() // 60) if treatment.ends_at else None
    span, off_hours = _span_in_hours(
        treatment.modality, scheduled_at, minutes, practitioner, location, user, confirm_outside_hours
    )
    before = _placement(treatment)
    seen_at = expected_at or treatment.scheduled_at
    old_practitioner, old_location = treatment.practitioner_id, treatment.location_id
    moved_into = {r.kind for r in resources}
    kept = [
        taken.resource
        for taken in treatment.resources
        if taken.resource.location_id == location.id and taken.resource.kind not in moved_into
    ]
    booking.hold_the_book()
    if not change_once(
        treatment,
        lambda c: (
            *_booked(c),
            c.scheduled_at == seen_at,
            c.practitioner_id == old_practitioner,
            c.location_id == old_location,
        ),
        scheduled_at=scheduled_at,
        practitioner_id=practitioner.id,
        location_id=location.id,
        **booking.times_of(span),
    ):
        db.session.rollback()
        db.session.refresh(treatment)
        if treatment.status == "booked" and treatment.archived_at is None:
            raise TreatmentRejected(
                "This booking was moved by someone else meanwhile (it is now "
                f"{shown(treatment.scheduled_at, treatment.location)} with "
                f"{treatment.practitioner}); nothing was changed. Look again and move it "
                "if it still needs to move."
            )
        raise TreatmentRejected(why_not_booked(treatment))
    treatment.practitioner, treatment.location = practitioner, location
    try:
        # Its own time is given up first, so that it does not conflict with itself; the rooms it had at this
        # location are kept where they are still free.
        booking.release(treatment)
        db.session.execute(db.delete(TreatmentResource).where(TreatmentResource.treatment_id == treatment.id))
        db.session.expire(treatment, ["resources"])
        busy = (
            set(
                db.session.execute(
                    db.select(BookingSlot.resource_id).where(
                        BookingSlot.resource_id.in_([r.id for r in kept]),
                        BookingSlot.busy_from < span.busy_until,
                        BookingSlot.busy_until > span.busy_from,
                    )
                ).scalars()
            )
            if kept
            else set()
        )
        taken = _free_for(
            treatment.modality,
            location,
            resources + [r for r in kept if r.id not in busy],
            span,
            practitioner,
            treatment.client,
        )
        booking.take(treatment, span=span, resources=taken)
    except booking.BookingConflict as exc:
        db.session.rollback()
        raise TreatmentRejected(*exc.messages) from None
    screen(treatment, "booking")
    detail = {
        "before": before,
        "after": _placement(treatment),
        "reason": (reason or "").strip()[:255] or None,
        "screening": treatment.screening_status,
        "resources": {kind: r.id for kind, r in sorted(taken.items())},
    }
    if off_hours:
        detail["outside_hours_confirmed"] = off_hours
    audit("treatment.reschedule", obj=treatment, client_id=treatment.client_id, detail=detail)
    db.session.commit()
    return treatment


def _span_in_hours(modality, scheduled_at, minutes, practitioner, location, user, confirm_outside_hours):
    """The span a session of ``modality`` at ``scheduled_at`` holds, and the sentence saying it is outside the
    practitioner's working hours (None when it is within them); refused unless a manager confirms that."""
    try:
        span = booking.span_of(modality, scheduled_at, minutes)
    except booking.BookingConflict as exc:
        raise TreatmentRejected(*exc.messages) from None
    off_hours = outside_hours(practitioner, location, span.busy_from, span.busy_until)
    if off_hours and not confirm_outside_hours:
        raise TreatmentRejected(off_hours + " A manager may confirm a booking outside working hours.")
    if off_hours and not user.role_names & OVERRIDE_ROLES:
        raise TreatmentRejected(off_hours + " Only a manager can confirm a booking outside working hours.")
    return span, off_hours


def _free_for(modality, location, chosen, span, practitioner, client):
    """{kind: resource} the session takes (``chosen``, else the first free of each kind); raises
    ``booking.BookingConflict`` naming each booking that holds the practitioner, a resource or the client then."""
    taken = booking.resources_for(modality, location, chosen, span)
    found = booking.conflicts(
        practitioner=practitioner, client=client, resources=taken.values(), span=span, location=location
    )
    if found:
        raise booking.BookingConflict(*found)
    return taken


def _placement(treatment):
    """Where and when a booking is, as the audit log keeps it (the time in UTC and as the location read it)."""
    return {
        "at": treatment.scheduled_at.isoformat(),
        "local": shown(treatment.scheduled_at, treatment.location),
        "practitioner": str(treatment.practitioner),
        "practitioner_id": treatment.practitioner_id,
        "location": str(treatment.location),
        "location_id": treatment.location_id,
    }


CANCELLED_BY = {"client": "The client", "clinic": "The clinic"}


def cancel(treatment, *, reason, user=None, by="clinic"):
    """Cancel a booked treatment at the request of ``by`` (``client`` or ``clinic``), for ``reason``; it stays on
    record with who cancelled it, when and why, and a client's cancellation within the notice period
    (``core.late_cancel_hours``) is marked late. Commits."""
    _require_booked(treatment)
    if by not in CANCELLED_BY:
        raise TreatmentRejected("Say who cancelled: the client or the clinic.")
    reason = (reason or "").strip()[:255]
    if len(real_text(reason)) < 3:
        raise TreatmentRejected("Say why the booking is cancelled.")
    at = now()
    notice = timedelta(hours=int(effective_settings()[LATE_CANCEL_HOURS]))
    late = by == "client" and at > treatment.scheduled_at - notice
    if not change_once(
        treatment,
        _booked,
        status="cancelled",
        cancelled_at=at,
        cancellation=by,
        cancelled_late=late,
        cancelled_by_id=user.id if user is not None else None,
        cancel_reason=reason,
    ):
        db.session.rollback()
        raise TreatmentRejected(why_not_booked(treatment))
    booking.release(treatment)
    audit(
        "treatment.cancel",
        obj=treatment,
        client_id=treatment.client_id,
        detail={"reason": reason, "by": by, "late": late},
    )
    db.session.commit()


def mark_no_show(treatment, *, user, note=None):
    """Mark a booked treatment whose time has come as a no-show: the client did not come. It stays on record, frees
    its time, and counts on the client's record. Commits."""
    _require_booked(treatment)
    at = now()
    if at < treatment.scheduled_at:
        raise TreatmentRejected("A booking is marked as a no-show once its time has come.")
    note = (note or "").strip()[:255] if real_text(note) else "did not come"
    if not change_once(
        treatment,
        _booked,
        status="cancelled",
        cancelled_at=at,
        cancellation="no_show",
        cancelled_late=None,
        cancelled_by_id=user.id,
        cancel_reason=note,
    ):
        db.session.rollback()
        raise TreatmentRejected(why_not_booked(treatment))
    booking.release(treatment)
    audit("treatment.no_show", obj=treatment, client_id=treatment.client_id, detail={"note": note})
    db.session.commit()


def attendance(client_id, since=None):
    """How often a client cancelled late or did not come (since ``since``, an instant):
    ``{"late": n, "no_show": n}``."""
    query = db.select(
        db.func.count().filter(Treatment.cancelled_late.is_(True)),
        db.func.count().filter(Treatment.cancellation == "no_show"),
    ).where(Treatment.client_id == client_id, Treatment.status == "cancelled", Treatment.archived_at.is_(None))
    if since is not None:
        query = query.where(Treatment.scheduled_at >= since)
    late, no_show = db.session.execute(query).one()
    return {"late": late, "no_show": no_show}


def _changed_answers(before, after):
    """{key: {"before": ..., "after": ...}} for each booking answer in ``before`` that ``after`` changes."""
    after = after or {}
    return {key: {"before": value, "after": after.get(key)} for key, value in before.items() if after.get(key) != value}


def record(treatment, *, details, performed_at, notes, user, acknowledgement_note=None, lots=()):
    """Record a booked treatment as performed with its plugin ``details``; one transaction, committed or nothing.

    ``lots`` are the ids of the lots the practitioner opened (at most one per product); a product without one is
    taken first expiry first. What the usable stock cannot give is recorded as an open stock exception rather than
    refusing the session; returns those exceptions (none when stock sufficed). Raises :class:`TreatmentRejected`
    (after rolling back) if screening leaves a block not overridden or a warning not acknowledged, if a plugin's
    consumables cannot be worked out, or if a chosen lot is not usable (held, expired, of another product or
    location).
    """
    _require_booked(treatment)
    if treatment.modality not in registry().modalities:
        raise TreatmentRejected(
            f"No loaded plugin provides the modality {treatment.modality!r}, so its form and its "
            "stock cannot be recorded; the treatment stays as it is."
        )
    try:
        booked_with = treatment.practitioner
        performer = performed_by(treatment, user)
        # First, before anything else is written: the one UPDATE that only one recording of this booking can make.
        if not change_once(
            treatment, _booked, status="performed", performed_at=performed_at, recorded_at=now(), recorded_by_id=user.id
        ):
            db.session.rollback()
            raise TreatmentRejected(why_not_booked(treatment))
        if performer.id != booked_with.id:
            treatment.practitioner = performer
        booked_answers = dict(treatment.details or {})  # until recorded, the details are the booking's answers
        treatment.details = details
        treatment.notes = notes
        db.session.flush()
        findings = screen(treatment, "recording")
        note = (acknowledgement_note or "").strip()
        if note and user.role_names & ACKNOWLEDGE_ROLES:
            for f in findings:
                if f.severity == "warn" and not f.resolved:
                    f.acknowledged_by, f.acknowledged_at, f.acknowledgement_note = user, now(), note
                    f.decided_on, f.voided = answers_fingerprint(treatment.details), None
            treatment.screening_status = summarise(findings)
        open_findings = [f for f in findings if not f.resolved]
        if open_findings:
            raise TreatmentRejected(*(_why(f) for f in open_findings))
        consumed, exceptions = _consume(treatment, user, _chosen_lots(lots))
        treatment.consumed = consumed
        _tell_plugins_recorded(treatment)
        note_performed(treatment)
        detail = {"modality": treatment.modality, "consumed": len(treatment.stock_movements)}
        if exceptions:
            detail["stock_exceptions"] = [e.id for e in exceptions]
        if performer.id != booked_with.id:
            detail["booked_with"], detail["performed_by"] = str(booked_with), str(performer)
        if changed := _changed_answers(booked_answers, details):
            detail["booking_answers_changed"] = changed
        audit("treatment.record", obj=treatment, client_id=treatment.client_id, detail=detail)
        for exception in exceptions:
            audit(
                "stock.exception.open",
                obj=exception,
                detail={
                    "treatment": treatment.id,
                    "product": exception.product_id,
                    "location": exception.location_id,
                    "quantity": fmt(exception.quantity),
                    "lot": exception.lot_id,
                },
            )
        db.session.commit()
        return exceptions
    except TreatmentRejected:
        db.session.rollback()
        raise
    except StockError as exc:
        db.session.rollback()
        raise TreatmentRejected(str(exc)) from exc
    except BaseException:
        db.session.rollback()
        raise


def _chosen_lots(lot_ids):
    """{product id: lot} of the lots the practitioner chose; refuses a lot not on file or two lots of one product."""
    chosen = {}
    for lot_id in lot_ids or ():
        lot = db.session.get(StockLot, lot_id)
        if lot is None:
            raise TreatmentRejected("A lot chosen is no longer on file; choose the lot you opened again.")
        other = chosen.setdefault(lot.product_id, lot)
        if other.id != lot.id:
            raise TreatmentRejected(
                f"Lots {other.lot_number} and {lot.lot_number} of {lot.product.name} were both "
                "chosen; choose the one lot of it that was opened."
            )
    return chosen


def _consume(treatment, user, chosen):
    """Take each product the plugins say the treatment used, from its chosen lot or first expiry first; open a stock
    exception for what the usable stock could not give. Returns (``consumed`` as stored, the exceptions)."""
    consumed, exceptions = {}, []
    location, today = treatment.location, clock.local_today(treatment.location)
    for product, quantity in _consumables(treatment):
        lot = chosen.pop(product.id, None)
        _taken, short = consume_available(
            product=product, location=location, quantity=quantity, user=user, treatment=treatment, lot=lot, today=today
        )
        consumed[str(product.id)] = format(quantity.normalize(), "f")
        if short > 0:
            exceptions.append(
                open_shortfall(
                    treatment=treatment, product=product, location=location, quantity=short, user=user, lot=lot
                )
            )
    if chosen:
        raise TreatmentRejected(
            *(
                f"Lot {lot.lot_number} of {lot.product.name} was chosen, but this record uses no "
                f"{lot.product.name}; clear that lot or record the product."
                for lot in chosen.values()
            )
        )
    return consumed, exceptions


def _why(finding):
    source = registry().plugin_label(finding.plugin)
    voided = getattr(finding, "voided", None)
    again = f" {voided}" if voided else ""
    if finding.severity == "block":
        return f"Blocked ({source}): {finding.message}{again} A manager must override it with a reason."
    return f"Warning to acknowledge ({source}): {finding.message}{again}"


def _consumables(treatment):
    """[(product, quantity)] from every plugin's ``consumables``, merged per product; a failing plugin rejects."""
    from .models import Product

    wanted = {}
    for name, items, error in each_implementation(registry().pm, "consumables", treatment=treatment):
        try:
            if error is not None:
                raise error
            for item in items or []:
                if not isinstance(item, Consumption):
                    raise TypeError(f"returned {item!r}, not a Consumption")
                quantity = Decimal(str(item.quantity))
                if not quantity.is_finite() or quantity <= 0:
                    raise ValueError(f"quantity {item.quantity!r} is not above zero")
                wanted[item.product_id] = wanted.get(item.product_id, Decimal(0)) + quantity
        except Exception as exc:
            raise TreatmentRejected(
                f"Could not work out what the treatment uses: {name} ({type(exc).__name__}: {exc})."
            ) from exc
    result = []
    for product_id, quantity in sorted(wanted.items()):
        product = db.session.get(Product, product_id)
        if product is None:
            raise TreatmentRejected(f"A product the treatment uses (id {product_id}) is not on file.")
        result.append((product, quantity))
    return result


def _tell_plugins_recorded(treatment):
    """Let each plugin store its own rows in this transaction; one that fails refuses the recording, by name."""
    db.session.flush()
    for name, _, error in each_implementation(registry().pm, "treatment_recorded", treatment=treatment):
        try:
            if error is not None:
                raise error
            db.session.flush()
        except Exception as exc:
            raise TreatmentRejected(
                f"Could not store what {name} keeps about the treatment ({type(exc).__name__}: {exc})."
            ) from exc


def performed_by(treatment, user):
    """Who performs a booked treatment that ``user`` records: the person recording it when they are a practitioner
    (a colleague may take over a booking), otherwise (a manager recording for someone) the practitioner it was booked
    with. Screening at recording checks this person's certification."""
    if "practitioner" in user.role_names:
        return user
    return treatment.practitioner


def _booked(columns):
    return columns.status == "booked", columns.archived_at.is_(None)


def why_not_booked(treatment):
    """Why a step that expected ``treatment`` booked found it otherwise, read as it is stored now."""
    db.session.refresh(treatment)
    if treatment.archived_at is not None:
        return (
            f"This treatment was archived by {treatment.archived_by} at {when(treatment.archived_at)}; "
            "nothing was changed."
        )
    if treatment.status == "performed":
        return (
            f"This treatment was already recorded by {treatment.recorded_by or 'someone'} at "
            f"{when(treatment.recorded_at)}; nothing was changed."
        )
    if treatment.status == "cancelled" and treatment.cancellation == "no_show":
        return (
            f"This booking was marked as a no-show by {treatment.cancelled_by or 'someone'} at "
            f"{when(treatment.cancelled_at, treatment.location)}; nothing was changed."
        )
    if treatment.status == "cancelled":
        return (
            f"This treatment was cancelled by {treatment.cancelled_by or 'someone'} at "
            f"{when(treatment.cancelled_at, treatment.location)}; nothing was changed."
        )
    return "This treatment changed while you were working on it; nothing was changed. Open it again."


def _hold_run(finding):
    """Take the treatment's row for this step, as long as it is still booked and still at the finding's screening
    run (a finding of an older run is no longer the one that counts)."""
    treatment = finding.treatment
    if not change_once(treatment, lambda c: (*_booked(c), c.screening_run == finding.run), screening_run=finding.run):
        db.session.rollback()
        db.session.refresh(treatment)
        if treatment.status == "booked" and treatment.archived_at is None:
            raise TreatmentRejected(
                "Screening has run again since that page was opened; nothing was changed. Review the current findings."
            )
        raise TreatmentRejected(why_not_booked(treatment))


def _finding_done(finding):
    db.session.refresh(finding)
    if finding.overridden_at is not None:
        return (
            f"This finding was already overridden by {finding.overridden_by} at {when(finding.overridden_at)}; "
            "nothing was changed."
        )
    if finding.acknowledged_at is not None:
        return (
            f"This warning was already acknowledged by {finding.acknowledged_by} at "
            f"{when(finding.acknowledged_at)}; nothing was changed."
        )
    return "This finding cannot be overridden; nothing was changed."


def _require_booked(treatment):
    if treatment.archived_at is not None:
        raise TreatmentRejected("This treatment is archived; it can no longer change.")
    if treatment.status != "booked":
        raise TreatmentRejected(why_not_booked(treatment))
