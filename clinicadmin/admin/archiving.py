"""Archiving from a list: managers select records, give one reason, and they are archived together or not at all."""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action

from ..input_policy import real_text
from .base import user_has_role

ARCHIVE_ROLES = ("admin", "manager")
MAX_AT_ONCE = 500


class ArchiveRefused(Exception):
    """The records cannot be archived as asked; the message says why, and nothing was archived."""


class ArchiveListActionMixin:
    """Adds the list action "Archive with a reason" and its confirmation page ``<view>/archive/``.

    A view sets ``archive_noun`` and ``archive_explanation`` and implements ``archive_records(records, reason)``,
    which archives, audits and commits, or raises :class:`ArchiveRefused`. Records are looked up through
    ``get_query``, so only what the list shows can be archived. ``id`` or ``ids`` (comma-separated) name them.
    """

    archive_noun = "record"
    archive_explanation = ""

    def is_action_allowed(self, name):
        return name == "archive" and user_has_role(*ARCHIVE_ROLES)

    @action("archive", "Archive with a reason")
    def action_archive(self, ids):
        """Selected on the list: ask for the reason on the archive page."""
        return redirect(url_for(".archive_view", ids=",".join(str(i) for i in ids)))

    def archive_records(self, records, reason):
        raise NotImplementedError

    def archive_label(self, record):
        """How a record is named on the confirmation page and in the message."""
        return str(record)

    def _archivable(self, ids):
        wanted = [int(i) for i in ids if str(i).isdecimal()][:MAX_AT_ONCE]
        pk = self.model.__mapper__.primary_key[0]
        return self.get_query().filter(pk.in_(wanted)).order_by(pk).all()

    @expose("/archive/", methods=("GET", "POST"))
    def archive_view(self):
        """Archive one record (``id``) or several (``ids``) with one written reason, in one transaction."""
        noun = self.archive_noun
        if not user_has_role(*ARCHIVE_ROLES):
            flash(f"Only a manager can archive a {noun}.", "error")
            return redirect(url_for(".index_view"))
        ids = request.values.getlist("id") + (request.values.get("ids") or "").split(",")
        records = self._archivable(i for i in ids if i)
        if not records:
            flash(f"None of those {noun}s is on the active list.", "error")
            return redirect(url_for(".index_view"))
        labels = [self.archive_label(r) for r in records]
        page = dict(labels=labels, ids=[r.id for r in records], noun=noun, explanation=self.archive_explanation)
        if request.method == "GET":
            return self.render("admin/archive_confirm.html", **page)
        reason = (request.form.get("reason") or "").strip()
        if not (5 <= len(reason) <= 255 and len(real_text(reason)) >= 5):
            flash("Give a reason for archiving (5 to 255 characters); nothing was archived.", "error")
            return self.render("admin/archive_confirm.html", **page)
        try:
            self.archive_records(records, reason)
        except ArchiveRefused as exc:
            flash(str(exc), "error")
            return self.render("admin/archive_confirm.html", **page)
        flash(f"Archived {'; '.join(labels)}. The records are kept and managers can still find them.", "success")
        return redirect(url_for(".index_view"))
