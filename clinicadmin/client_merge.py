"""Merging a duplicate client record into the one kept: everything that belongs to the duplicate moves, the duplicate
is archived as merged, in one transaction, audited.

"Everything" is every row of every table that references a client, found from the schema (so a plugin's own tables
move too), except the audit log: its rows carry keyed digests of their content and are never rewritten, so they stay
under the duplicate's id, which the merge's own audit rows name on both records.
"""

from sqlalchemy import column, inspect, table, update
from sqlalchemy.exc import IntegrityError

from . import booking
from .audit import audit
from .clock import now
from .extensions import db
from .first_session import recompute
from .models import Client, Treatment
from .screening import screen
from .transitions import change_once, when

MERGE_ROLES = {"admin", "manager"}
NOT_MOVED = {"audit_event"}


class MergeRefused(Exception):
    """The merge cannot be done as asked; nothing was changed. The message is for the user."""


def client_references():
    """[(table, column)]: every column in the database that references a client, but the audit log's and the
    merge link's. Read from the database itself, so that the tables of a plugin that is not loaded now move too."""
    found = []
    inspector = inspect(db.session.connection())
    for name in inspector.get_table_names():
        if name in NOT_MOVED:
            continue
        for fk in inspector.get_foreign_keys(name):
            if fk["referred_table"] != "client" or fk["constrained_columns"] == ["merged_into_id"]:
                continue
            for column_name in fk["constrained_columns"]:
                referencing = table(name, column(column_name))
                found.append((referencing, referencing.c[column_name]))
    return found


def merge(*, keep, duplicate, user, reason, roles):
    """Move everything of ``duplicate`` to ``keep``, archive ``duplicate`` as merged into it, screen ``keep``'s booked
    treatments again (their history may have grown), and commit; or raise :class:`MergeRefused` having changed
    nothing. ``roles`` are the acting user's roles as stored."""
    reason = (reason or "").strip()
    if not set(roles) & MERGE_ROLES:
        raise MergeRefused("Only a manager can merge client records.")
    if keep.id == duplicate.id:
        raise MergeRefused("Choose two different records.")
    if not 5 <= len(reason) <= 200:
        raise MergeRefused("Say why the records are the same person (5 to 200 characters).")
    clash = booking.clients_overlap(keep, duplicate)
    if clash:
        raise MergeRefused(
            "The two records have bookings at overlapping times; cancel or move one of each pair, "
            "then merge. " + " ".join(clash)
        )
    try:
        moved = {}
        # Lock order as everywhere: treatments (and the other rows that reference the client), then the clients.
        for table, column in client_references():
            count = db.session.execute(update(table).where(column == duplicate.id).values({column.name: keep.id}))
            if count.rowcount:
                moved[f"{table.name}.{column.name}"] = count.rowcount
        at = now()
        if not change_once(
            duplicate,
            lambda c: (c.archived_at.is_(None),),
            archived_at=at,
            archived_by_id=user.id,
            archive_reason=f"Merged into client #{keep.id}: {reason}"[:255],
            merged_into_id=keep.id,
        ):
            db.session.rollback()
            db.session.refresh(duplicate)
            raise MergeRefused(
                f"{duplicate} was archived or merged already (by {duplicate.archived_by} at "
                f"{when(duplicate.archived_at)}); nothing was changed."
            )
        # The client fields the kept record lacks come from the duplicate (its own values win), so that screening
        # the moved bookings reads them; the duplicate keeps its copy.
        kept_fields = dict(keep.plugin_fields or {})
        taken = {k: v for k, v in (duplicate.plugin_fields or {}).items() if k not in kept_fields}
        fields = {"plugin_fields": {**kept_fields, **taken}} if taken else {}
        if not change_once(keep, lambda c: (c.archived_at.is_(None),), merged_into_id=None, **fields):
            db.session.rollback()
            raise MergeRefused(f"{keep} is archived; restore it or keep the other record. Nothing was changed.")
        db.session.expire_all()
        recompute({keep.id})
        booked = (
            db.session.execute(
                db.select(Treatment).where(
                    Treatment.client_id == keep.id, Treatment.status == "booked", Treatment.archived_at.is_(None)
                )
            )
            .scalars()
            .all()
        )
        for treatment in booked:
            screen(treatment, "review")
        audit(
            "client.merge",
            obj=keep,
            client_id=keep.id,
            detail={
                "merged": duplicate.id,
                "moved": moved,
                "reason": reason,
                "rescreened": len(booked),
                "client_fields_taken": taken,
            },
        )
        audit("client.merged_into", obj=duplicate, client_id=duplicate.id, detail={"into": keep.id, "reason": reason})
        db.session.commit()
    except MergeRefused:
        raise
    except IntegrityError as exc:
        db.session.rollback()
        if getattr(exc.orig, "sqlstate", None) == booking.EXCLUSION_VIOLATION:
            raise MergeRefused(
                "The two records have bookings at overlapping times (booked a moment ago); cancel "
                "or move one of them, then merge. Nothing was changed."
            ) from None
        raise
    except BaseException:
        db.session.rollback()
        raise
    return moved


def merged_ids(client_id):
    """The ids of the records merged into ``client_id`` (directly or through a chain of merges), with its own."""
    ids, frontier = {client_id}, {client_id}
    while frontier:
        frontier = (
            set(db.session.execute(db.select(Client.id).where(Client.merged_into_id.in_(frontier))).scalars()) - ids
        )
        ids |= frontier
    return ids
