"""The audit seal chain's anchor: the number and MAC of the latest seal, kept where an attacker with only database
access cannot reach, so that removing seals (and the rows they covered) is noticed.

``AUDIT_ANCHOR`` says where: a ``redis://`` URL, or a file path; None (the default) is the Redis of ``REDIS_URL`` or
of the job queue (``JOBS_QUEUE``), else the file ``audit-anchor`` in the instance folder (mode 0600). In Redis the key
is ``<RATELIMIT_KEY_PREFIX>:audit-anchor``. The anchor only moves forward (:func:`advance`, compare-and-set on the seal
number), so sealers running at once never move it back.
"""

import fcntl
import json
import os
from pathlib import Path
from typing import Any, NamedTuple

from flask import current_app

FILE_NAME = "audit-anchor"
# Set the anchor to ARGV[1]:ARGV[2] unless it already names that seal number or a later one.
_ADVANCE = """
local current = redis.call('GET', KEYS[1])
if current then
  local number = tonumber(string.match(current, '^(%d+):'))
  if number and number >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2])
return 1
"""


class Anchor(NamedTuple):
    """The latest seal recorded outside the database: its number and MAC."""

    number: int
    mac: str


class AuditAnchorError(RuntimeError):
    """The database's seals do not agree with the anchor (or the anchor cannot be read)."""


def where(app: Any = None) -> tuple[str, str]:
    """Where the anchor is kept: ``("redis", url)`` or ``("file", path)``."""
    config = (app or current_app).config
    setting = config.get("AUDIT_ANCHOR")
    if not setting:
        queue = config.get("JOBS_QUEUE") or ""
        setting = config.get("REDIS_URL") or (queue if queue.startswith(("redis://", "rediss://", "unix://")) else "")
    if setting.startswith(("redis://", "rediss://", "unix://")):
        return "redis", setting
    return "file", setting or str(Path((app or current_app).instance_path) / FILE_NAME)


def describe():
    kind, location = where()
    return "Redis" if kind == "redis" else f"the file {location}"


def _redis(url):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)


def _key():
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:audit-anchor"


def _parse(text):
    if not text:
        return None
    number, _, mac = text.partition(":")
    return Anchor(int(number), mac)


def read() -> Anchor | None:
    """The anchor, or None when none is recorded yet (:class:`AuditAnchorError` when it cannot be read)."""
    kind, location = where()
    try:
        if kind == "redis":
            value = _redis(location).get(_key())
            return _parse(value.decode() if value else None)
        try:
            with open(location, encoding="utf-8") as file:
                fcntl.flock(file, fcntl.LOCK_SH)
                data = json.loads(file.read() or "null")
        except FileNotFoundError:
            return None
        return Anchor(int(data["number"]), str(data["mac"])) if data else None
    except Exception as exc:
        raise AuditAnchorError(f"the audit seal anchor ({describe()}) could not be read: {exc}") from exc


def advance(number: int, mac: str) -> bool:
    """Record seal ``number`` with ``mac`` as the latest, unless the anchor already names it or a later one; True if
    it moved."""
    kind, location = where()
    if kind == "redis":
        return bool(_redis(location).eval(_ADVANCE, 1, _key(), number, mac))
    return _write_file(location, number, mac, force=False)


def replace(number: int, mac: str) -> None:
    """Record seal ``number`` as the latest whatever the anchor said (after a restore from a backup)."""
    kind, location = where()
    if kind == "redis":
        _redis(location).set(_key(), f"{number}:{mac}")
    else:
        _write_file(location, number, mac, force=True)


def _write_file(path, number, mac, force):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "r+", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # one writer at a time, across processes
        current = json.loads(file.read() or "null")
        if not force and current and int(current["number"]) >= number:
            return False
        file.seek(0)
        file.truncate()
        file.write(json.dumps({"number": number, "mac": mac}))
        file.flush()
        os.fsync(file.fileno())
    return True
