"""The audit key: the keyed digests (HMAC-SHA256) of audit rows and seals.

``AUDIT_KEYS``, a deployment secret kept outside the database, maps key ids to keys. The key with the highest id
makes new digests; every key listed verifies, so a key is rotated by adding a newer one beside it (docs/operations.md).
"""

import hashlib
import hmac

from flask import current_app


class AuditKeyMissing(RuntimeError):
    """``AUDIT_KEYS`` is empty or does not hold the key a row or seal was made with."""


def _keys():
    keys = current_app.config.get("AUDIT_KEYS") or {}
    if not isinstance(keys, dict) or not keys:
        raise AuditKeyMissing('AUDIT_KEYS must map key ids to keys, e.g. {"1": "<random text>"}.')
    return {str(k): v for k, v in keys.items()}


def signing_key_id():
    """The id of the key new digests are made with: the highest (numerically, where the ids are numbers)."""
    return max(_keys(), key=lambda k: (k.isdigit(), int(k) if k.isdigit() else 0, k))


def keyed(key_id, message=b""):
    """An HMAC-SHA256 under key ``key_id`` over ``message``, to which more may be added (``.update``)."""
    key = _keys().get(str(key_id))
    if key is None:
        raise AuditKeyMissing(f"AUDIT_KEYS has no key {key_id!r}, which the audit log was signed with.")
    return hmac.new(key.encode(), message, hashlib.sha256)


def row_mac(row, key_id):
    """The keyed digest of audit row ``row`` (its place and content) under key ``key_id``."""
    return keyed(key_id, row.content()).hexdigest()


def row_intact(row):
    """Whether ``row`` carries the keyed digest of its own content (:class:`AuditKeyMissing` if its key is not
    held)."""
    return hmac.compare_digest(row_mac(row, row.key_id), row.mac or "")
