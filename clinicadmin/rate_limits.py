"""Rate limits on every sensitive endpoint, through Flask-Limiter: how often logins, lookups, exports and reports
may be asked for, whatever the answer.

Each kind of endpoint has a setting holding Flask-Limiter limit strings (``"10 per minute;50 per hour"``; empty: no
limit): ``RATE_LIMIT_LOGIN_PER_ADDRESS`` and ``RATE_LIMIT_LOGIN_PER_ACCOUNT`` for every way in the login guard knows
(``login_guard.LOGIN_STEPS`` and ``REAUTHENTICATION``, counted only when a request presents a credential),
``RATE_LIMIT_LOOKUPS`` for every ajax lookup (Flask-Admin's ``*.ajax_lookup`` endpoints), ``RATE_LIMIT_EXPORTS`` and
``RATE_LIMIT_REPORTS`` for the views marked with :func:`rate_limited`. Logins count per address and per account;
lookups, exports and reports per person signed in (a clinic's staff often share one address), per address before.

The counts live in ``RATELIMIT_STORAGE_URI``, else ``REDIS_URL``, so that every worker and server shares them. Without
either, they live in the process's memory: fine for one process (development, tests), but a server in production mode
refuses to start that way unless ``RATELIMIT_STORAGE_URI = "memory://"`` says the limits may be per process. When the
storage cannot be reached, each process counts in its own memory until it can (never a 500, never unlimited).
``RATELIMIT_ENABLED`` None turns the limits on except under ``TESTING``. A refused request is a 429 with
``Retry-After``, HTML for a page and JSON for a script; it is logged, and audited once a minute per limit and key.
"""

import logging
import math
import time

from flask import current_app, g, jsonify, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_security import current_user
from limits import RateLimitItemPerMinute

from .audit import audit
from .extensions import db
from .login_guard import LOGIN_STEPS, REAUTHENTICATION

log = logging.getLogger(__name__)

EXTENSION_KEY = "clinicadmin.rate_limits"
#: The kinds of sensitive endpoint, each with the settings that limit it and whom they count: (setting, key).
KINDS = {
    "login": (("RATE_LIMIT_LOGIN_PER_ADDRESS", "address"), ("RATE_LIMIT_LOGIN_PER_ACCOUNT", "account")),
    "lookups": (("RATE_LIMIT_LOOKUPS", "person"),),
    "exports": (("RATE_LIMIT_EXPORTS", "person"),),
    "reports": (("RATE_LIMIT_REPORTS", "person"),),
}
#: What a refused person is told, by kind.
REFUSALS = {
    "login": "Too many login attempts from this address or for this account.",
    "lookups": "Too many searches in a short time.",
    "exports": "Too many downloads in a short time.",
    "reports": "Too many reports in a short time.",
}


def rate_limited(kind):
    """Mark a view as one of the sensitive ``kind`` (a key of :data:`KINDS`); its limits are applied at start-up."""
    if kind not in KINDS:
        raise ValueError(f"unknown rate-limited kind {kind!r}; one of {', '.join(KINDS)}")

    def mark(view):
        view.rate_limited = kind
        return view

    return mark


def _key(whom):
    """Whom a request counts against: its address, the account a login names, or the person signed in."""
    if whom == "address":
        return lambda: "address:" + get_remote_address()
    if whom == "account":
        return lambda: "account:" + (g.get("login_account") or "-")
    return lambda: f"person:{current_user.id}" if current_user.is_authenticated else "address:" + get_remote_address()


def _kind_of(endpoint, view):
    if endpoint in LOGIN_STEPS or endpoint in REAUTHENTICATION:
        return "login"
    if endpoint.rsplit(".", 1)[-1] == "ajax_lookup":
        return "lookups"
    return getattr(view, "rate_limited", None)


def storage_uri(app, serving):
    """Where the counts live; refuses memory for a server in production mode unless it is chosen explicitly."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL")
    if uri:
        return uri
    if serving and not (app.debug or app.testing):
        raise RuntimeError(
            "Set REDIS_URL (redis://host:6379/0) in instance/config.py (or CLINICADMIN_REDIS_URL) so that every worker "
            'shares the rate limits, or RATELIMIT_STORAGE_URI = "memory://" to keep them per process (a server with '
            "4 workers then allows 4 times each limit). See docs/operations.md."
        )
    return "memory://"


def _with_limits(limiter, endpoint, view, kind):
    """``view`` behind its kind's limits, as a function of its own (Flask-Limiter keys decorated limits by name)."""

    def limited_view(*args, **kwargs):
        return view(*args, **kwargs)

    limited_view.__module__ = __name__
    limited_view.__name__ = limited_view.__qualname__ = f"limited[{endpoint}]"
    for setting, whom in KINDS[kind]:
        limited_view = limiter.shared_limit(
            lambda setting=setting: current_app.config[setting] or "",
            scope=f"{kind}-{whom}",
            key_func=_key(whom),
            methods=["POST"] if kind == "login" else None,
            # a way in counts when it presents a credential, as the login guard counts it
            exempt_when=(lambda: not g.get("login_proof")) if kind == "login" else None,
            error_message=kind,
        )(limited_view)
    return limited_view


def _refused(exc):
    """The 429 for a limit reached: the kind's sentence and when to try again; logged, and audited once a minute."""
    limiter = current_app.extensions[EXTENSION_KEY]
    kind = exc.description if exc.description in REFUSALS else "login"
    breached = limiter.current_limit
    retry_after = max(1, math.ceil(breached.reset_at - time.time())) if breached else 60
    counted = list(breached.request_args) if breached else [kind]  # [prefix,] whom, scope
    whom = counted[-2] if len(counted) > 1 else ""
    log.warning("rate limit %s reached by %s at %s (%s)", exc.limit.limit, whom, request.endpoint, kind)
    try:
        if limiter.limiter.hit(RateLimitItemPerMinute(1), "audited", *counted):
            audit(
                "rate_limit.refused",
                object_type="RateLimit",
                object_id=kind,
                outcome="refused",
                detail={"limit": str(exc.limit.limit), "key": whom[:100], "endpoint": request.endpoint},
            )
            db.session.commit()
    except Exception:  # the refusal stands whether or not it could be written down
        db.session.rollback()
        log.exception("could not audit a rate-limit refusal")
    message = f"{REFUSALS[kind]} Try again in {retry_after} seconds."
    if "/ajax/" in request.path:
        response = jsonify({"error": message})
    elif request.is_json:  # Flask-Security's JSON shape, for a JSON login
        response = jsonify({"meta": {"code": 429}, "response": {"errors": [message]}})
    else:
        response = current_app.make_response(render_template("error.html", code=429, message=message))
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def init_rate_limits(app, serving=False):
    """Put every sensitive endpoint of ``app`` behind its limits; call it once every view is registered."""
    if app.config.get("RATELIMIT_ENABLED") is None:
        app.config["RATELIMIT_ENABLED"] = not app.testing
    if not app.config["RATELIMIT_ENABLED"]:
        return
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app, serving)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter = Limiter(get_remote_address, app=app)
    app.extensions[EXTENSION_KEY] = limiter
    for endpoint, view in list(app.view_functions.items()):
        kind = _kind_of(endpoint, view)
        if kind:
            app.view_functions[endpoint] = _with_limits(limiter, endpoint, view, kind)
    app.register_error_handler(RateLimitExceeded, _refused)
