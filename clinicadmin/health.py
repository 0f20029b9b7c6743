"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: every readiness check passes), for a load
balancer or an orchestrator. Both answer without a login, a session or an audit row, and say only "ok" or
"not ready": why a check failed goes to the log, never to whoever asked.

A readiness check is a function of no arguments, called in the app context, that returns None when ready or a short
reason when not (an exception counts as not ready). The built-in ones check the database and its schema; a later part
(a job queue) adds its own with :func:`readiness_check`.
"""

import logging
from collections.abc import Callable

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app
from sqlalchemy import text

from .extensions import csrf, db

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], str | None]
#: The checks ``/readyz`` runs, in order; the first that fails answers for them all.
READINESS_CHECKS: list[ReadinessCheck] = []

health = Blueprint("health", __name__)
NOT_READY = "not ready\n"
_HEADERS = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


def readiness_check(check: ReadinessCheck) -> ReadinessCheck:
    """Register ``check`` with ``/readyz`` (a decorator; registering one twice keeps one)."""
    if check not in READINESS_CHECKS:
        READINESS_CHECKS.append(check)
    return check


@readiness_check
def database_answers() -> str | None:
    """The database answers a query."""
    db.session.execute(text("SELECT 1"))
    return None


def expected_heads() -> frozenset[str]:
    """The newest revision of the core and of each loaded plugin's branch (read once per app)."""
    state = current_app.extensions["migrate"]
    if "clinicadmin_heads" not in current_app.extensions:
        config = state.migrate.get_config(state.directory)
        current_app.extensions["clinicadmin_heads"] = frozenset(ScriptDirectory.from_config(config).get_heads())
    return current_app.extensions["clinicadmin_heads"]


@readiness_check
def schema_at_every_head() -> str | None:
    """The database is at the newest revision of the core and of every loaded plugin's branch."""
    # read directly rather than through Alembic's MigrationContext, which logs at every probe
    current = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    # A branch of a plugin no longer loaded may stay in the database; every loaded one must be at its head.
    missing = expected_heads() - current
    if missing:
        return f"schema at {sorted(current)}, not at {sorted(missing)}: run `clinicadmin db upgrade`"
    return None


@readiness_check
def queue_answers() -> str | None:
    """The job queue answers: its Redis (a short ping) or its SQLite file (a count of waiting jobs)."""
    from .jobs import queue_of

    queue = queue_of()
    if queue.kind == "redis":
        import redis

        redis.Redis.from_url(queue.location, socket_connect_timeout=2, socket_timeout=2).ping()
    elif queue.kind == "sqlite":
        queue.huey.pending_count()
    return None


def not_ready_reason() -> str | None:
    """Why the app cannot serve (the first failing check's reason), or None when every check passes."""
    for check in READINESS_CHECKS:
        try:
            reason = check()
        except Exception as exc:  # a check that cannot run means not ready, whatever it raised
            reason = f"{type(exc).__name__}: {exc}"
        if reason:
            return f"{check.__name__}: {reason}"
    return None


@health.route("/healthz", methods=["GET"])
@csrf.exempt
def healthz():
    """200 while the process answers; touches nothing else."""
    return "ok\n", 200, _HEADERS


@health.route("/readyz", methods=["GET"])
@csrf.exempt
def readyz():
    """200 when every readiness check passes, else 503 (the reason is logged)."""
    reason = not_ready_reason()
    try:
        db.session.rollback()  # end the checks' transaction; a dead database has nothing to end
    except Exception:
        pass
    if reason:
        log.warning("not ready: %s", reason)
        return NOT_READY, 503, _HEADERS
    return "ok\n", 200, _HEADERS


def init_health(app) -> None:
    """Serve ``/healthz`` and ``/readyz`` on ``app``."""
    app.register_blueprint(health)
