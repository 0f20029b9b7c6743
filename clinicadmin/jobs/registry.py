"""The named background jobs: what runs, when (a cron line in the clinic's time zone), and how often it is retried.

Adding a job is one :class:`Job` entry in :data:`CORE_JOBS`: its function (``"module:function"``, imported when the
job runs, called in an app context, returning a one-line summary, a :class:`JobResult` or None, and raising on
failure) and its schedule. ``JOB_SCHEDULES`` in the config changes a job's schedule ("" or None: only on demand);
``JOBS_EXTRA`` adds a deployment's own :class:`Job` entries.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Job:
    """A background job. ``schedule`` is a cron line (minute hour day month weekday, weekday 0 = Sunday) read in the
    clinic's time zone, or None for a job that runs only when enqueued (``run now``, or by the code that needs it).
    ``timeout``: seconds after which a run still recorded as running is taken as abandoned (its worker stopped, or it
    hung) and recorded failed; ``priority``: Huey's task priority (higher runs first when jobs wait)."""

    name: str
    target: str
    label: str
    schedule: str | None = None
    retries: int = 3
    retry_delay: int = 300  # seconds before the next attempt
    timeout: int = 600
    priority: int = 0

    def function(self) -> Callable[[], Any]:
        module, _, attribute = self.target.partition(":")
        return getattr(import_module(module), attribute)


@dataclass(frozen=True)
class JobResult:
    """What a job returns when it has more to say than a line: ``detail`` is kept with its run (JSON)."""

    summary: str
    detail: Any = field(default=None)


#: The core's jobs; each function is imported only when its job runs.
CORE_JOBS: tuple[Job, ...] = (
    Job("audit-seal", "clinicadmin.audit_seal:seal_job", "Seal the audit log", "* * * * *", 5, 30, 120, 10),
    Job(
        "client-messages",
        "clinicadmin.reminders:send_due_job",
        "Booking reminders and aftercare messages to clients",
        "* * * * *",
        3,
        60,
        300,
    ),
    Job("nightly-check", "clinicadmin.jobs.nightly_check:run", "Nightly data check (clinicadmin check)", "30 2 * * *"),
    Job("stock-digest", "clinicadmin.jobs.digests:send_stock_digest", "Daily stock digest", "0 7 * * *"),
    Job(
        "expiry-digest",
        "clinicadmin.jobs.digests:send_expiry_digest",
        "Consents and certifications expiring within 30 days",
        "5 7 * * *",
    ),
)


def configured_jobs(schedules: Mapping[str, str | None], extra: Iterable[Job] = ()) -> dict[str, Job]:
    """The jobs by name: the core's and ``extra``, each with its schedule from ``schedules`` when named there. A
    schedule for no known job, or two jobs of one name, is a configuration error (start-up stops)."""
    jobs: dict[str, Job] = {}
    for job in (*CORE_JOBS, *extra):
        if job.name in jobs:
            raise ValueError(f"two background jobs are named {job.name!r}")
        jobs[job.name] = job
    unknown = set(schedules) - set(jobs)
    if unknown:
        raise ValueError(f"JOB_SCHEDULES names no job called {', '.join(sorted(unknown))}")
    return {name: replace(job, schedule=schedules.get(name, job.schedule) or None) for name, job in jobs.items()}
