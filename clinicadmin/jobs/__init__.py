"""Background jobs through Huey: the registry of named jobs (:mod:`.registry`), the app's queue (:mod:`.queue`),
each run recorded in ``job_run`` (:mod:`.runs`), and the core's jobs (:mod:`.nightly_check`, :mod:`.digests`)."""

from .queue import EXTENSION, JobQueue, enqueue, init_jobs, queue_of
from .registry import CORE_JOBS, Job, JobResult

__all__ = ["CORE_JOBS", "EXTENSION", "Job", "JobQueue", "JobResult", "enqueue", "init_jobs", "queue_of"]
