"""``clinicadmin check``: the stored data agrees with itself. Each check returns the problems it found, as text;
:func:`run_checks` runs them all, for the command and the nightly job alike."""

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import groupby, islice

from flask import current_app

from .clock import now
from .extensions import db
from .models import AuditEvent, AuditSeal, Product, StockException, StockLot, StockMovement, StockUsage, Treatment
from .models.audit import GENESIS
from .models.types import Quantity

MAX_REPORTED = 20


def stock_problems():
    """Lots whose quantity is negative or differs from the sum of their ledger rows, one line each."""
    ledger = (
        db.select(StockMovement.lot_id, db.func.sum(StockMovement.quantity, type_=Quantity()).label("total"))
        .group_by(StockMovement.lot_id)
        .subquery()
    )
    total = db.func.coalesce(ledger.c.total, 0, type_=Quantity())
    rows = db.session.execute(
        db.select(StockLot.id, StockLot.lot_number, Product.sku, StockLot.quantity, total.label("total"))
        .join(Product, Product.id == StockLot.product_id)
        .outerjoin(ledger, ledger.c.lot_id == StockLot.id)
        .where(db.or_(StockLot.quantity < 0, StockLot.quantity != total))
        .order_by(StockLot.id)
    ).all()
    return [f"lot {r.lot_number} of {r.sku} (id {r.id}): on hand {r.quantity:f}, ledger sum {r.total:f}" for r in rows]


def usage_problems():
    """Months whose stored usage (``StockUsage``, kept as stock is consumed) differs from the ledger's consumption."""
    from .stock import usage_from_ledger

    def key(r):
        return r.month, r.location_id, r.product_id, r.modality

    ledger = {key(r): r.quantity for r in db.session.execute(usage_from_ledger())}
    stored = {key(r): r.quantity for r in db.session.execute(db.select(StockUsage)).scalars()}
    wrong = sorted(k for k in ledger.keys() | stored.keys() if ledger.get(k, 0) != stored.get(k, 0))
    return [
        f"usage of product {product} at location {location} for {modality} in {month}: stored "
        f"{stored.get((month, location, product, modality), 0):f}, ledger "
        f"{ledger.get((month, location, product, modality), 0):f}"
        for month, location, product, modality in wrong[:MAX_REPORTED]
    ]


def consumption_problems():
    """Treatments whose consumption in the ledger, with what is still open as stock exceptions, differs from what
    recording stored with them (``Treatment.consumed``): a session whose stock was taken twice, or stock taken for a
    session not performed. Sessions recorded before the consumption was stored with them (``consumed`` empty) are
    compared only for the second."""
    taken = (
        db.select(
            StockMovement.treatment_id.label("treatment_id"),
            StockLot.product_id.label("product_id"),
            (-StockMovement.quantity).label("quantity"),
        )
        .join(StockLot, StockLot.id == StockMovement.lot_id)
        .where(StockMovement.reason == "consumption", StockMovement.treatment_id.is_not(None))
    )
    owed = db.select(StockException.treatment_id, StockException.product_id, StockException.quantity).where(
        StockException.resolved_at.is_(None)
    )
    used = db.union_all(taken, owed).subquery()
    ledger = (
        db.select(
            used.c.treatment_id, used.c.product_id, db.func.sum(used.c.quantity, type_=Quantity()).label("quantity")
        )
        .group_by(used.c.treatment_id, used.c.product_id)
        .order_by(used.c.treatment_id, used.c.product_id)
    )
    problems = []
    rows = db.session.execute(ledger.execution_options(yield_per=2000))
    per_treatment = (
        (tid, {str(r.product_id): r.quantity for r in used})
        for tid, used in groupby(rows, key=lambda r: r.treatment_id)
    )
    while len(problems) < MAX_REPORTED:
        batch = dict(islice(per_treatment, 1000))
        if not batch:
            break
        treatments = db.session.execute(
            db.select(Treatment.id, Treatment.status, Treatment.consumed).where(Treatment.id.in_(batch))
        ).all()
        for treatment in sorted(treatments):
            taken = batch[treatment.id]
            stored = {k: Decimal(v) for k, v in (treatment.consumed or {}).items()}
            if treatment.status != "performed":
                problems.append(
                    f"treatment {treatment.id} is {treatment.status} but the ledger (or an open stock "
                    "exception) shows stock used for it"
                )
            elif treatment.consumed is not None and stored != taken:
                problems.append(
                    f"treatment {treatment.id} recorded using {_amounts(stored)}; the ledger took "
                    f"{_amounts(taken)} (open stock exceptions counted as taken)"
                )
    return problems[:MAX_REPORTED]


