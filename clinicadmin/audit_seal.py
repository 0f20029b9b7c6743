"""Sealing the audit log: chaining the rows written since the last seal, in ``seq`` order, into a new
:class:`~clinicadmin.models.AuditSeal` whose MAC (under the audit key) covers the seal before it and every row's digest.

Writers share no lock, so rows commit out of ``seq`` order and a number taken by a transaction that rolls back is
never filled. A missing number is therefore waited for until the first row after it is older than
``AUDIT_SEAL_SETTLE_SECONDS``, then sealed as skipped; rows after a number still waited for stay unsealed. Seals are
appended by a conditional insert on their place (``number``, unique), so two sealers at once never fork the chain.

The latest seal is recorded outside the database (:mod:`clinicadmin.audit_anchor`) once it commits; a sealer refuses
to seal (:class:`~clinicadmin.audit_anchor.AuditAnchorError`) while the database's seals do not hold the anchored seal
as it was made. A missing number whose next row was written more than the settle window (and
``AUDIT_SEAL_LATE_TOLERANCE_SECONDS``) before the previous seal was made is never skipped: that seal would have skipped
it then, so the row was removed since (the sealer stops there and ``clinicadmin check`` reports the stall).
"""

import json
import logging
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from . import audit_anchor
from .audit_anchor import AuditAnchorError
from .audit_key import keyed, row_mac, signing_key_id
from .clock import now
from .extensions import db
from .models import AuditEvent, AuditSeal
from .models.audit import GENESIS
from .write_lock import hold_write_lock

log = logging.getLogger(__name__)


class Sealed(NamedTuple):
    """A seal made: its place, the rows it covers (``first_seq`` to ``last_seq``), how many rows, the places skipped,
    and how many rows of the old plain chain it brought in."""

    number: int
    first_seq: int
    last_seq: int
    rows: int
    skipped: list[int]
    legacy_rows: int
    mac: str


def seal_mac(key_id, number, first_seq, last_seq, skipped, legacy_rows, prev_mac, row_macs):
    """The MAC of a seal: its fields, the MAC of the seal before it, then each (seq, row MAC) it covers, in order."""
    mac = keyed(key_id, json.dumps([number, first_seq, last_seq, list(skipped), legacy_rows, prev_mac]).encode())
    for seq, row in row_macs:
        mac.update(f"\n{seq}:{row}".encode())
    return mac.hexdigest()


def seal_pending():
    """Seal every audit row that is ready, in batches of at most ``AUDIT_SEAL_BATCH``; return the seals made, in
    order (none if nothing was ready, or another sealer took the place first). Needs an app context; commits."""
    _adopt_anchor()
    made = []
    while (sealed := _seal_next()) is not None:
        made.append(sealed)
        audit_anchor.advance(sealed.number, sealed.mac)
    return made


def _adopt_anchor():
    """With no anchor recorded yet (a log sealed before anchors, or a new Redis), anchor the database's latest seal."""
    if audit_anchor.read() is not None:
        return
    last = db.session.execute(select(AuditSeal).order_by(AuditSeal.number.desc()).limit(1)).scalar_one_or_none()
    db.session.rollback()
    if last is not None:
        log.warning("the audit seals had no anchor (%s): anchored seal %s", audit_anchor.describe(), last.number)
        audit_anchor.advance(last.number, last.mac)


def _check_anchor(session):
    """Raise :class:`AuditAnchorError` unless the database holds the anchored seal with its MAC."""
    anchored = audit_anchor.read()
    if anchored is None:
        return
    mac = session.execute(select(AuditSeal.mac).where(AuditSeal.number == anchored.number)).scalar_one_or_none()
    if mac != anchored.mac:
        what = "is missing from the database" if mac is None else "differs in the database"
        message = (
            f"audit seal {anchored.number}, recorded outside the database ({audit_anchor.describe()}), {what}: "
            "seals or audit rows were removed or changed. Not sealing (see clinicadmin check)."
        )
        log.error(message)
        raise AuditAnchorError(message)


def seal_job():
    """The background job "audit-seal": :func:`seal_pending`, summed up in a line for the admin's Background jobs."""
    made = seal_pending()
    if not made:
        return "nothing ready to seal"
    rows, skipped = sum(s.rows for s in made), sum(len(s.skipped) for s in made)
    places = f", {skipped} place(s) skipped" if skipped else ""
    return f"sealed rows {made[0].first_seq} to {made[-1].last_seq} ({rows} rows{places}) in {len(made)} seal(s)"


