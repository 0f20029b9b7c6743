"""The app's job queue, built when the app is created: Huey over SQLite in the instance folder (the default: nothing
but Python), over Redis (``JOBS_QUEUE`` a redis URL, or unset with ``REDIS_URL`` set) for a chain, or immediate
(``JOBS_QUEUE = "immediate"``: each job runs when enqueued, for tests). Each registered job is a Huey task of that
app's queue that runs in an app context of that app, periodic when it has a schedule."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import Huey, MemoryHuey, PriorityRedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper

from .registry import Job, configured_jobs
from .runs import run_recorded

log = logging.getLogger(__name__)
EXTENSION = "clinicadmin_jobs"


@dataclass
class JobQueue:
    """An app's queue: the Huey instance, its kind ("sqlite", "redis", "immediate"), and each job's task."""

    huey: Huey
    kind: str
    location: str
    jobs: dict[str, Job]
    tasks: dict[str, TaskWrapper]

    def enqueue(self, name: str) -> None:
        """Put job ``name`` on the queue (KeyError for no such job)."""
        self.tasks[name]()


def queue_of(app: Flask | None = None) -> JobQueue:
    return (app or current_app).extensions[EXTENSION]


def enqueue(name: str) -> None:
    """Put the current app's job ``name`` on its queue."""
    queue_of().enqueue(name)


def _huey(app: Flask) -> tuple[Huey, str, str]:
    setting = app.config.get("JOBS_QUEUE") or app.config.get("REDIS_URL") or "sqlite"
    name = app.config["JOBS_QUEUE_NAME"]
    if setting == "immediate":
        return MemoryHuey(name, immediate=True, results=False), "immediate", "memory"
    if setting.startswith(("redis://", "rediss://", "unix://")):
        # The priority flavour: the sealer goes before slower jobs (plain RedisHuey refuses task priorities).
        return PriorityRedisHuey(name, url=setting, results=False), "redis", setting
    if setting == "sqlite" or setting.startswith("sqlite:///"):
        path = setting[len("sqlite:///") :] if setting != "sqlite" else str(Path(app.instance_path) / "jobs.sqlite")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, results=False, filename=path, timeout=30), "sqlite", path
    raise ValueError(f"JOBS_QUEUE must be 'sqlite', 'sqlite:///<file>', a redis:// URL or 'immediate', not {setting!r}")


def _parse_cron(line: str):
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"a job's schedule is a cron line of 5 fields (minute hour day month weekday), not {line!r}")
    return crontab(*fields, strict=True)


def _due_in_clinic_zone(app: Flask, line: str):
    """A Huey schedule test for the cron ``line`` read in the clinic's time zone (UTC if it cannot be read)."""
    matches = _parse_cron(line)

    def due(timestamp: datetime) -> bool:
        from ..clock import clinic_zone

        instant = timestamp.replace(tzinfo=UTC)
        try:
            with app.app_context():
                wall = instant.astimezone(clinic_zone())
        except Exception:  # the database is unreachable: keep the schedule in UTC rather than stop the scheduler
            log.warning("the clinic's time zone could not be read; job schedules are read in UTC this minute")
            wall = instant
        return bool(matches(wall.replace(tzinfo=None)))

    return due


def _task(app: Flask, huey: Huey, job: Job) -> TaskWrapper:
    def run(task: Any = None) -> None:
        retries_left = task.retries if task is not None else 0
        attempt = job.retries - retries_left + 1
        with app.app_context():
            run_recorded(job, attempt, retries_left, getattr(task, "id", None))

    run.__doc__ = job.label
    options: dict[str, Any] = {
        "retries": job.retries,
        "retry_delay": job.retry_delay,
        "context": True,
        "name": job.name,
        "priority": job.priority,
    }
    if job.schedule:
        return huey.periodic_task(_due_in_clinic_zone(app, job.schedule), **options)(run)
    return huey.task(**options)(run)


def init_jobs(app: Flask) -> JobQueue:
    """Build ``app``'s queue and register every job on it (a bad schedule or ``JOBS_QUEUE`` stops start-up)."""
    jobs = configured_jobs(app.config.get("JOB_SCHEDULES") or {}, app.config.get("JOBS_EXTRA") or ())
    huey, kind, location = _huey(app)
    queue = JobQueue(huey, kind, location, jobs, {name: _task(app, huey, job) for name, job in jobs.items()})
    app.extensions[EXTENSION] = queue
    return queue
