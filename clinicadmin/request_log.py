"""Structured logs and the request id: every request gets an id (a trusted proxy's ``X-Request-ID`` when
``REQUEST_ID_TRUSTED``, else a new one), sent back in ``X-Request-ID``, shown on the error pages and carried by every
log record written while the request runs. ``LOG_FORMAT`` ("json" or "text") makes ClinicAdmin install one handler
on the root logger (standard error, ``LOG_LEVEL``); unset, logging is left as the host (Flask, gunicorn) sets it."""

import json
import logging
import re
import sys
import traceback
import uuid
from datetime import UTC, datetime

from flask import current_app, has_request_context, request

HEADER = "X-Request-ID"
ENVIRON_KEY = "clinicadmin.request_id"
#: What a trusted upstream id may look like: short, and nothing a log reader or a page could misread.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: The attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged too.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def request_id() -> str | None:
    """This request's id (made on first use), or None outside a request."""
    if not has_request_context():
        return None
    # Kept in the request's environ, not ``g``: ``g`` lives as long as the app context, which a test (or a
    # command) may hold across several requests.
    if ENVIRON_KEY not in request.environ:
        offered = request.headers.get(HEADER, "")
        trusted = current_app.config.get("REQUEST_ID_TRUSTED")
        request.environ[ENVIRON_KEY] = offered if trusted and _ACCEPTED.fullmatch(offered) else uuid.uuid4().hex
    return request.environ[ENVIRON_KEY]


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record ("-" outside a request), for any formatter to use."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, the exception's traceback
    when there is one, and any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        given = getattr(record, "request_id", None)
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": given if given not in (None, "-") else request_id() or _access_request_id(record),
        }
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        return json.dumps(entry, default=str)


def _access_request_id(record: logging.LogRecord) -> str | None:
    """The request id of a gunicorn access log line (its atoms hold the response's headers)."""
    atoms = record.args if isinstance(record.args, dict) else {}
    value = atoms.get("{x-request-id}o")
    return value if isinstance(value, str) and value != "-" else None


def formatter(kind: str) -> logging.Formatter:
    """The formatter for ``LOG_FORMAT`` = ``kind`` ("json" or "text")."""
    if kind == "json":
        return JsonFormatter()
    if kind == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"LOG_FORMAT must be 'json' or 'text', not {kind!r}")


class _ClinicHandler(logging.StreamHandler):
    """The root handler ClinicAdmin installs (recognised so that a second app replaces it rather than adds one)."""


def configure_logging(kind: str, level: str = "INFO", stream=None) -> None:
    """Send every log record to ``stream`` (standard error) as ``kind``, at ``level`` and above."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ClinicHandler)]:
        root.removeHandler(old)
    handler = _ClinicHandler(stream or sys.stderr)
    handler.setFormatter(formatter(kind))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)


def init_logging(app) -> None:
    """Give ``app``'s requests their id and, when ``LOG_FORMAT`` is set, configure logging. Call it first, so that
    the id exists before any other request hook logs."""
    if app.config.get("LOG_FORMAT"):
        configure_logging(app.config["LOG_FORMAT"], app.config.get("LOG_LEVEL") or "INFO")

    @app.before_request
    def assign_request_id():
        request_id()

    @app.after_request
    def send_request_id(response):
        response.headers[HEADER] = request_id()
        return response

    app.jinja_env.globals["request_id"] = request_id