def open_exceptions():
    """The open stock exceptions: one line per product and location (units owed, in how many), and their count."""
    from .stock_exceptions import open_totals

    totals = open_totals()
    return (
        [
            f"{units.normalize():f} {product.unit} of {product.sku} at {location.name}, in {count}"
            for product, location, units, count in totals
        ],
        sum(count for *_, count in totals),
    )


def _amounts(by_product):
    return ", ".join(f"{q.normalize():f} of product {p}" for p, q in sorted(by_product.items())) or "nothing"


def lot_count():
    return db.session.execute(db.select(db.func.count(StockLot.id))).scalar_one()


class AuditReport:
    """What verifying the audit log found: ``problems`` (altered, missing or misplaced rows, broken seals, a seal
    recorded outside the database missing or different; at most ``MAX_REPORTED``), ``notes`` (rows written after their
    place was sealed: intact, but not under a seal), ``warnings`` (places sealed as skipped long after the next row was
    written, seals not anchored yet, a stalled sealer), and the counts of rows, sealed rows and seals, with the oldest
    unsealed row's time."""

    def __init__(self):
        self.problems, self.notes, self.warnings = [], [], []
        self.rows = self.sealed = self.seals = 0
        self.oldest_unsealed = None

    def problem(self, text):
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(text)


