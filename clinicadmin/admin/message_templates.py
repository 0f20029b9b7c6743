"""The managers' page of message wording: each kind of message on each registered channel, edited and audited."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from sqlalchemy.exc import IntegrityError

from ..audit import audit
from ..clock import now
from ..extensions import db
from ..message_templates import (
    KIND_LABELS,
    PLACEHOLDERS,
    TemplateProblem,
    check_template,
    default_template,
    saved_template,
)
from ..models import MessageTemplate
from ..plugins import registry
from .base import SecuredView

MAX_SUBJECT = 200
MAX_BODY = 5000


class MessageTemplateView(SecuredView):
    """Managers word the booking reminder and the aftercare message per channel; the core's wording until then."""

    allowed_roles = ("admin", "manager")

    def _rows(self):
        reg = registry()
        for kind, kind_label in KIND_LABELS.items():
            for channel, channel_label in reg.message_channel_choices():
                saved = saved_template(kind, channel)
                subject, body = (saved.subject, saved.body) if saved else default_template(kind, channel)
                yield {
                    "kind": kind,
                    "kind_label": kind_label,
                    "channel": channel,
                    "channel_label": channel_label,
                    "subject": subject,
                    "body": body,
                    "saved": saved,
                }

    @expose("/")
    def index(self):
        return self.render("admin/message_templates.html", rows=list(self._rows()))

    @expose("/edit", methods=("GET", "POST"))
    def edit(self):
        kind, channel = request.args.get("kind", ""), request.args.get("channel", "")
        if kind not in KIND_LABELS or channel not in registry().message_channels:
            abort(404)
        saved = saved_template(kind, channel)
        subject, body = (saved.subject, saved.body) if saved else default_template(kind, channel)
        problem = None
        if request.method == "POST":
            subject = request.form.get("subject", "").strip()
            body = request.form.get("body", "").replace("\r\n", "\n").strip()
            try:
                if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
                    raise TemplateProblem(
                        f"The subject holds at most {MAX_SUBJECT} characters and the text at most {MAX_BODY}."
                    )
                check_template(subject, body)
            except TemplateProblem as exc:
                problem = str(exc)
            else:
                if self._save(kind, channel, saved, subject, body):
                    flash("The message was saved; the next messages use it.", "success")
                    return redirect(url_for(".index"))
                problem = "Someone else saved this message meanwhile; nothing was saved. Check it and save again."
        page = self.render(
            "admin/message_template_edit.html",
            kind=kind,
            kind_label=KIND_LABELS[kind],
            channel=channel,
            channel_label=registry().message_channel_label(channel),
            subject=subject,
            body=body,
            problem=problem,
            placeholders=PLACEHOLDERS,
        )
        return (page, 400) if problem else page

    def _save(self, kind, channel, saved, subject, body):
        """Store the wording and its audit row in one transaction; False when a colleague's save came first."""
        old = {"subject": saved.subject, "body": saved.body} if saved else None
        user = current_user._get_current_object()
        if saved is None:
            saved = MessageTemplate(kind=kind, channel=channel)
            db.session.add(saved)
        saved.subject, saved.body, saved.updated_at, saved.updated_by = subject, body, now(), user
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            return False
        audit(
            "message_template.change",
            obj=saved,
            detail={"kind": kind, "channel": channel, "old": old, "new": {"subject": subject, "body": body}},
        )
        db.session.commit()
        return True
