"""The contraindication engine: runs every plugin's check on its own and stores the findings with the treatment.

Safety fails closed: a check that raises or answers nonsense becomes a blocking finding naming its plugin, and a
treatment whose modality no loaded plugin provides is blocked.
"""

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import joinedload

from .clinic_settings import effective_settings
from .clock import now
from .extensions import db
from .models import Client, ScreeningFinding, User
from .plugin_api import Finding
from .plugins import each_implementation, registry

log = logging.getLogger(__name__)


#: Kinds whose entry is a point event: its date is the day it happened, so without an end date it counts from that
#: date (a filler, a peel). An entry of any other kind (a medication, a condition, a state, an allergy), or of a code
#: no loaded plugin registers, lasts until its end date: without one it is still going on and counts as today.
POINT_EVENT_KINDS = frozenset({"procedure"})


class HealthHistory:
    """A client's coded health history as of ``day``, in the terms the checks ask about.

    Entries marked entered in error are left out: they were never true. An entry counts from its date (``onset``)
    until its end date (``ended``). A waiting period counts from the end date when there is one; without one, a
    procedure (a point event, ``kinds`` maps each code to its registered kind) counts from its date, and an entry of
    any other kind is still going on, so it counts as today. ``client_fields`` are the facts kept on the client
    (registered with ``register_client_fields``), read with :meth:`client_field`.
    """

    def __init__(
        self,
        entries: Iterable[Any],
        day: date | None,
        client_fields: Mapping[str, Any] | None = None,
        kinds: Mapping[str, str] | None = None,
    ) -> None:
        self.day = day
        self._entries = [e for e in entries if getattr(e, "entered_in_error_at", None) is None]
        self.client_fields = dict(client_fields or {})
        self._kinds = dict(kinds or {})

    def client_field(self, key: str) -> Any:
        """The client's value of the client field ``key`` (a registered ClientField), or None when not recorded."""
        return self.client_fields.get(key)

    def _current(self, code):
        return [e for e in self._entries if e.code == code and (e.onset is None or e.onset <= self.day)]

    def active(self, *codes: str) -> bool:
        """Whether any of ``codes`` is on record and has not ended by the day (an undated entry counts as active)."""
        return any(e.ended is None or e.ended >= self.day for code in codes for e in self._current(code))

    def _ongoing(self, entry):
        if entry.ended is not None:
            return entry.ended >= self.day
        return self._kinds.get(entry.code) not in POINT_EVENT_KINDS

    def _days_after(self, last):
        if last is None or last >= self.day:
            return 0  # undated (fail closed), or on the day itself
        return (self.day - last).days

    def ongoing(self, code: str) -> bool:
        """Whether an entry of ``code`` is still going on on the day: it ends that day or later, or it has no end
        date and is not a procedure (a medication still being taken). Such an entry counts as today."""
        return any(self._ongoing(e) for e in self._current(code))

    def days_since(self, code: str) -> int | None:
        """Days since ``code`` was last on record: from its end date when it has one (a medication stopped 60 days
        ago counts 60, whenever it started); without one, a procedure counts from its date and any other kind is
        still going on (0). 0 also when it has no date or ends on or after the day; None if absent. This is what
        waiting periods read."""
        entries = self._current(code)
        if not entries:
            return None
        return min(0 if self._ongoing(e) else self._days_after(e.ended or e.onset) for e in entries)

    def days_since_start(self, code: str) -> int | None:
        """Days since the most recent ``code`` started (its date), whether or not it has ended: how far along it is
        (the weeks of a pregnancy). 0 when it has no date; None if absent."""
        entries = self._current(code)
        if not entries:
            return None
        return min(self._days_after(e.onset) for e in entries)

    def within(self, code: str, days: int) -> bool:
        """Whether ``code`` was last on record fewer than ``days`` days before the day (see :meth:`days_since`; on
        day ``days`` after its end, or a procedure's date, it no longer counts)."""
        since = self.days_since(code)
        return since is not None and since < days

    @property
    def codes(self) -> set[str]:
        """The codes on record by the day, ended or not."""
        return {e.code for e in self._entries if e.onset is None or e.onset <= self.day}


def _not_loaded(obj, relationship, *collections):
    """Whether ``obj.relationship``, or one of its ``collections``, is still to be loaded (no SQL to find out)."""
    if relationship in inspect(obj).unloaded:
        return True
    related = getattr(obj, relationship)
    return related is not None and bool(set(collections) & inspect(related).unloaded)


def _load_what_checks_read(treatment):
    """Load the client's health history and consents, and the practitioner's certifications, in a few statements
    instead of one per relationship, unless they are loaded already (a second screening in the same request reads
    none). Only what is not loaded yet is filled in: nothing pending is overwritten."""
    clients = users = ()
    if treatment.client_id is not None and _not_loaded(treatment, "client", "health_entries", "consents"):
        # One statement: a client's history and consents are a handful of rows each, so their product is small.
        clients = (
            db.session.execute(
                db.select(Client)
                .where(Client.id == treatment.client_id)
                .options(joinedload(Client.health_entries), joinedload(Client.consents))
            )
            .unique()
            .scalars()
            .all()
        )
    if treatment.practitioner_id is not None and _not_loaded(treatment, "practitioner", "certifications"):
        users = (
            db.session.execute(
                db.select(User).where(User.id == treatment.practitioner_id).options(joinedload(User.certifications))
            )
            .unique()
            .scalars()
            .all()
        )
    # The session holds objects weakly: the treatment takes each over (from the identity map, no SQL) while the
    # list above still holds it.
    for loaded, relationship in ((clients, "client"), (users, "practitioner")):
        if loaded:
            getattr(treatment, relationship)