def audit_report():
    """Verify the audit log: each row's keyed digest (rows of the old plain chain not yet sealed: that chain), each
    seal's MAC over the rows it covers and its link to the seal before it. Returns an :class:`AuditReport`."""
    from .audit_key import AuditKeyMissing, row_intact
    from .audit_seal import seal_mac

    report = AuditReport()
    seals = (
        db.session.execute(db.select(AuditSeal).order_by(AuditSeal.number).execution_options(populate_existing=True))
        .scalars()
        .all()
    )
    prev_mac, prev_last = GENESIS, 0
    for place, seal in enumerate(seals, 1):
        if seal.number != place:
            report.problem(f"audit seal {place} is missing (the next is seal {seal.number})")
        elif seal.prev_mac != prev_mac:
            report.problem(f"audit seal {seal.number} does not follow the seal before it")
        elif seal.first_seq != prev_last + 1:
            report.problem(f"audit seal {seal.number} starts at row {seal.first_seq}, not after row {prev_last}")
        prev_mac, prev_last = seal.mac, seal.last_seq
    report.seals = len(seals)
    sealed_to = seals[-1].last_seq if seals else 0
    _compare_anchor(report, {seal.number: seal for seal in seals})
    config = current_app.config
    late = timedelta(seconds=config["AUDIT_SEAL_SETTLE_SECONDS"] + config["AUDIT_SEAL_LATE_TOLERANCE_SECONDS"])

    pending = iter(seals)
    seal, macs, expected, broken = None, [], 0, False

    def close(seal, macs, expected, broken):
        for seq in range(expected, seal.last_seq + 1):
            if seq not in seal.skipped:
                report.problem(f"audit row {seq} is missing (sealed in seal {seal.number})")
                broken = True
        if broken:
            return
        try:
            mac = seal_mac(
                seal.key_id,
                seal.number,
                seal.first_seq,
                seal.last_seq,
                seal.skipped,
                seal.legacy_rows,
                seal.prev_mac,
                macs,
            )
        except AuditKeyMissing as exc:
            report.problem(f"audit seal {seal.number}: {exc}")
            return
        if not hmac.compare_digest(mac, seal.mac):
            report.problem(f"audit seal {seal.number} (rows {seal.first_seq} to {seal.last_seq}) was altered")

    skipped = set()
    previous, previous_intact = None, False
    # What is stored, not what this session may hold in memory.
    rows = db.session.execute(
        db.select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000, populate_existing=True)
    )
    for row in rows.scalars():
        report.rows += 1
        while seal is not None and row.seq > seal.last_seq:
            close(seal, macs, expected, broken)
            seal = None
        if seal is None and row.seq <= sealed_to:
            for seal in pending:
                if seal.last_seq >= row.seq:
                    break
                close(seal, [], seal.first_seq, False)
            skipped, macs, expected, broken = set(seal.skipped), [], seal.first_seq, False
        label = f"audit row {row.seq} (id {row.id}, {row.action})"
        if seal is not None and row.seq < seal.first_seq:
            report.problem(f"{label} is in no seal, though later rows are sealed")
        elif seal is not None:
            for seq in range(expected, row.seq):
                if seq not in skipped:
                    report.problem(f"audit row {seq} is missing (sealed in seal {seal.number})")
                    broken = True
                elif seal.sealed_at - row.at > late:
                    minutes = int((seal.sealed_at - row.at).total_seconds() // 60)
                    report.warnings.append(
                        f"audit place {seq} was sealed as skipped (seal {seal.number}) {minutes} minutes after the "
                        "next row was written: a row may have been removed"
                    )
            expected = row.seq + 1
            if row.seq in skipped:
                report.notes.append(f"{label} was written after its place was sealed (seal {seal.number})")
            else:
                report.sealed += 1
                macs.append((row.seq, row.mac))
        elif report.oldest_unsealed is None or row.at < report.oldest_unsealed:
            report.oldest_unsealed = row.at
        intact = False
        if row.mac is None and seal is None:  # the old plain chain, not yet brought under a seal
            # It follows the row before it, itself intact (a sealed row's digest covers its old-chain hash).
            follows = row.seq == 1 or (previous is not None and previous.seq == row.seq - 1 and previous_intact)
            before = GENESIS if row.seq == 1 else previous.hash if follows else None
            if row.seq != 1 and (previous is None or previous.seq != row.seq - 1):
                report.problem(f"audit row {row.seq - 1} is missing")
            elif not follows or row.prev_hash != before:
                report.problem(f"audit row {row.seq} does not follow the row before it")
            elif row.content_hash(row.prev_hash) != row.hash:
                report.problem(f"{label} was changed after it was written")
            else:
                intact = True
        elif row.mac is None:
            report.problem(f"{label} was sealed, but its digest is gone")
            broken = True
        else:
            try:
                intact = row_intact(row)
            except AuditKeyMissing as exc:
                report.problem(f"{label}: {exc}")
            else:
                if not intact:
                    report.problem(f"{label} was changed after it was written")
            broken = broken or (seal is not None and not intact)
        previous, previous_intact = row, intact
    if seal is not None:
        close(seal, macs, expected, broken)
    for seal in pending:
        close(seal, [], seal.first_seq, False)
    return report


def _compare_anchor(report, seals):
    """The latest seal recorded outside the database must be in it, as it was made."""
    from . import audit_anchor

    try:
        anchored = audit_anchor.read()
    except audit_anchor.AuditAnchorError as exc:
        report.problem(str(exc))
        return
    if anchored is None:
        if seals:
            report.warnings.append(
                f"the audit seals are not anchored outside the database ({audit_anchor.describe()}) yet: the "
                "sealer records the anchor at its next run"
            )
        return
    seal = seals.get(anchored.number)
    if seal is None:
        report.problem(
            f"audit seal {anchored.number}, recorded outside the database ({audit_anchor.describe()}), is missing: "
            "seals and the rows they covered were removed"
        )
    elif not hmac.compare_digest(seal.mac, anchored.mac):
        report.problem(
            f"audit seal {anchored.number} differs from the one recorded outside the database "
            f"({audit_anchor.describe()}): the seals were replaced"
        )


def stale_sealer_warning(oldest_unsealed):
    """A warning when the oldest unsealed audit row is older than ``AUDIT_SEAL_STALE_MINUTES``, else None."""
    if oldest_unsealed is None:
        return None
    minutes = int((now() - oldest_unsealed).total_seconds() // 60)
    if minutes < current_app.config["AUDIT_SEAL_STALE_MINUTES"]:
        return None
    return (
        f"the oldest unsealed audit row was written {minutes} minutes ago: the audit sealer is not running (the "
        "audit-seal job of clinicadmin worker) or cannot seal (see its runs on Background jobs)"
    )


@dataclass
class CheckResult:
    """What ``clinicadmin check`` found: each problem as a line prefixed by its kind (``STOCK: ...``), the open stock
    exceptions (lines, and how many), the audit log's notes (rows written after their place was sealed), and the
    counts the all-clear names."""

    problems: list[str] = field(default_factory=list)
    open_lines: list[str] = field(default_factory=list)
    open_count: int = 0
    lots: int = 0
    audit_rows: int = 0
    audit_sealed: int = 0
    audit_seals: int = 0
    audit_notes: list[str] = field(default_factory=list)
    oldest_unsealed: datetime | None = None
    audit_warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def audit_unsealed(self) -> int:
        return self.audit_rows - self.audit_sealed - len(self.audit_notes)

    def as_json(self) -> dict:
        return {
            "problems": self.problems,
            "open_lines": self.open_lines,
            "open_count": self.open_count,
            "lots": self.lots,
            "audit_rows": self.audit_rows,
            "audit_sealed": self.audit_sealed,
            "audit_seals": self.audit_seals,
            "audit_unsealed": self.audit_unsealed,
            "audit_notes": self.audit_notes,
            "audit_warnings": self.audit_warnings,
            "oldest_unsealed": self.oldest_unsealed.isoformat() if self.oldest_unsealed else None,
        }


def run_checks() -> CheckResult:
    """Run every check (reads only)."""
    from . import first_session

    audit = audit_report()
    problems = (
        [f"STOCK: {p}" for p in stock_problems()]
        + [f"USAGE: {p}" for p in usage_problems()]
        + [f"TREATMENTS: {p}" for p in consumption_problems()]
        + [f"CLIENTS: {p}" for p in first_session.problems()]
        + [f"AUDIT: {p}" for p in audit.problems]
        + [f"PHOTOS: {p}" for p in photo_problems()]
    )
    owed, count = open_exceptions()
    stale = stale_sealer_warning(audit.oldest_unsealed)
    return CheckResult(
        problems,
        owed,
        count,
        lot_count(),
        audit.rows,
        audit.sealed,
        audit.seals,
        audit.notes,
        audit.oldest_unsealed,
        audit.warnings + ([stale] if stale else []),
    )


def photo_problems():
    """Photo rows whose file or thumbnail is missing from the photo storage, and files in it that no row names."""
    from .models import Photo
    from .photo_storage import photo_storage

    storage = photo_storage()
    stored = storage.keys()
    named = set()
    problems = []
    for photo_id, key, thumb in db.session.execute(
        db.select(Photo.id, Photo.storage_key, Photo.thumb_key).order_by(Photo.id)
    ):
        named.update((key, thumb))
        for what, k in (("file", key), ("thumbnail", thumb)):
            if k not in stored:
                problems.append(f"photo {photo_id}: its {what} {k} is missing from {storage.describe()}")
    problems += [f"{key} in {storage.describe()} belongs to no photo row" for key in sorted(stored - named)]
    return problems[:MAX_REPORTED]
