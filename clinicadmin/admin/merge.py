"""``/admin/client-merge/?keep=<id>&merge=<id>``: a manager compares two records of the same person and merges the
second into the first (history, consents, treatments and courses move; the second is archived as merged)."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user

from ..audit import audit_read
from ..client_merge import MergeRefused, client_references, merge
from ..duplicates import probable_duplicates
from ..extensions import db
from ..models import Client
from .base import SecuredView, acting_roles

MERGE_ROLES = ("admin", "manager")


def _active_client(value):
    client = db.session.get(Client, int(value)) if str(value or "").isdecimal() else None
    if client is None or client.archived_at is not None:
        abort(404)
    return client


def _what_moves(client):
    """{"table.column": rows} that a merge of ``client`` would move."""
    counts = {}
    for table, column in client_references():
        n = db.session.execute(db.select(db.func.count()).select_from(table).where(column == client.id)).scalar()
        if n:
            counts[f"{table.name}"] = counts.get(table.name, 0) + n
    return counts


class ClientMergeView(SecuredView):
    allowed_roles = MERGE_ROLES

    def is_visible(self):
        return False  # reached from a duplicate warning or a client's record

    @expose("/", methods=("GET", "POST"))
    def index(self):
        keep, duplicate = _active_client(request.values.get("keep")), _active_client(request.values.get("merge"))
        if request.method == "POST":
            try:
                merge(
                    keep=keep,
                    duplicate=duplicate,
                    user=current_user._get_current_object(),
                    reason=request.form.get("reason", "")[:200],
                    roles=acting_roles(),
                )
            except MergeRefused as exc:
                db.session.rollback()
                flash(f"Nothing was merged: {exc}", "error")
                return redirect(url_for(".index", keep=request.values.get("keep"), merge=request.values.get("merge")))
            flash(f"Merged the duplicate record into {keep}; the duplicate is archived as merged.", "success")
            return redirect(url_for("client.details_view", id=keep.id))
        audit_read("client.view", obj=keep, client_id=keep.id, detail={"form": "merge"})
        audit_read("client.view", obj=duplicate, client_id=duplicate.id, detail={"form": "merge"})
        return self.render("admin/client_merge.html", keep=keep, duplicate=duplicate, moves=_what_moves(duplicate))

    @expose("/candidates/<int:client_id>")
    def candidates(self, client_id):
        """The records that are probably the same person as ``client_id``, each with a link to merge it."""
        client = _active_client(client_id)
        found = probable_duplicates(
            first_name=client.first_name,
            last_name=client.last_name,
            date_of_birth=client.date_of_birth,
            email=client.email,
            phone=client.phone,
            exclude_id=client.id,
        )
        audit_read("client.duplicates", obj=client, client_id=client.id, detail={"found": [c.id for c, _ in found]})
        return self.render("admin/client_duplicates.html", client=client, found=found)
