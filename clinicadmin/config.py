"""Configuration: defaults, ``instance/config.py``, ``CLINICADMIN_*`` environment variables, then the factory's dict.

Secrets are never committed. They are the deployment's (``deployment_secrets``); in development only, the secret key,
password salt, the key that encrypts two-factor secrets and the key that encrypts recovery codes are generated into
``instance/secrets.json`` (:func:`load_or_create_secrets`); a key added by a later version is generated into the same
file when it is first needed.
"""

import base64
import fcntl
import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
#: the source checkout the code runs from (an editable install), or None for an installed wheel
CHECKOUT = PROJECT_ROOT if (PROJECT_ROOT / "setup.cfg").is_file() else None


def default_instance_path():
    """The instance folder when ``CLINICADMIN_INSTANCE_PATH`` is not set: the checkout's ``instance/`` when the code
    runs from a checkout, else ``<prefix>/var/clinicadmin-instance`` of the environment it is installed in (as Flask
    does for an installed package), never inside site-packages."""
    if CHECKOUT is not None:
        return CHECKOUT / "instance"
    return Path(sys.prefix) / "var" / "clinicadmin-instance"


class DefaultConfig:
    """Defaults for every deployment; a clinic overrides them in ``instance/config.py`` or the environment."""

    # Database: SQLite in the instance folder unless DATABASE_URL points elsewhere (e.g. PostgreSQL).
    DATABASE_URL = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # SQLite reads its file through a memory map of up to this many bytes (0: plain reads). A year's report reads
    # hundreds of megabytes of pages; mapped, they come from the operating system's cache without a system call each
    # (a third off such a report at a chain's scale).
    SQLITE_MMAP_SIZE = 1024**3

    # Plugins come from installed distributions' ``clinicadmin`` entry points (the shipped ones too). PLUGINS_DIR
    # names a folder of plain packages to load as well (a drop-in for a quick trial); None: no folder.
    PLUGINS_DIR = None
    PLUGINS_ENABLED = None  # None: all discovered plugins; else a list of plugin names
    PLUGINS_FAIL_FAST = True  # a plugin that fails to load stops start-up
    MIGRATIONS_DIR = str(PACKAGE_DIR / "migrations")  # package data: there in a checkout and in a wheel

    CLINIC_NAME = "ClinicAdmin demo clinic"
    # Product categories the clinic adds to the ones plugins register (register_product_categories), e.g.
    # ["gift_card"]; each is labelled by its key. Keys already registered are left as the plugin labels them.
    PRODUCT_CATEGORIES: list[str] = []
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

    # Two-factor sign-in with an authenticator app (see clinicadmin.two_factor). Optional for each person; a manager
    # can require it for all staff with the clinic setting "security.require_two_factor". A code is asked for at every
    # login (no "trust this device" cookie); a lost phone is handled with recovery codes or a manager's reset.
    SECURITY_TWO_FACTOR = True
    SECURITY_TWO_FACTOR_ENABLED_METHODS = ["authenticator"]
    SECURITY_TWO_FACTOR_ALWAYS_VALIDATE = True
    SECURITY_TWO_FACTOR_RESCUE_EMAIL = False  # no mail server is assumed
    SECURITY_MULTI_FACTOR_RECOVERY_CODES = True
    SECURITY_TOTP_ISSUER = None  # None: the clinic's name, as the authenticator app shows it

    # Login throttling (per account and per address, over a sliding window) and the idle timeout.
    LOGIN_MAX_FAILURES = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_LOCKOUT_MINUTES = 15
    IDLE_TIMEOUT_MINUTES = 30

    # The audit log's sealer (clinicadmin.audit_seal): a number no committed row took is sealed as skipped once the
    # first row after it is this old (a transaction holding it may still commit until then); rows per seal.
    AUDIT_SEAL_SETTLE_SECONDS = 120
    AUDIT_SEAL_BATCH = 10000
    # A place sealed as skipped this long beyond the settle window after the next row was written is noted by
    # `clinicadmin check` (a row may have been removed), and one the previous seal could have skipped is never skipped.
    AUDIT_SEAL_LATE_TOLERANCE_SECONDS = 300
    # `clinicadmin check` (and the nightly check) warns when the oldest unsealed row is older: the sealer has stopped.
    AUDIT_SEAL_STALE_MINUTES = 15
    # Where the latest seal is recorded outside the database (clinicadmin.audit_anchor): a redis:// URL or a file path;
    # None: the Redis of REDIS_URL or of JOBS_QUEUE (key "<RATELIMIT_KEY_PREFIX>:audit-anchor"), else the file
    # audit-anchor in the instance folder. With several machines, it must be Redis (one anchor for every sealer).
    AUDIT_ANCHOR = None

    # Rate limits (clinicadmin.rate_limits): Flask-Limiter limit strings per kind of sensitive request ("" turns one
    # off). Logins count per address and per account; lookups, exports and reports per person signed in.
    RATE_LIMIT_LOGIN_PER_ADDRESS = "30 per minute;300 per hour"
    RATE_LIMIT_LOGIN_PER_ACCOUNT = "10 per minute;50 per hour"
    RATE_LIMIT_LOOKUPS = "120 per minute;3000 per hour"
    RATE_LIMIT_EXPORTS = "10 per minute;60 per hour"
    RATE_LIMIT_REPORTS = "30 per minute;300 per hour"
    # Where every worker's counts meet: a Redis URL (redis://host:6379/0); RATELIMIT_STORAGE_URI, if set, wins (any
    # storage Flask-Limiter takes). Without either, counts are per process: a server in production mode then refuses to
    # start unless RATELIMIT_STORAGE_URI = "memory://" accepts that. None: on except under TESTING.
    REDIS_URL = None
    RATELIMIT_STORAGE_URI = None
    RATELIMIT_ENABLED = None
    RATELIMIT_KEY_PREFIX = "clinicadmin"  # distinct for each clinic sharing one Redis
    RATELIMIT_STRATEGY = "moving-window"  # a limit holds over any window of its length, not per clock minute

    # Background jobs (clinicadmin.jobs, on Huey): JOBS_QUEUE is "sqlite" (the file jobs.sqlite in the instance
    # folder: nothing but Python), "sqlite:///<file>", a redis:// URL (every worker and server of a chain on one
    # queue), or "immediate" (each job runs when enqueued, in the process that enqueues it: tests). None: REDIS_URL
    # when it is set, else "sqlite". `clinicadmin worker` runs the jobs. JOBS_QUEUE_NAME keeps clinics sharing one
    # Redis apart. JOB_SCHEDULES changes a job's schedule by name: a cron line in the clinic's time zone, or "" for
    # only on demand ({"stock-digest": "30 6 * * 1-5"}); JOBS_EXTRA adds clinicadmin.jobs.Job entries of a clinic's own.
    JOBS_QUEUE = None
    JOBS_QUEUE_NAME = "clinicadmin"
    JOB_SCHEDULES: dict[str, str | None] = {}
    JOBS_EXTRA: list = []

    # Reverse proxies in front of the app (0: none). With 1, the address in the audit log and the login throttle is
    # the one the proxy puts in X-Forwarded-For, and https is recognised from X-Forwarded-Proto.
    TRUSTED_PROXIES = 0

    # Whether browsers reach the clinic over https (directly or through a TLS proxy): True gives Secure cookies and
    # HSTS; False says plainly that it is http. A server in production mode refuses to start while it is None
    # (see clinicadmin.sessions); `make run` sets it False for the development server on 127.0.0.1.
    HTTPS = None

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True whenever HTTPS is
    # No session cookie is accepted 12 hours after it was last issued: the longest "Remember me" may keep a sign-in.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    FLASK_ADMIN_SWATCH = "default"

    # Logs (clinicadmin.request_log): "json" (one object a line) or "text" sends every record to standard error with
    # its request id; None leaves logging to the host. REQUEST_ID_TRUSTED: take a proxy's X-Request-ID (set it only
    # when the proxy replaces whatever the browser sent); else each request gets a new id.
    LOG_FORMAT = None
    LOG_LEVEL = "INFO"
    REQUEST_ID_TRUSTED = False
    # E-mail (Flask-Mailman): reminders to clients, digests to staff. MAIL_BACKEND "smtp" sends through MAIL_SERVER;
    # "console" prints each message (development); "locmem" keeps them in memory (tests).
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 30
    MAIL_DEFAULT_SENDER = "clinic@localhost"
    # Reminders and aftercare to clients (clinicadmin.messages): a message that failed is tried again after
    # MESSAGE_RETRY_MINUTES, at most MESSAGE_MAX_ATTEMPTS times in all; one left "sending" by a worker that died is
    # taken again after MESSAGE_SENDING_TIMEOUT_MINUTES; aftercare goes to sessions recorded within the last
    # MESSAGE_AFTERCARE_WITHIN_HOURS. MESSAGE_LOG_SENDER loads the logging sender of text messages (development: it
    # reports texts sent that nobody received, so a server in production mode refuses to start with it on).
    # MESSAGE_MAX_CHARS bounds a rendered subject or text: a template making more is refused, a message failed.
    MESSAGE_RETRY_MINUTES = 10
    MESSAGE_MAX_ATTEMPTS = 5
    MESSAGE_SENDING_TIMEOUT_MINUTES = 15
    MESSAGE_AFTERCARE_WITHIN_HOURS = 48
    MESSAGE_LOG_SENDER = False
    MESSAGE_MAX_CHARS = 20_000

    # Clinical photos (clinicadmin.photos, docs/operations.md). Each photo at most PHOTO_MAX_BYTES and
    # PHOTO_MAX_PIXELS; at most PHOTO_MAX_FILES at once; the upload's request may be PHOTO_UPLOAD_MAX_BYTES (every
    # other request keeps MAX_CONTENT_LENGTH). Files in PHOTO_FOLDER (default instance/photos) or, with
    # PHOTO_STORAGE = "s3", in an S3-compatible bucket (credentials the way boto3 finds them, never here).
    PHOTO_MAX_BYTES = 25 * 1024 * 1024
    PHOTO_MAX_PIXELS = 50_000_000
    PHOTO_MAX_FILES = 10
    PHOTO_UPLOAD_MAX_BYTES = 100 * 1024 * 1024
    PHOTO_STORAGE = "folder"
    PHOTO_FOLDER = None
    PHOTO_S3_BUCKET = None
    PHOTO_S3_PREFIX = "photos/"
    PHOTO_S3_ENDPOINT_URL = None
    PHOTO_S3_REGION = None


