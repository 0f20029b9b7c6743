"""The application factory."""

import functools
import logging
import os
import sqlite3
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, jsonify, redirect, render_template, request
from flask_security import Security, SQLAlchemyUserDatastore
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError
from werkzeug.middleware.proxy_fix import ProxyFix

from .clock import shown
from .config import DefaultConfig, database_uri, default_instance_path
from .deployment_secrets import apply_secrets
from .extensions import csrf, db, mail, migrate
from .forms import init_lookups
from .headers import init_security_headers
from .health import init_health
from .input_policy import init_input_guard
from .jobs import init_jobs
from .letterhead import clinic_identity
from .login_guard import ClinicLoginForm, init_login_guard
from .passwords import PasswordRules
from .photos import init_photo_uploads, too_large_message
from .plugins import Registry, load_plugins, refuse_log_sender_in_production, registry
from .rate_limits import init_rate_limits
from .request_log import init_logging, request_id
from .schema import compared_by_alembic
from .sessions import configure_https, init_sessions
from .two_factor import OneTimeTotp, init_two_factor

log = logging.getLogger(__name__)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, and let readers work while one writer holds the lock (WAL)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def _sqlite_mmap(size, dbapi_connection, connection_record):
    """SQLite: read the database through a memory map of ``size`` bytes (``SQLITE_MMAP_SIZE``)."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA mmap_size={size:d}")
    cursor.close()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app: config from defaults, ``instance/config.py``, ``CLINICADMIN_*`` environment, then ``config``.

    ``config`` may also carry ``INSTANCE_PATH`` (where the database and secrets live) and ``EXTRA_PLUGINS``
    ((name, object) pairs registered after discovery, for tests). Built from the deployment's configuration alone
    (no ``config``: a WSGI server, ``clinicadmin run``), an app in production mode refuses to start until ``HTTPS``
    says whether browsers reach it over https and the deployment provides its secrets (``deployment_secrets``).
    """
    serving = config is None
    config = dict(config or {})
    instance_path = (
        config.pop("INSTANCE_PATH", None) or os.environ.get("CLINICADMIN_INSTANCE_PATH") or str(default_instance_path())
    )
    extra_plugins = config.pop("EXTRA_PLUGINS", ())
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CLINICADMIN")
    app.config.update(config)
    production = serving and not (app.debug or app.testing)
    apply_secrets(app.config, config, app.instance_path, production=production)
    refuse_log_sender_in_production(app.config, production)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config.get("DATABASE_URL"), app.instance_path)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "connect_args": {"timeout": 30},
        }
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Every session computes in UTC, whatever the server's default: instants are UTC, days are the clock's.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "connect_args": {"options": "-c timezone=UTC"},
        }

    configure_https(app, serving)
    init_logging(app)  # first: every later request hook logs with the request's id

    if app.config["TRUSTED_PROXIES"]:
        hops = int(app.config["TRUSTED_PROXIES"])
        # Flask's documented way to wrap the app in WSGI middleware, which its type stubs do not foresee
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and app.config["SQLITE_MMAP_SIZE"]:
        with app.app_context():
            event.listen(db.engine, "connect", functools.partial(_sqlite_mmap, int(app.config["SQLITE_MMAP_SIZE"])))
    migrate.init_app(
        app, db, directory=app.config["MIGRATIONS_DIR"], render_as_batch=True, include_object=compared_by_alembic
    )
    init_photo_uploads(app)  # before CSRF protection, which reads the (larger) upload's body first
    csrf.init_app(app)
    mail.init_app(app)
    init_input_guard(app)
    from .models import Role, User

    app.config["SECURITY_TOTP_ISSUER"] = app.config["SECURITY_TOTP_ISSUER"] or app.config["CLINIC_NAME"]
    # where Flask-Security's documentation keeps it (``current_app.security``); Flask's type does not declare it
    app.security = Security(  # type: ignore[attr-defined]
        app,
        SQLAlchemyUserDatastore(db, User, Role),
        totp_cls=OneTimeTotp,
        login_form=ClinicLoginForm,
        password_util_cls=PasswordRules,
    )
    init_sessions(app)
    init_login_guard(app)
    init_two_factor(app)

    pm, loaded = load_plugins(app.config, extra_plugins)
    registry = Registry(pm, loaded, app.config.get("PRODUCT_CATEGORIES") or ())
    app.extensions["clinicadmin"] = registry
    init_jobs(app)

    from .admin import init_admin

    init_lookups(app, registry)  # after the admin's forms are imported, so their lookup fields are seen
    admin = init_admin(app, registry)
    init_security_headers(app, admin)
    init_health(app)
    _register_pages(app)
    init_rate_limits(app, serving)  # last: it puts the sensitive endpoints registered above behind their limits
    return app


