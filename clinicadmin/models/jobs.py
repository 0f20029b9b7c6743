"""Background jobs: every run of a job (its outcome, for an admin), and the claims that make a job's effect
happen once (a digest sent once a day, whichever worker runs it)."""

from ..extensions import Model, db
from .types import UTCDateTime

#: running: started, not finished; ok: finished; retrying: failed, will run again; failed: failed, no retry left
JOB_OUTCOMES = ("running", "ok", "retrying", "failed")


class JobRun(Model):
    """One attempt of a background job: when it started and finished, its outcome, what it did or why it failed."""

    __tablename__ = "job_run"
    __table_args__ = (
        db.Index("ix_job_run_job_started", "job", "started_at"),
        db.CheckConstraint("outcome IN ('running', 'ok', 'retrying', 'failed')", name="outcome"),
    )

    id = db.Column(db.Integer, primary_key=True)
    job = db.Column(db.String(80), nullable=False)
    task_id = db.Column(db.String(64))
    attempt = db.Column(db.Integer, nullable=False, default=1)
    started_at = db.Column(UTCDateTime, nullable=False)
    finished_at = db.Column(UTCDateTime)
    outcome = db.Column(db.String(20), nullable=False)
    #: one line: what the run did ("sent 3 digests"), or the error's message
    summary = db.Column(db.String(500))
    #: what the job returned for pages to show (the nightly check's problems)
    detail = db.Column(db.JSON)
    #: the traceback of a failed attempt
    error = db.Column(db.Text)

    def __str__(self):
        return f"{self.job} #{self.id} ({self.outcome})"


class JobClaim(Model):
    """A job's effect for ``key`` (a day, a day and a recipient) claimed once: inserted before the effect, the row's
    primary key refuses a second claim."""

    __tablename__ = "job_claim"

    job = db.Column(db.String(80), primary_key=True)
    key = db.Column(db.String(200), primary_key=True)
    claimed_at = db.Column(UTCDateTime, nullable=False)