def history_for(treatment):
    """The client's :class:`HealthHistory` as of ``treatment``'s day, as the checks read it."""
    _load_what_checks_read(treatment)
    return HealthHistory(
        treatment.client.health_entries,
        treatment.day,
        treatment.client.plugin_fields,
        kinds={code: condition.kind for code, condition in registry().conditions.items()},
    )


def run_checks(treatment):
    """Return [(plugin name, Finding)] from every plugin's ``check_contraindications``, each called on its own."""
    reg = registry()
    history = history_for(treatment)
    settings = effective_settings()
    results = []
    if treatment.modality not in reg.modalities:
        results.append(
            (
                "core",
                Finding(
                    "modality-not-loaded",
                    "block",
                    f"No loaded plugin provides the modality {treatment.modality!r}, so it cannot be screened.",
                    overridable=False,
                ),
            )
        )
    for name, found, error in each_implementation(
        reg.pm, "check_contraindications", treatment=treatment, history=history, settings=settings
    ):
        try:
            if error is not None:
                raise error
            found = list(found or [])
            bad = [f for f in found if not isinstance(f, Finding)]
            if bad:
                raise TypeError(f"returned {bad[0]!r}, not a Finding")
        except Exception as exc:
            log.error("screening plugin %s failed", name, exc_info=exc)
            results.append(
                (
                    name,
                    Finding(
                        "screening-failed",
                        "block",
                        f"Screening could not run: {name} ({type(exc).__name__}). "
                        "The treatment is blocked until this check runs.",
                        overridable=False,
                    ),
                )
            )
            continue
        results.extend((name, f) for f in found)
    return results


def summarise(findings):
    """The treatment's screening status: blocked, warnings, clear (with any finding resolved), or clear."""
    if any(f.severity == "block" and not f.resolved for f in findings):
        return "blocked"
    if any(f.severity == "warn" and not f.resolved for f in findings):
        return "warnings"
    return "clear"


DECISION_COLUMNS = (
    "acknowledged_by",
    "acknowledged_at",
    "acknowledgement_note",
    "overridden_by",
    "overridden_at",
    "override_reason",
    "decided_on",
)


def answers_fingerprint(details):
    """The fingerprint of a treatment's ``details`` as screened: {key: digest of its value as JSON}. Stored with an
    acknowledgement or override (``ScreeningFinding.decided_on``) instead of the answers themselves."""
    return {
        str(key): hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]
        for key, value in (details or {}).items()
    }


def answers_unchanged(decided_on, details):
    """Whether every answer a decision saw (``decided_on``) still has the same value in ``details``. New answers
    (the recording form's own fields) leave it standing; a changed or removed one voids it, as does a decision whose
    answers are not known."""
    if decided_on is None:
        return False
    now_ = answers_fingerprint(details)
    return all(now_.get(key) == digest for key, digest in decided_on.items())


def _voided_because(before):
    """Why ``before``'s decision does not carry over, for the person recording."""
    if before.overridden_at is not None:
        return (
            f"The override given earlier ({before.override_reason!r}) no longer holds: the answers changed since it "
            "was overridden."
        )
    return (
        f"The acknowledgement given earlier ({before.acknowledgement_note!r}) no longer holds: the answers changed "
        "since it was acknowledged."
    )


def screen(treatment, stage):
    """Screen ``treatment`` and store the findings as a new run; returns them.

    An acknowledgement or override given in the previous run carries over to a finding of the same plugin, code and
    severity, so a manager's override at booking still holds when the treatment is recorded; never to a hard stop,
    and only while every answer it was given on is unchanged (the recording may add answers). A finding whose
    decision did not carry over for that reason says why in ``voided`` (not stored; None otherwise).
    """
    previous = {(f.plugin, f.code, f.severity): f for f in treatment.current_findings()}
    run = (treatment.screening_run or 0) + 1
    treatment.screening_run = run
    at = now()
    stored = []
    for plugin, finding in run_checks(treatment):
        row = ScreeningFinding(
            run=run,
            stage=stage,
            screened_at=at,
            plugin=plugin,
            code=finding.code,
            severity=finding.severity,
            message=finding.message[:1000],
            overridable=bool(finding.overridable),
        )
        row.voided = None
        before = previous.get((plugin, finding.code, finding.severity))
        decided = before is not None and (before.acknowledged_at is not None or before.overridden_at is not None)
        if decided and row.overridable:
            if answers_unchanged(before.decided_on, treatment.details):
                for attr in DECISION_COLUMNS:
                    setattr(row, attr, getattr(before, attr))
            else:
                row.voided = _voided_because(before)
        treatment.findings.append(row)
        stored.append(row)
    treatment.screening_status = summarise(stored)
    return stored


#: What a plugin meets from here: the ``history`` its ``check_contraindications`` receives (docs/plugin-hooks.md).
__all__ = ["HealthHistory"]
