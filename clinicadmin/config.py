"""Configuration: defaults, ``instance/config.py``, ``CLINICADMIN_*`` environment variables, then the factory's dict.

Secrets are never committed: on first run a secret key and password salt are generated into ``instance/secrets.json``.
"""
import json
import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DefaultConfig:
    """Defaults for every deployment; a clinic overrides them in ``instance/config.py`` or the environment."""

    # Database: SQLite in the instance folder unless DATABASE_URL points elsewhere (e.g. PostgreSQL).
    DATABASE_URL = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Plugins
    PLUGINS_DIR = str(PROJECT_ROOT / "plugins")
    PLUGINS_ENABLED = None  # None: all discovered plugins; else a list of plugin names
    PLUGINS_FAIL_FAST = True  # a plugin that fails to load stops start-up
    MIGRATIONS_DIR = str(PROJECT_ROOT / "migrations")

    CLINIC_NAME = "ClinicAdmin demo clinic"
    PRODUCT_CATEGORIES = [
        "needle", "cartridge", "roller", "serum", "gel", "cream", "oil", "solution", "consumable", "other",
    ]
    LIST_PAGE_SIZE = 20

    # Security (Flask-Security-Too). Registration is closed: staff accounts are made by admins or the CLI.
    SECURITY_PASSWORD_HASH = "argon2"
    SECURITY_PASSWORD_LENGTH_MIN = 12
    SECURITY_PASSWORD_COMPLEXITY_CHECKER = "zxcvbn"  # refuses common and guessable passwords
    SECURITY_ZXCVBN_MINIMUM_SCORE = 3
    SECURITY_REGISTERABLE = False
    SECURITY_RECOVERABLE = False
    SECURITY_SEND_REGISTER_EMAIL = False
    SECURITY_LOGOUT_METHODS = ["POST"]
    SECURITY_POST_LOGIN_VIEW = "/admin/"
    SECURITY_POST_LOGOUT_VIEW = "/login"
    SECURITY_EMAIL_VALIDATOR_ARGS = {"check_deliverability": False}
    SECURITY_USERNAME_ENABLE = False
    SECURITY_TRACKABLE = True
    SECURITY_RETURN_GENERIC_RESPONSES = True
    SECURITY_MSG_LOGIN = ("Please log in to use ClinicAdmin.", "info")

    # Login throttling (per account and per address, over a sliding window) and the idle timeout.
    LOGIN_MAX_FAILURES = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_LOCKOUT_MINUTES = 15
    IDLE_TIMEOUT_MINUTES = 30

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # `make run` serves plain http on 127.0.0.1; set True behind TLS
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    FLASK_ADMIN_SWATCH = "default"


def load_or_create_secrets(instance_path):
    """Return the deployment's secrets, generating them into ``instance/secrets.json`` (mode 0600) on first use."""
    path = Path(instance_path) / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_hex(32),
        "SECURITY_PASSWORD_SALT": secrets.token_hex(16),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values


def database_uri(url, instance_path):
    """Turn a configured database URL (or None) into a SQLAlchemy URI; PostgreSQL URLs use the psycopg 3 driver."""
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "clinicadmin.sqlite")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
