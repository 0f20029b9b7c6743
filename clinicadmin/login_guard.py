"""Login hygiene around Flask-Security's login views: every attempt is audited, repeated failures per account and per
address are throttled (a wrong two-factor code counts like a wrong password), a login starts a new session, and a
session idle for too long is ended.

Settings (config): ``LOGIN_MAX_FAILURES`` per account and ``LOGIN_MAX_FAILURES_PER_ADDRESS`` within
``LOGIN_LOCKOUT_MINUTES``; ``IDLE_TIMEOUT_MINUTES`` (0 turns the idle timeout off).
"""
import time
from datetime import datetime, timedelta

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_security import current_user, logout_user

from .audit import audit
from .extensions import db
from .models import AuditEvent, User
from .two_factor import SECOND_FACTOR_ENDPOINTS

LOGIN_ENDPOINT = "security.login"
#: How each login endpoint proves who someone is, as the audit log says it.
_PROOF = {LOGIN_ENDPOINT: "password", "security.two_factor_token_validation": "authenticator code",
          "security.mf_recovery": "recovery code"}


def _attempted_email():
    """The account being logged in to: the e-mail typed, or, at the second factor, the account whose password was
    right (Flask-Security keeps it in the session)."""
    if request.endpoint in SECOND_FACTOR_ENDPOINTS:
        user = db.session.execute(db.select(User.email).where(
            User.fs_uniquifier == str(session.get("tf_user_id") or ""))).scalar_one_or_none()
        return (user or "").lower()[:60]
    return (request.form.get("email") or "").strip().lower()[:60]


def _is_login_attempt():
    """A POST that tries to log in: the password, or the second factor of a login (not a logged-in person changing
    their own two-factor set-up)."""
    if request.method != "POST":
        return False
    return request.endpoint == LOGIN_ENDPOINT or (request.endpoint in SECOND_FACTOR_ENDPOINTS
                                                  and not current_user.is_authenticated)


def _recent_failures(since, **where):
    query = db.select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "login.failure", AuditEvent.at >= since)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return db.session.execute(query).scalar_one()


def _throttled():
    config = current_app.config
    since = datetime.utcnow() - timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
    email = g.login_email
    return ((email and _recent_failures(since, object_id=email) >= config["LOGIN_MAX_FAILURES"])
            or _recent_failures(since, remote_addr=request.remote_addr) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"])


def init_login_guard(app):
    """Register the guard's request hooks on ``app``."""

    @app.before_request
    def refuse_throttled_logins():
        g.login_attempt = _is_login_attempt()
        if not g.login_attempt:
            return
        g.login_email = _attempted_email()
        if _throttled():
            audit("login.throttled", object_type="User", object_id=g.login_email, outcome="refused")
            db.session.commit()
            abort(429)
        if request.endpoint == LOGIN_ENDPOINT:
            # A login starts a new session: nothing from before it (a CSRF token, anything planted) carries over.
            # CSRFProtect has already checked this request's token.
            session.clear()

    @app.after_request
    def audit_login_attempts(response):
        if not g.get("login_attempt") or response.status_code == 429:
            return response
        proof = _PROOF[request.endpoint]
        if current_user.is_authenticated:
            session["last_seen"] = time.time()
            audit("login.success", object_type="User", object_id=current_user.email.lower()[:60],
                  detail={"last_proof": proof})
        elif request.endpoint == LOGIN_ENDPOINT and session.get("tf_user_id"):
            audit("login.second_factor_required", object_type="User", object_id=g.login_email, outcome="pending")
        else:
            audit("login.failure", object_type="User", object_id=g.login_email, outcome="failed",
                  detail={"wrong": proof})
        db.session.commit()
        return response

    @app.before_request
    def end_idle_sessions():
        minutes = current_app.config["IDLE_TIMEOUT_MINUTES"]
        if not minutes or not current_user.is_authenticated or request.endpoint in (None, "static"):
            return None
        now, last_seen = time.time(), session.get("last_seen")
        if last_seen is not None and now - last_seen > minutes * 60:
            audit("logout.idle", object_type="User", object_id=current_user.email.lower()[:60])
            db.session.commit()
            logout_user()
            session.pop("last_seen", None)
            flash(f"You were logged out after {minutes} minutes without activity.", "info")
            return redirect(url_for(LOGIN_ENDPOINT, next=request.full_path))
        session["last_seen"] = now
        return None
