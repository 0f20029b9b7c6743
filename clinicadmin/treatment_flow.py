"""Booking, reviewing and recording a treatment: each step one transaction, screened, audited.

Recording stores the plugin's details, screens again, requires every warning acknowledged and every block overridden
by a manager, then consumes what the plugin says the treatment uses. Any failure rolls the whole step back.
"""
from datetime import datetime
from decimal import Decimal

from .audit import audit
from .booking_window import booking_window_problem
from .extensions import db
from .first_session import note_performed, recompute
from .models import Treatment
from .plugin_api import Consumption
from .plugins import registry
from .screening import screen, summarise
from .stock import StockError, consume

OVERRIDE_ROLES = {"admin", "manager"}
ACKNOWLEDGE_ROLES = {"admin", "manager", "practitioner"}


class TreatmentRejected(Exception):
    """The step was refused and nothing was written; ``messages`` say why, for the user."""

    def __init__(self, *messages):
        self.messages = [m for m in messages if m]
        super().__init__("; ".join(self.messages))


def book(*, client, modality, practitioner, location, scheduled_at, user, course=None, notes=None):
    """Create a booked treatment and screen it (stage ``booking``); commits."""
    if (outside := booking_window_problem(scheduled_at)) is not None:
        raise TreatmentRejected(outside)
    if client.archived_at is not None:
        raise TreatmentRejected("This client's record is archived; restore it before booking.")
    if modality not in registry().modalities:
        raise TreatmentRejected(f"No loaded plugin provides the modality {modality!r}.")
    if course is not None and (course.client_id != client.id or course.modality != modality):
        raise TreatmentRejected("That course belongs to another client or modality.")
    treatment = Treatment(
        client=client, modality=modality, practitioner=practitioner, location=location,
        scheduled_at=scheduled_at, course=course, notes=notes, details={}, status="booked", created_by_id=user.id,
    )
    db.session.add(treatment)
    db.session.flush()
    findings = screen(treatment, "booking")
    audit("treatment.book", obj=treatment, client_id=client.id,
          detail={"modality": modality, "screening": treatment.screening_status, "findings": len(findings)})
    db.session.commit()
    return treatment


def rescreen(treatment):
    """Screen a booked treatment again (stage ``review``), e.g. after its client's history changed; commits."""
    _require_booked(treatment)
    screen(treatment, "review")
    audit("treatment.screen", obj=treatment, client_id=treatment.client_id,
          detail={"screening": treatment.screening_status})
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
    finding.acknowledged_by, finding.acknowledged_at, finding.acknowledgement_note = user, datetime.utcnow(), note
    finding.treatment.screening_status = summarise(finding.treatment.current_findings())
    audit("finding.acknowledge", obj=finding, client_id=finding.treatment.client_id,
          detail={"code": finding.code, "note": note})
    db.session.commit()


def override(finding, *, user, reason):
    """A manager overrides a finding with a written reason; commits and audits."""
    reason = (reason or "").strip()
    if not user.role_names & OVERRIDE_ROLES:
        raise TreatmentRejected("Only a manager can override a screening finding.")
    if len(reason) < 10:
        raise TreatmentRejected("An override needs a written reason (at least 10 characters).")
    _require_booked(finding.treatment)
    finding.overridden_by, finding.overridden_at, finding.override_reason = user, datetime.utcnow(), reason
    finding.treatment.screening_status = summarise(finding.treatment.current_findings())
    audit("finding.override", obj=finding, client_id=finding.treatment.client_id,
          detail={"code": finding.code, "severity": finding.severity, "reason": reason})
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
    now = datetime.utcnow()
    for treatment in treatments:
        treatment.archived_at, treatment.archived_by, treatment.archive_reason = now, user, reason
    # Before the audit rows: every writer takes the treatment, then the client, then the audit chain's head.
    recompute({t.client_id for t in treatments if t.status == "performed"})
    for treatment in treatments:
        audit("treatment.archive", obj=treatment, client_id=treatment.client_id,
              detail={"reason": reason, "status": treatment.status, "with": len(treatments)})
    db.session.commit()


