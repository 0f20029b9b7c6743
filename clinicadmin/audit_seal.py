"""Sealing the audit log: chaining the rows written since the last seal, in ``seq`` order, into a new
:class:`~clinicadmin.models.AuditSeal` whose MAC (under the audit key) covers the seal before it and every row's digest.

Writers share no lock, so rows commit out of ``seq`` order and a number taken by a transaction that rolls back is
never filled. A missing number is therefore waited for until the first row after it is older than
``AUDIT_SEAL_SETTLE_SECONDS``, then sealed as skipped; rows after a number still waited for stay unsealed. Seals are
appended by a conditional insert on their place (``number``, unique), so two sealers at once never fork the chain.
"""

import json
import logging
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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


def seal_mac(key_id, number, first_seq, last_seq, skipped, legacy_rows, prev_mac, row_macs):
    """The MAC of a seal: its fields, the MAC of the seal before it, then each (seq, row MAC) it covers, in order."""
    mac = keyed(key_id, json.dumps([number, first_seq, last_seq, list(skipped), legacy_rows, prev_mac]).encode())
    for seq, row in row_macs:
        mac.update(f"\n{seq}:{row}".encode())
    return mac.hexdigest()


def seal_pending():
    """Seal every audit row that is ready, in batches of at most ``AUDIT_SEAL_BATCH``; return the seals made, in
    order (none if nothing was ready, or another sealer took the place first). Needs an app context; commits."""
    made = []
    while (sealed := _seal_next()) is not None:
        made.append(sealed)
    return made


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
    cutoff = now() - timedelta(seconds=config["AUDIT_SEAL_SETTLE_SECONDS"])
    session = db.session
    try:
        hold_write_lock()
        last = session.execute(select(AuditSeal).order_by(AuditSeal.number.desc()).limit(1)).scalar_one_or_none()
        number, after, prev_mac = (last.number + 1, last.last_seq, last.mac) if last else (1, 0, GENESIS)
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
    return Sealed(number, first_seq, last_seq, len(taken), skipped, len(legacy))
