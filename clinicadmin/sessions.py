"""How a sign-in is held and how it ends: one signed session cookie, nothing else.

- Logging out ends every session of that person, wherever it was copied to: the session cookie names its person by
  their ``fs_uniquifier``, which a logout replaces (a conditional UPDATE), so every copy of the cookie taken before
  then names nobody. The idle timeout (``login_guard``) ends only the browser's own session.
- "Remember me" is off unless a manager sets ``security.remember_me_hours`` (1 to 12). Then the session cookie
  outlives the browser for that many hours after the login and no longer: the cookie expires then, and the server
  ends the session then even if a copy is sent later. Flask-Login's own remember cookie (a year, and good until the
  password changes) is never issued and never accepted, and neither are Flask-Security's authentication tokens
  (nothing here is an API): neither would be bounded by the idle timeout or by this setting.
- ``HTTPS`` (config): True when browsers reach the clinic over https (directly or through a TLS proxy): cookies are
  ``Secure`` and responses carry HSTS (``headers.py``). False: plain http, said explicitly. A server in production
  mode (not debug, not testing) refuses to start while it is unset.
"""

import time
import uuid
from datetime import UTC, datetime

from flask import flash, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import user_logged_out
from flask_security import current_user, logout_user

from .audit import audit
from .extensions import db

REMEMBER_SETTING = "security.remember_me_hours"
#: The longest a clinic may let a sign-in outlive the browser.
MAX_REMEMBER_HOURS = 12
#: Session key: when a remembered session ends (a Unix time).
_REMEMBER_UNTIL = "remember_until"


def remember_hours():
    """How many hours "Remember me" keeps someone signed in (0: not offered), as the clinic set it, at most 12."""
    from .models import Setting

    row = db.session.get(Setting, REMEMBER_SETTING)
    try:
        hours = int(row.value) if row is not None else 0
    except (TypeError, ValueError):
        return 0
    return max(0, min(hours, MAX_REMEMBER_HOURS))


def offer_remember_me():
    """The login form's label for "Remember me", or None when the clinic does not offer it."""
    hours = remember_hours()
    if not hours:
        return None
    return f"Keep me signed in on this computer for {hours} hour{'s' if hours != 1 else ''}"


class BoundedSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, where a remembered session's cookie expires when the remembering ends, and a
    Flask-Login remember cookie in the request is ignored (and removed from the browser)."""

    def open_session(self, app, request):
        opened = super().open_session(app, request)
        if opened is not None and app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
            opened["_remember"] = "clear"  # Flask-Login then neither logs in with it nor keeps it
        return opened

    def get_expiration_time(self, app, session):
        until = session.get(_REMEMBER_UNTIL)
        if session.permanent and until:
            return datetime.fromtimestamp(until, UTC)
        return super().get_expiration_time(app, session)


def end_every_session(user):
    """Give ``user`` a new ``fs_uniquifier`` so that every session, cookie or token naming the old one names nobody.
    A conditional UPDATE: if another logout got there first, those sessions are already over. The caller commits."""
    from .models import User

    db.session.execute(
        db.update(User)
        .where(User.id == user.id, User.fs_uniquifier == user.fs_uniquifier)
        .values(fs_uniquifier=uuid.uuid4().hex)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(user, ["fs_uniquifier"])


def _on_logout(sender, user, **extra):
    session.pop(_REMEMBER_UNTIL, None)
    session.permanent = False
    if request.endpoint != "security.logout" or user is None or not getattr(user, "is_authenticated", False):
        return  # the idle timeout ends this browser's session only
    audit(
        "logout",
        object_type="User",
        object_id=user.email.lower()[:60],
        user=user,
        detail={"ended": "every session of this person"},
    )
    end_every_session(user)
    db.session.commit()


def configure_https(app, serving):
    """Apply the ``HTTPS`` setting; a server in production mode refuses to start without it."""
    https = app.config.get("HTTPS")
    if https is None:
        if serving and not (app.debug or app.testing):
            raise RuntimeError(
                "Set HTTPS in instance/config.py (or CLINICADMIN_HTTPS): True when browsers reach the clinic over "
                "https, directly or through a TLS proxy (Secure cookies and HSTS); False only for plain http. "
                "See docs/operations.md."
            )
        return
    app.config["HTTPS"] = bool(https)
    if app.config["HTTPS"]:
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")


def init_sessions(app):
    """Install the session rules on ``app`` (after Flask-Security)."""
    app.session_interface = BoundedSessionInterface()
    user_logged_out.connect(_on_logout, app)
    app.login_manager.request_loader(lambda request: None)  # no token logins

    @app.before_request
    def end_remembered_sessions():
        until = session.get(_REMEMBER_UNTIL)
        if until is None or time.time() <= until or request.endpoint in (None, "static"):
            return None
        if current_user.is_authenticated:
            audit("logout.remember_expired", object_type="User", object_id=current_user.email.lower()[:60])
            db.session.commit()
            logout_user()
        session.clear()
        flash("Please log in again: the time this computer could keep you signed in is over.", "info")
        return redirect(url_for("security.login"))

    @app.after_request
    def bound_remember_me(response):
        # A login asked Flask-Login for its remember cookie (this runs first, as it was registered after it):
        # keep the session instead, for at most the hours the clinic allows.
        if session.get("_remember") == "set":
            session.pop("_remember")
            session.pop("_remember_seconds", None)
            hours = remember_hours()
            if hours and current_user.is_authenticated:
                session.permanent = True
                session[_REMEMBER_UNTIL] = time.time() + hours * 3600
        return response
