# Copy to instance/config.py and edit. Every key here overrides the defaults in clinicadmin/config.py.
# Environment variables prefixed CLINICADMIN_ override this file (CLINICADMIN_DATABASE_URL=...).

# PostgreSQL for a real clinic or a chain:
# DATABASE_URL = "postgresql://clinic@db.internal/clinicadmin"

# SQLite reads through a memory map of this many bytes (default 1 GiB; 0 for plain reads, e.g. on a network drive,
# where a mapped file that goes away stops the process).
# SQLITE_MMAP_SIZE = 0

# Load only these plugins (by name, as `clinicadmin plugins` lists them); None loads every plugin found.
# PLUGINS_ENABLED = ["microneedling"]

# Plugins are installed distributions (found by their `clinicadmin` entry points). A folder of plain packages can be
# loaded as well, for a quick trial (default: none).
# PLUGINS_DIR = "/srv/clinicadmin/plugins"

# Serve over plain http on a trusted local machine only.
# SESSION_COOKIE_SECURE = False

# Behind one reverse proxy (nginx, a load balancer): trust its X-Forwarded-For and X-Forwarded-Proto, so that the
# audit log and the login throttle see the client's address. Leave 0 when nothing sits in front of the app.
# TRUSTED_PROXIES = 1

# Logs: "json" (one object a line, with the request id) or "text" on standard error; unset leaves them to gunicorn.
# Set CLINICADMIN_LOG_FORMAT in the environment instead for gunicorn's own lines to be JSON too.
# LOG_FORMAT = "json"
# LOG_LEVEL = "INFO"

# Keep the X-Request-ID a proxy sends (only if it replaces whatever the browser sent); else each request gets a new id.
# REQUEST_ID_TRUSTED = True
