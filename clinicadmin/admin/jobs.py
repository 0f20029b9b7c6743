"""``/admin/jobs``, the administrator's "Background jobs": each job's schedule and last run (when, outcome, what it
did or why it failed), the recent runs, and "Run now", which puts a job on the queue (once per form)."""

import logging

from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_security import current_user
from wtforms import HiddenField

from ..audit import audit
from ..extensions import db
from ..input_policy import policy_form_view
from ..jobs import queue_of
from ..jobs.runs import abandon_stale, last_runs
from ..models import JobRun
from ..transitions import AlreadyDone, claim
from .base import SecuredView
from .once import OnceForm

RECENT = 50
log = logging.getLogger(__name__)


class RunNowForm(OnceForm):
    job = HiddenField()


class JobsView(SecuredView):
    allowed_roles = ("admin",)

    @expose("/")
    def index(self):
        queue = queue_of()
        abandon_stale(list(queue.jobs.values()))
        recent = db.session.execute(db.select(JobRun).order_by(JobRun.id.desc()).limit(RECENT)).scalars().all()
        return self.render(
            "admin/jobs.html",
            queue=queue,
            jobs=list(queue.jobs.values()),
            last=last_runs(list(queue.jobs)),
            recent=recent,
            forms={name: RunNowForm(job=name) for name in queue.jobs},
        )

    @expose("/run", methods=("POST",))
    @policy_form_view
    def run_now(self):
        form = RunNowForm()
        queue = queue_of()
        if not form.validate_on_submit() or form.job.data not in queue.jobs:
            abort(400, "Choose one of the jobs listed; nothing was put on the queue.")
        name = form.job.data
        try:
            claim(form.once.data, "jobs.run_now", current_user)
        except AlreadyDone as exc:
            flash(str(exc), "warning")
            return redirect(url_for(".index"))
        audit("job.run_now", object_type="Job", object_id=name)
        try:
            queue.enqueue(name)
        except Exception:
            db.session.rollback()
            log.exception("could not put job %s on the queue", name)
            flash("The job queue did not answer; nothing was put on it. Try again in a minute.", "error")
            return redirect(url_for(".index"))
        db.session.commit()
        flash(f"{queue.jobs[name].label}: put on the queue; its run appears below when a worker has run it.", "success")
        return redirect(url_for(".index"))
