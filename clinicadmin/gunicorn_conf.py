"""gunicorn's settings for serving ClinicAdmin: ``clinicadmin serve`` uses them, as does
``gunicorn -c python:clinicadmin.gunicorn_conf``. Options on the command line (or in ``GUNICORN_CMD_ARGS``) win.

- ``bind``: ``CLINICADMIN_BIND`` (default 127.0.0.1:8000: behind a TLS proxy on the same machine).
- ``workers``: ``WEB_CONCURRENCY``, else two per core plus one, at most 8 (each worker holds its own database
  connections; past that a clinic gains nothing but connections).
- ``preload_app`` is off: each worker builds its own app after the fork, so no database connection, lock or file
  handle made while building it is shared between processes, and a worker restarted after a crash starts clean.
- ``timeout`` 60 s: a year's report at a chain's scale takes seconds; a request still running after a minute is stuck.
- The access log carries each response's ``X-Request-ID`` (the id the error page shows). With
  ``CLINICADMIN_LOG_FORMAT=json`` gunicorn's own lines are JSON too, through the app's formatter.
- Forwarded headers are believed from ``FORWARDED_ALLOW_IPS`` (gunicorn's own variable; default 127.0.0.1, ::1).
"""

import os

wsgi_app = "clinicadmin.app:create_app()"
bind = [os.environ.get("CLINICADMIN_BIND") or "127.0.0.1:8000"]
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * (os.cpu_count() or 1) + 1, 8))
worker_class = "sync"  # the tested one
preload_app = False
timeout = 60
graceful_timeout = 30
keepalive = 5
# gunicorn 27's control socket defaults to one path per user, shared by every gunicorn that user runs.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'

if (os.environ.get("CLINICADMIN_LOG_FORMAT") or "").lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "clinicadmin.request_log.JsonFormatter"}},
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        },
        "root": {"level": "INFO", "handlers": []},  # the app installs its own handler on the root
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
        },
    }