def _label(treatment):
    return f"{treatment.client} on {treatment.scheduled_at:%Y-%m-%d %H:%M}"


def cancel(treatment, *, reason):
    """Cancel a booked treatment; it stays on record. Commits."""
    _require_booked(treatment)
    treatment.status = "cancelled"
    audit("treatment.cancel", obj=treatment, client_id=treatment.client_id, detail={"reason": reason})
    db.session.commit()


def record(treatment, *, details, performed_at, notes, user, acknowledgement_note=None):
    """Record a booked treatment as performed with its plugin ``details``; one transaction, committed or nothing.

    Raises :class:`TreatmentRejected` (after rolling back) if screening leaves a block not overridden or a warning
    not acknowledged, if a plugin's consumables cannot be worked out, or if stock is short.
    """
    _require_booked(treatment)
    try:
        treatment.details = details
        treatment.performed_at = performed_at
        treatment.notes = notes
        findings = screen(treatment, "recording")
        note = (acknowledgement_note or "").strip()
        if note and user.role_names & ACKNOWLEDGE_ROLES:
            for f in findings:
                if f.severity == "warn" and not f.resolved:
                    f.acknowledged_by, f.acknowledged_at, f.acknowledgement_note = user, datetime.utcnow(), note
            treatment.screening_status = summarise(findings)
        open_findings = [f for f in findings if not f.resolved]
        if open_findings:
            raise TreatmentRejected(*(_why(f) for f in open_findings))
        for product, quantity in _consumables(treatment):
            consume(product=product, location=treatment.location, quantity=quantity, user=user, treatment=treatment)
        treatment.status = "performed"
        _tell_plugins_recorded(treatment)
        note_performed(treatment)
        audit("treatment.record", obj=treatment, client_id=treatment.client_id,
              detail={"modality": treatment.modality, "consumed": len(treatment.stock_movements)})
        db.session.commit()
    except TreatmentRejected:
        db.session.rollback()
        raise
    except StockError as exc:
        db.session.rollback()
        raise TreatmentRejected(str(exc)) from exc
    except BaseException:
        db.session.rollback()
        raise


def _why(finding):
    if finding.severity == "block":
        return f"Blocked ({finding.plugin}): {finding.message} A manager must override it with a reason."
    return f"Warning to acknowledge ({finding.plugin}): {finding.message}"


def _consumables(treatment):
    """[(product, quantity)] from every plugin's ``consumables``, merged per product; a failing plugin rejects."""
    from .models import Product

    wanted = {}
    for impl in registry().pm.hook.consumables.get_hookimpls():
        try:
            items = impl.function(treatment=treatment) or []
            for item in items:
                if not isinstance(item, Consumption):
                    raise TypeError(f"returned {item!r}, not a Consumption")
                quantity = Decimal(str(item.quantity))
                if not quantity.is_finite() or quantity <= 0:
                    raise ValueError(f"quantity {item.quantity!r} is not above zero")
                wanted[item.product_id] = wanted.get(item.product_id, Decimal(0)) + quantity
        except Exception as exc:
            raise TreatmentRejected(
                f"Could not work out what the treatment uses: {impl.plugin_name} ({type(exc).__name__}: {exc})."
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
    for impl in registry().pm.hook.treatment_recorded.get_hookimpls():
        try:
            impl.function(treatment=treatment)
            db.session.flush()
        except Exception as exc:
            raise TreatmentRejected(
                f"Could not store what {impl.plugin_name} keeps about the treatment ({type(exc).__name__}: {exc})."
            ) from exc


def _require_booked(treatment):
    if treatment.archived_at is not None:
        raise TreatmentRejected("This treatment is archived; it can no longer change.")
    if treatment.status != "booked":
        raise TreatmentRejected(f"This treatment is {treatment.status}; only a booked treatment can change.")
