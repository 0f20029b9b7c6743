"""``clinicadmin backup DIR``: a consistent copy of the database to restore from, with the photo files when they are
in a folder (a bucket's photos are backed up by the bucket's own means; the manifest says so).

SQLite is copied with its online backup API (a consistent snapshot while the clinic keeps working); PostgreSQL with
``pg_dump --format=custom``. The secrets are not copied: the two-factor keys would then sit beside the data they
encrypt. They are the deployment's (``deployment_secrets``) and are backed up apart from the data; the manifest says
so. See docs/operations.md for restoring.
"""

import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import make_url

from .extensions import db

#: What the manifest says of the secrets, which a restore needs and the backup does not hold.
SECRETS_NOTE = (
    "Not in this backup. Restoring needs the deployment's secrets (SECRET_KEY, SECURITY_PASSWORD_SALT, "
    "SECURITY_TOTP_SECRETS, SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS, AUDIT_KEYS): the CLINICADMIN_* environment or "
    "the file named by CLINICADMIN_SECRETS_FILE (in development, instance/secrets.json), backed up separately as "
    "docs/operations.md says."
)


class BackupError(RuntimeError):
    """The backup could not be made; the message says why."""


def _sqlite_copy(database, target):
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()


def _pg_dump(url, target):
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed; install the PostgreSQL client tools (Debian: postgresql-client).")
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    done = subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), plain],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")


def _copy_photos(folder):
    """Copy the photo files into ``folder/photos`` when they are in a folder (after the database, so every row in the
    copy has its file); for a bucket, say where its own backups are. Returns what the manifest says of them."""
    from .photo_storage import FolderStorage, photo_storage

    storage = photo_storage()
    if not isinstance(storage, FolderStorage):
        return (
            f"Not in this backup: the photos are in {storage.describe()}. Keep that bucket backed up with its own "
            "means (versioning, replication), as docs/operations.md says."
        )
    keys = sorted(storage.keys())
    if not keys:
        return "No photo files yet."
    target = folder / "photos"
    target.mkdir(mode=0o700)
    for key in keys:
        (target / key).write_bytes(storage.get(key))
        (target / key).chmod(0o600)
    return f"{len(keys)} photo files (photos and thumbnails) in photos/; restore them into the photo folder."


def make_backup(folder):
    """Write the database copy and a manifest into ``folder`` (created; must be empty). Returns the manifest."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty; give a new folder for each backup.")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # health records: for the clinic's eyes only
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        database = folder / "clinicadmin.sqlite"
        _sqlite_copy(url.database, database)
    elif url.get_backend_name() == "postgresql":
        database = folder / "clinicadmin.pgdump"
        _pg_dump(url, database)
    else:
        raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")
    database.chmod(0o600)
    photos = _copy_photos(folder)
    revisions = sorted(db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalars())
    manifest = {
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database.name,
        "backend": url.get_backend_name(),
        "revisions": revisions,
        "secrets": SECRETS_NOTE,
        "photos": photos,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest
