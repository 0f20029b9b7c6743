"""Login hygiene around Flask-Security's views: every way in goes through one throttle, every attempt is audited, a
login starts a new session, and a session idle for too long is ended.

A way in is any request that presents a password or a code: the login form or its JSON twin, the second factor (an
authenticator code or a recovery code), a logged-in person proving it again (``/verify``). Each attempt counts
against the account it names (the account Flask-Security resolves the typed e-mail to, however it is spelt) and
against the connecting address. An attempt counts as failed unless it logged in (or passed its step) or was refused
before any credential was checked (a missing field, a malformed e-mail, a ``next=`` the login refuses), so a link
cannot lock someone out and no credential is checked uncounted. Every endpoint Flask-Security registers is classified
here at start-up: one that is neither a way in nor known to take no credential stops the app, so a way in turned on
later cannot skip the throttle.

Settings (config): ``LOGIN_MAX_FAILURES`` per account and ``LOGIN_MAX_FAILURES_PER_ADDRESS`` within
``LOGIN_LOCKOUT_MINUTES``; ``IDLE_TIMEOUT_MINUTES`` (0 turns the idle timeout off).
"""

import time
from datetime import timedelta

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_security import LoginForm, current_user, logout_user
from flask_security.signals import user_failed_authn
from werkzeug.datastructures import MultiDict

from .audit import audit
from .clock import now
from .extensions import db
from .input_policy import PolicyForm, text_problem
from .models import AuditEvent, User
from .sessions import offer_remember_me
from .write_lock import hold_write_lock

LOGIN_ENDPOINT = "security.login"
#: Steps of a login where someone not yet logged in proves who they are, and with what (as the audit log says it).
LOGIN_STEPS = {
    LOGIN_ENDPOINT: "password",
    "security.two_factor_token_validation": "authenticator code",
    "security.mf_recovery": "recovery code",
    "security.us_signin": "passcode",
    "security.wan_signin_response": "passkey",
}
#: Where a logged-in person proves who they are again (Flask-Security's re-authentication).
REAUTHENTICATION = {
    "security.verify": "password",
    "security.us_verify": "passcode",
    "security.wan_verify_response": "passkey",
}
#: Flask-Security endpoints that take no credential (a logged-in person's own set-up, logging out, static files).
NO_CREDENTIAL = {
    "security.static",
    "security.logout",
    "security.two_factor_setup",
    "security.two_factor_setup_validate",
    "security.two_factor_rescue",
    "security.mf_recovery_codes",
    "security.tf_select",
}


#: What an account that is not active is told once it has given the right password (a wrong one hears the generic
#: message, whether or not the account exists or is active).
INACTIVE_MESSAGE = "This account is not active. Ask a manager to activate it."


class ClinicLoginForm(PolicyForm, LoginForm):
    """Flask-Security's login form, which says when it refused an attempt before checking any credential, and offers
    "Remember me" only when the clinic allows it (``sessions.offer_remember_me``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label = offer_remember_me()
        if label:
            self.remember.label.text = label
        else:
            del self.remember  # Flask-Security then logs in without it, whatever the request says

    def validate(self, **kwargs):
        valid = super().validate(**kwargs)
        # Flask-Security looks the account up (and then checks the password) only once every field is valid, and it
        # names the identity field (`ifield`) when it does: without one, no credential was checked.
        g.login_unchecked = not valid and self.ifield is None
        if (
            not valid
            and getattr(self, "user_authenticated", False)
            and self.user is not None
            and not self.user.is_active
        ):
            # The password was right, so saying the account is not active tells nothing to someone guessing; the
            # field's own error would be turned into the generic message, so it is said at the form's level.
            self.ifield.errors = []
            self.form_errors.append(INACTIVE_MESSAGE)
            g.login_inactive = True
        return valid


def _submitted():
    """The fields of this request as Flask-Security's views read them: the JSON body, or the form."""
    if not request.content_length:
        return MultiDict()
    if not request.is_json:
        return request.form
    try:
        return MultiDict(request.get_json(silent=True) or {})
    except (TypeError, ValueError):
        return MultiDict()


def _account_named(typed):
    """The account a typed e-mail logs in to (its e-mail in lower case), or the typed text when there is none."""
    if not isinstance(typed, str) or not typed.strip():
        return ""
    if text_problem(typed):  # NUL, a lone surrogate ...: kept as escaped text, which every database can store
        return typed.encode("unicode_escape").decode("ascii").lower()[:60]
    try:
        typed = current_app.security.mail_util.normalize(typed)
    except Exception:  # not an e-mail: the form refuses it before checking anything
        return typed.strip().lower()[:60]
    user = current_app.security.datastore.find_user(case_insensitive=True, email=typed)
    return (user.email if user else typed).lower()[:60]


