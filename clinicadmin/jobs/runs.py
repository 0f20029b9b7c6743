"""Running a job and keeping its record: each attempt is a ``job_run`` row (running, then ok, retrying or failed),
and a failure is logged with its traceback before the queue retries it. :func:`claim_once` makes one effect of a job
happen once, whichever worker or run gets there first."""

import logging
import traceback
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.dialects import postgresql, sqlite

from ..clock import now
from ..extensions import db
from ..models import JobClaim, JobRun
from .registry import Job, JobResult

log = logging.getLogger(__name__)
#: a job's runs and claims are kept this long (the sealer alone runs 1,440 times a day)
KEPT_FOR = timedelta(days=30)


def run_recorded(job: Job, attempt: int, retries_left: int, task_id: str | None = None) -> None:
    """Run ``job`` (inside an app context) as attempt ``attempt``, recording it in ``job_run``. A failure is
    recorded ("retrying" while ``retries_left``, else "failed"), logged at ERROR and raised again for the queue. Its
    earlier runs left running past its time limit are first recorded as abandoned."""
    abandon_stale([job])
    run = JobRun(job=job.name, task_id=task_id, attempt=attempt, started_at=now(), outcome="running")
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    try:
        result = job.function()()
    except Exception as exc:
        db.session.rollback()
        outcome = "retrying" if retries_left > 0 else "failed"
        log.error(
            "background job %s failed (attempt %d, %s): %s",
            job.name,
            attempt,
            f"retried in {job.retry_delay} s" if outcome == "retrying" else "no retry left",
            exc,
            exc_info=True,
            extra={"job": job.name, "attempt": attempt, "outcome": outcome},
        )
        _finish(run_id, outcome, f"{type(exc).__name__}: {exc}", None, traceback.format_exc())
        raise
    summary, detail = _summary(result)
    _finish(run_id, "ok", summary, detail, None)
    _forget_old(job.name)
    log.info("background job %s ran: %s", job.name, summary, extra={"job": job.name, "attempt": attempt})


ABANDONED = "abandoned: the worker stopped or the job ran past its time limit"


def abandon_stale(jobs: list[Job]) -> int:
    """Record as failed ("abandoned") each run of ``jobs`` still running after its job's ``timeout``: one conditional
    UPDATE per job, on runs still running, so a run that finishes meanwhile keeps its outcome. Returns how many."""
    moment, count = now(), 0
    try:
        for job in jobs:
            result: Any = db.session.execute(
                db.update(JobRun)
                .where(
                    JobRun.job == job.name,
                    JobRun.outcome == "running",
                    JobRun.started_at < moment - timedelta(seconds=job.timeout),
                )
                .values(outcome="failed", finished_at=moment, summary=ABANDONED)
            )
            count += result.rowcount
        db.session.commit()
    except Exception:  # bookkeeping: the next run or page tries again
        db.session.rollback()
        log.exception("could not record abandoned job runs")
        return 0
    if count:
        log.error("%d background job run(s) %s", count, ABANDONED, extra={"outcome": "abandoned"})
    return count


def _summary(result: Any) -> tuple[str, Any]:
    if isinstance(result, JobResult):
        return result.summary, result.detail
    return ("done" if result is None else str(result)), None


def _finish(run_id: int, outcome: str, summary: str, detail: Any, error: str | None) -> None:
    try:
        db.session.execute(
            db.update(JobRun)
            .where(JobRun.id == run_id)
            .values(outcome=outcome, finished_at=now(), summary=summary[:500], detail=detail, error=error)
        )
        db.session.commit()
    except Exception:  # the record could not be kept (the database is down): the log has it
        db.session.rollback()
        log.exception("could not record the outcome %s of job run %s", outcome, run_id)


def _forget_old(job: str) -> None:
    """Delete ``job``'s runs and claims older than :data:`KEPT_FOR` (after a run that went well)."""
    before = now() - KEPT_FOR
    try:
        db.session.execute(delete(JobRun).where(JobRun.job == job, JobRun.started_at < before))
        db.session.execute(delete(JobClaim).where(JobClaim.job == job, JobClaim.claimed_at < before))
        db.session.commit()
    except Exception:  # housekeeping: the next run tries again
        db.session.rollback()
        log.exception("could not delete the old runs of job %s", job)


def claim_once(job: str, key: str) -> bool:
    """Claim ``job``'s effect for ``key`` and commit the claim: True for the first claim, False when it was made
    already (by this or any other worker). Insert-if-absent, decided by the row count."""
    dialect = db.engine.dialect.name
    table = JobClaim.__table__
    values = {"job": job, "key": key[:200], "claimed_at": now()}
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - the two supported databases are above
        statement = insert(table).values(**values)
    # The rows inserted, counted from RETURNING: psycopg reports no row count for an INSERT that may do nothing.
    claimed = len(db.session.execute(statement.returning(table.c.job)).all()) == 1
    db.session.commit()
    return claimed


def release_claim(job: str, key: str) -> None:
    """Give back a claim whose effect did not happen (the mail server refused), so that a retry can make it."""
    db.session.rollback()
    db.session.execute(delete(JobClaim).where(JobClaim.job == job, JobClaim.key == key[:200]))
    db.session.commit()


def last_runs(jobs: list[str]) -> dict[str, JobRun]:
    """The latest run of each of ``jobs`` that has run, by job name (one indexed read each)."""
    found = {name: last_run(name) for name in jobs}
    return {name: run for name, run in found.items() if run is not None}


def last_run(job: str) -> JobRun | None:
    return db.session.execute(
        db.select(JobRun).where(JobRun.job == job).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)
    ).scalar_one_or_none()