def _register_pages(app):
    from .admin.base import user_has_role

    app.jinja_env.globals["has_role"] = user_has_role
    # {{ instant|local(location, "%Y-%m-%d %H:%M") }}: an instant as the wall-clock time at a location
    app.jinja_env.filters["local"] = shown
    app.jinja_env.globals["clinic_identity"] = clinic_identity
    app.jinja_env.globals["finding_source"] = lambda finding: registry().plugin_label(finding.plugin)

    @app.route("/")
    def root():
        return redirect("/admin/")

    @app.errorhandler(400)
    def bad_request(exc):
        message = getattr(exc, "description", None) or "The request could not be understood; nothing was saved."
        if request.is_json or "/ajax/" in request.path:  # a script asked: it reads the reason from JSON
            return jsonify({"error": message}), 400
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(403)
    def forbidden(exc):
        return render_template("error.html", code=403, message="Your role does not give access to this page."), 403

    @app.errorhandler(404)
    def not_found(exc):
        return render_template("error.html", code=404, message="There is nothing at this address."), 404

    @app.errorhandler(429)
    def too_many(exc):
        minutes = app.config["LOGIN_LOCKOUT_MINUTES"]
        message = (
            f"Too many failed logins for this account or from this address. Try again in {minutes} minutes, "
            "or ask a manager."
        )
        if request.is_json:  # Flask-Security's JSON shape, for a JSON login
            return jsonify({"meta": {"code": 429}, "response": {"errors": [message]}}), 429
        return render_template("error.html", code=429, message=message), 429

    @app.errorhandler(413)
    def too_large(exc):
        message = too_large_message() or "That request is too large."
        return render_template("error.html", code=413, message=message), 413

    @app.errorhandler(OverflowError)
    @app.errorhandler(UnicodeError)
    @app.errorhandler(DataError)
    def out_of_range(exc):
        """A number too large for the database, or text that cannot be encoded (a lone surrogate), in any part of a
        request: refused as bad input, with nothing written, wherever it was read."""
        db.session.rollback()
        log.info("refused a request with an out-of-range value: %s", type(exc).__name__)
        return render_template(
            "error.html",
            code=400,
            message=(
                "A number or a piece of text in this request is out of range or cannot be read; nothing was changed. "
                "Check what was typed, or go back and try again."
            ),
        ), 400

    @app.errorhandler(500)
    def server_error(exc):
        """The 500 page, which must render whatever failed, the database included: it never loads the user."""
        reference = request_id()
        log.error("error reference %s", reference, exc_info=getattr(exc, "original_exception", exc))
        message = f"Something went wrong; nothing was saved. Reference: {reference}."
        try:
            db.session.rollback()
        except Exception:  # a dead database cannot roll back; there is nothing to undo on it either
            log.exception("rollback after error %s failed", reference)
        if "_login_user" not in g:  # the page shows no user; loading one would ask the database again
            g._login_user = app.login_manager.anonymous_user()
        try:
            return render_template("error.html", code=500, message=message), 500
        except Exception:
            log.exception("error page for %s failed", reference)
            return (
                f"<!DOCTYPE html><title>500 - ClinicAdmin</title><h1>500</h1><p>{message}</p>",
                500,
                {"Content-Type": "text/html; charset=utf-8"},
            )