def _attempted_account():
    """The account being logged in to: the e-mail typed, at the second factor the account whose password was right
    (Flask-Security keeps it in the session), and at a re-authentication the person logged in."""
    if request.endpoint == LOGIN_ENDPOINT:
        return _account_named(_submitted().get("email"))
    if current_user.is_authenticated:
        return current_user.email.lower()[:60]
    email = db.session.execute(
        db.select(User.email).where(User.fs_uniquifier == str(session.get("tf_user_id") or ""))
    ).scalar_one_or_none()
    return (email or "").lower()[:60]


def _attempt_proof():
    """What this request presents if it is a way in (the audit log's name for it), else None."""
    if request.method != "POST":
        return None
    if request.endpoint == LOGIN_ENDPOINT:
        return LOGIN_STEPS[LOGIN_ENDPOINT]
    if current_user.is_authenticated:
        return REAUTHENTICATION.get(request.endpoint)
    return LOGIN_STEPS.get(request.endpoint)


def _recent_failures(since, **where):
    query = db.select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "login.failure", AuditEvent.at >= since)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return db.session.execute(query).scalar_one()


def _one_attempt_at_a_time(account):
    """Attempts on one account, and from one address, are counted, checked and their failure written one at a time:
    otherwise a burst of guesses sent together would all pass the count before any failure is stored. The lock lasts
    until the attempt's transaction ends (its failure row is committed after the response is built): an advisory
    lock per account and per address on PostgreSQL, the database's write lock on SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        for key in (f"login-account:{account}" if account else None, f"login-address:{request.remote_addr}"):
            if key:
                db.session.execute(db.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    else:
        hold_write_lock()


def _throttled():
    config = current_app.config
    since = now() - timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
    account = g.login_account
    return (account and _recent_failures(since, object_id=account) >= config["LOGIN_MAX_FAILURES"]) or _recent_failures(
        since, remote_addr=request.remote_addr
    ) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]


def _check_every_endpoint_is_classified(app):
    """Stop start-up if Flask-Security registered an endpoint this guard does not know: it might be a way in."""
    known = set(LOGIN_STEPS) | set(REAUTHENTICATION) | NO_CREDENTIAL
    unknown = sorted(e for e in app.view_functions if e.startswith("security.") and e not in known)
    if unknown:
        raise RuntimeError(
            f"login_guard does not know whether {', '.join(unknown)} take a password or a code: add "
            "each to LOGIN_STEPS or REAUTHENTICATION (throttled) or to NO_CREDENTIAL"
        )


def _note_refused_credential(sender, user, auth_type=None, **extra):
    """Flask-Security reports each credential it checked and refused (the only sign a re-authentication failed)."""
    g.credential_refused = auth_type or True


def init_login_guard(app):
    """Register the guard's request hooks on ``app``."""
    _check_every_endpoint_is_classified(app)
    user_failed_authn.connect(_note_refused_credential, app)

    @app.before_request
    def refuse_throttled_logins():
        g.login_proof = _attempt_proof()
        if not g.login_proof:
            return
        g.login_account = _attempted_account()
        _one_attempt_at_a_time(g.login_account)
        if _throttled():
            audit("login.throttled", object_type="User", object_id=g.login_account, outcome="refused")
            db.session.commit()
            abort(429)
        g.paa_before = session.get("fs_paa")
        if request.endpoint == LOGIN_ENDPOINT:
            # A login starts a new session: nothing from before it (a CSRF token, anything planted) carries over.
            # CSRFProtect has already checked this request's token.
            session.clear()

    @app.after_request
    def audit_login_attempts(response):
        proof = g.get("login_proof")
        if not proof or response.status_code == 429:
            return response
        account = g.login_account
        if request.endpoint in REAUTHENTICATION:
            if g.get("credential_refused"):
                audit(
                    "login.failure",
                    object_type="User",
                    object_id=account,
                    outcome="failed",
                    detail={"wrong": proof, "step": "re-authentication"},
                )
            elif session.get("fs_paa") != g.paa_before:
                audit("login.reauthenticated", object_type="User", object_id=account, detail={"proof": proof})
        elif current_user.is_authenticated:
            session["last_seen"] = time.time()
            audit(
                "login.success",
                object_type="User",
                object_id=current_user.email.lower()[:60],
                detail={"last_proof": proof},
            )
        elif request.endpoint == LOGIN_ENDPOINT and session.get("tf_user_id"):
            audit("login.second_factor_required", object_type="User", object_id=account, outcome="pending")
        elif g.get("login_unchecked"):
            audit(
                "login.refused",
                object_type="User",
                object_id=account,
                outcome="refused",
                detail={"reason": "incomplete form or a refused next= (no credential checked)"},
            )
        elif g.get("login_inactive"):
            # Counted like a failure: the account is not let in, and the throttle must not learn otherwise.
            audit(
                "login.failure",
                object_type="User",
                object_id=account,
                outcome="failed",
                detail={"refused": "account not active"},
            )
        else:
            audit("login.failure", object_type="User", object_id=account, outcome="failed", detail={"wrong": proof})
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