def _legacy_prev(row, previous):
    """The hash an old-chain row should follow: the row before it's (the genesis hash for the first row)."""
    if row.seq == 1:
        return GENESIS
    if previous is not None and previous.seq == row.seq - 1:
        return previous.hash
    return db.session.execute(select(AuditEvent.hash).where(AuditEvent.seq == row.seq - 1)).scalar_one_or_none()


def _seal_next():
    config = current_app.config
    settle = timedelta(seconds=config["AUDIT_SEAL_SETTLE_SECONDS"])
    cutoff = now() - settle
    session = db.session
    try:
        hold_write_lock()
        _check_anchor(session)
        last = session.execute(select(AuditSeal).order_by(AuditSeal.number.desc()).limit(1)).scalar_one_or_none()
        number, after, prev_mac = (last.number + 1, last.last_seq, last.mac) if last else (1, 0, GENESIS)
        # A place missing whose next row was written before this, the previous seal would have skipped then.
        seen_by_last = _seen_by(last, settle + timedelta(seconds=config["AUDIT_SEAL_LATE_TOLERANCE_SECONDS"]))
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(config["AUDIT_SEAL_BATCH"])
        ).scalars()
        key_id = signing_key_id()
        taken, skipped, legacy, previous = [], [], [], None
        for row in rows:
            expected = previous.seq + 1 if previous is not None else after + 1
            if row.seq > expected:
                if row.at > cutoff:
                    break  # the missing numbers' transactions may still commit
                if seen_by_last is not None and row.at < seen_by_last:
                    log.error(
                        "audit places %s to %s are missing, though the row after them was written before seal %s was "
                        "made: a row was removed. Not skipped; sealing stops here (see clinicadmin check).",
                        expected,
                        row.seq - 1,
                        last.number,
                    )
                    break
                skipped.extend(range(expected, row.seq))
            if row.mac is None:  # a row of the old plain chain (which had no gaps): brought in only while it holds
                prev = _legacy_prev(row, previous)
                if prev is None or row.prev_hash != prev or row.content_hash(prev) != row.hash:
                    log.warning("audit row %s breaks the old hash chain: not sealed (see clinicadmin check)", row.seq)
                    break
                legacy.append(row)
            taken.append(row)
            previous = row
        if not taken:
            session.rollback()
            return None
        macs = {row.id: row.mac or row_mac(row, key_id) for row in taken}
        table = AuditEvent.__table__
        for row in legacy:
            session.execute(
                update(table).where(table.c.id == row.id, table.c.mac.is_(None)).values(key_id=key_id, mac=macs[row.id])
            )
        first_seq, last_seq = after + 1, taken[-1].seq
        values = {
            "number": number,
            "first_seq": first_seq,
            "last_seq": last_seq,
            "skipped": skipped,
            "legacy_rows": len(legacy),
            "sealed_at": now(),
            "key_id": key_id,
            "prev_mac": prev_mac,
            "mac": seal_mac(
                key_id,
                number,
                first_seq,
                last_seq,
                skipped,
                len(legacy),
                prev_mac,
                ((r.seq, macs[r.id]) for r in taken),
            ),
        }
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        seals = AuditSeal.__table__
        appended = session.execute(insert(seals).values(**values).on_conflict_do_nothing().returning(seals.c.id))
        if appended.first() is None:
            session.rollback()  # another sealer appended this place first
            return None
        session.commit()
    except BaseException:
        session.rollback()
        raise
    log.info(
        "sealed audit rows %s to %s in seal %s (%s skipped, %s of the old chain): MAC %s",
        first_seq,
        last_seq,
        number,
        len(skipped),
        len(legacy),
        values["mac"],
    )
    return Sealed(number, first_seq, last_seq, len(taken), skipped, len(legacy), values["mac"])


def _seen_by(last, window):
    """Rows written before this time were there when seal ``last`` was made (None: no previous seal, or it was
    cut short by the batch size, so it may not have reached them)."""
    if last is None:
        return None
    taken = last.last_seq - last.first_seq + 1 - len(last.skipped)
    if taken >= current_app.config["AUDIT_SEAL_BATCH"]:
        return None
    return last.sealed_at - window