def secret_generators():
    """Generators of each secret, by the config key it fills."""
    return {
        "SECRET_KEY": lambda: secrets.token_hex(32),
        "SECURITY_PASSWORD_SALT": lambda: secrets.token_hex(16),
        # Encrypts each person's TOTP secret in the database (passlib's key format: tag -> secret).
        "SECURITY_TOTP_SECRETS": lambda: {"1": secrets.token_urlsafe(32)},
        # Encrypts recovery codes in the database (Fernet keys: 32 url-safe base64-encoded bytes).
        "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS": lambda: [
            base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        ],
        # Keys the audit log's digests and seals (key id -> key; the highest id signs, all verify).
        "AUDIT_KEYS": lambda: {"1": secrets.token_urlsafe(32)},
    }


SECRET_KEYS = tuple(secret_generators())


def load_or_create_secrets(instance_path):
    """Return the deployment's secrets from ``instance/secrets.json`` (mode 0600), generating any that are missing.

    Generating holds a lock on ``instance/secrets.lock``, so server processes that start together on a new instance
    all get the one set that is written, rather than each its own (sessions would then hold in one process only).
    """
    path = Path(instance_path) / "secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    if all(values.get(key) for key in SECRET_KEYS):
        return values
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        values = json.loads(path.read_text()) if path.exists() else {}
        missing = {key: make() for key, make in secret_generators().items() if not values.get(key)}
        if missing:
            values.update(missing)
            partial = path.with_suffix(".json.new")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(values, fh)
            os.replace(partial, path)
    return values


def database_uri(url, instance_path):
    """Turn a configured database URL (or None: SQLite in the instance folder, which is created) into a SQLAlchemy
    URI; PostgreSQL URLs use the psycopg 3 driver."""
    if not url:
        Path(instance_path).mkdir(parents=True, exist_ok=True)  # SQLite makes the file, not its folder
        return "sqlite:///" + str(Path(instance_path) / "clinicadmin.sqlite")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
