"""Two-factor sign-in with an authenticator app (TOTP), through Flask-Security-Too.

Each person may turn it on for themselves (``/tf-setup``); a manager can require it for all staff with the clinic
setting ``security.require_two_factor``. When it is required, a person without it is sent to set it up at their next
login, and a session already open is sent there at its next page. A code is accepted once (replay protection), wrong
codes count towards the login lockout, and a lost phone is handled with the person's recovery codes or by a manager
resetting their two-factor sign-in. No e-mail is assumed, so Flask-Security's e-mail rescue is turned off.
"""

import uuid

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, flash, redirect, request, session, url_for
from flask_security import Totp, current_user
from flask_security.signals import tf_code_confirmed, tf_disabled, tf_profile_changed
from passlib.totp import TOTP

from .audit import audit
from .extensions import db

REQUIRE_SETTING = "security.require_two_factor"

#: What someone who must set up two-factor sign-in may still reach.
_SETUP_ENDPOINTS = (
    "security.two_factor_setup",
    "security.two_factor_setup_validate",
    "security.two_factor_token_validation",
    "security.mf_recovery_codes",
    "security.logout",
    "static",
)


def required_for_all():
    """Whether a manager has required two-factor sign-in for all staff."""
    from .models import Setting

    row = db.session.get(Setting, REQUIRE_SETTING)
    return bool(row and row.value)


def is_set_up(user):
    return bool(user.tf_totp_secret and user.tf_primary_method)


def reset(user):
    """Remove a person's authenticator and recovery codes (a lost phone); their next login sets up a new one when the
    clinic requires it. Ends their other sessions. The caller audits and commits."""
    user.tf_primary_method = None
    user.tf_totp_secret = None
    user.tf_totp_last_counter = None
    user.mf_recovery_codes = None
    user.fs_uniquifier = uuid.uuid4().hex


class OneTimeTotp(Totp):
    """Flask-Security's TOTP factory with replay protection: a code (time step) that was accepted is never accepted
    again for that person."""

    def get_last_counter(self, user):
        return user.tf_totp_last_counter

    def set_last_counter(self, user, tmatch):
        user.tf_totp_last_counter = tmatch.counter


def _under_newest_keys(sender, user, **extra):
    """After a sign-in with an authenticator code: a two-factor secret or recovery code encrypted under an older key
    (key rotation, docs/operations.md) is re-encrypted under the newest, so the older key can later be dropped. Runs
    after Flask-Security stored the secret it verified; its view commits."""
    config = current_app.config
    totp = TOTP.using(secrets=config["SECURITY_TOTP_SECRETS"]).from_source(user.tf_totp_secret)
    if totp.changed:  # passlib: decrypted with a key other than the newest
        user.tf_totp_secret = totp.to_json(encrypt=True)
    keys = config.get("SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS") or []
    if len(keys) < 2 or not user.mf_recovery_codes:
        return
    newest, every = Fernet(keys[0]), MultiFernet([Fernet(key) for key in keys])
    codes = list(user.mf_recovery_codes)
    for n, code in enumerate(codes):
        try:
            newest.decrypt(code)
        except InvalidToken:
            codes[n] = every.rotate(code.encode()).decode()
    if codes != user.mf_recovery_codes:
        user.mf_recovery_codes = codes


def _audit_enabled(sender, user, **extra):
    audit("user.two_factor_enabled", obj=user, detail={"method": extra.get("method")})


def _audit_disabled(sender, user, **extra):
    audit("user.two_factor_disabled", obj=user)


def init_two_factor(app):
    """Send staff who must set up two-factor sign-in to do so, keep the e-mail rescue closed, and audit changes."""
    tf_profile_changed.connect(_audit_enabled, app)
    tf_disabled.connect(_audit_disabled, app)
    tf_code_confirmed.connect(_under_newest_keys, app)

    @app.before_request
    def require_two_factor():
        if request.endpoint == "security.two_factor_rescue":
            flash(
                "Lost your phone? Use one of your recovery codes, or ask a manager to reset your two-factor sign-in.",
                "info",
            )
            return redirect(url_for("security.mf_recovery" if session.get("tf_user_id") else "security.login"))
        if (
            not current_user.is_authenticated
            or request.endpoint in _SETUP_ENDPOINTS
            or request.endpoint is None
            or is_set_up(current_user)
            or not required_for_all()
        ):
            return None
        flash("This clinic requires two-factor sign-in. Set up an authenticator app to continue.", "warning")
        return redirect(url_for("security.two_factor_setup"))
