"""Where the app's secrets come from: the deployment, not the machine.

Each secret (:data:`~clinicadmin.config.SECRET_KEYS`, and the optional ``SECRET_KEY_FALLBACKS``) is taken from, in
order: the factory's config dict, a ``CLINICADMIN_<NAME>`` environment variable, the secrets file named by
``CLINICADMIN_SECRETS_FILE`` (JSON, or ``NAME=value`` lines), then ``instance/config.py``. So every server of a clinic
chain given the same environment signs, hashes and encrypts alike. Only in development are missing ones generated
into ``instance/secrets.json``; a server in production mode, or any app of a deployment that provides some of its
secrets, refuses to start and names every one that is missing.

Rotation: ``SECRET_KEY_FALLBACKS`` (older secret keys) still verify sessions and CSRF tokens; the two-factor keys and
the audit keys (``AUDIT_KEYS``) are rotated by adding a newer key beside the old ones (see ``docs/operations.md``). The
password salt cannot be rotated: Flask-Security mixes the one salt into every stored password hash.
"""

import json
import os
import shlex
from pathlib import Path

from .config import SECRET_KEYS, load_or_create_secrets, secret_generators

PREFIX = "CLINICADMIN_"
FILE_VARIABLE = PREFIX + "SECRETS_FILE"
#: Secrets that are a string as given; the others are JSON (a mapping or a list).
TEXT_SECRETS = ("SECRET_KEY", "SECURITY_PASSWORD_SALT")
#: Read from the same places as the secrets, but never required.
OPTIONAL_SECRETS = ("SECRET_KEY_FALLBACKS",)


class MissingSecrets(RuntimeError):
    """The deployment does not provide every secret; the message names the missing ones and where to put them."""


def _parsed(name, raw):
    if not isinstance(raw, str) or name in TEXT_SECRETS:
        return raw
    raw = raw.strip()
    if name == "SECRET_KEY_FALLBACKS" and not raw.startswith("["):
        return [key.strip() for key in raw.split(",") if key.strip()]  # also a comma-separated list
    try:
        return json.loads(raw)
    except ValueError:
        raise MissingSecrets(f"{name} is not valid JSON (see docs/operations.md for its format).") from None


def read_secrets_file(path):
    """The secrets in ``path``: a JSON object, or ``NAME=value`` lines (shell quoting; the ``CLINICADMIN_`` prefix is
    optional; ``#`` starts a comment)."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise MissingSecrets(f"{FILE_VARIABLE} names {path}, which cannot be read: {exc.strerror}.") from None
    if text.lstrip().startswith("{"):
        try:
            values = json.loads(text)
        except ValueError as exc:
            raise MissingSecrets(f"The secrets file {path} is not valid JSON: {exc}.") from None
    else:
        values = {}
        for line in text.splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            name, _, value = words[0].partition("=")
            values[name.removeprefix("export ").strip().removeprefix(PREFIX)] = value
    return {name: _parsed(name, value) for name, value in values.items() if name in (*SECRET_KEYS, *OPTIONAL_SECRETS)}


def deployment_secrets(environ=None):
    """The secrets the deployment provides: each ``CLINICADMIN_<NAME>`` variable, over those of the secrets file."""
    environ = os.environ if environ is None else environ
    found = read_secrets_file(environ[FILE_VARIABLE]) if environ.get(FILE_VARIABLE) else {}
    for name in (*SECRET_KEYS, *OPTIONAL_SECRETS):
        if environ.get(PREFIX + name):
            found[name] = _parsed(name, environ[PREFIX + name])
    return {name: value for name, value in found.items() if value}


def apply_secrets(config, given, instance_path, production):
    """Fill ``config``'s secrets: ``given`` (the factory's dict) first, then the deployment's, then what
    ``instance/config.py`` set; generate the rest into ``instance/secrets.json`` unless ``production`` or the
    deployment provides secrets of its own (then raise :class:`MissingSecrets` naming them all)."""
    provided = deployment_secrets()
    for name, value in provided.items():
        if not given.get(name):
            config[name] = value
    missing = [name for name in SECRET_KEYS if not config.get(name)]
    if missing and (production or provided):
        raise MissingSecrets(
            "ClinicAdmin will not start without the deployment's secrets; missing: "
            + ", ".join(missing)
            + f". Set each as a {PREFIX}<NAME> environment variable or in the file named by {FILE_VARIABLE}; "
            "`clinicadmin secrets generate FILE` makes a new set (see docs/operations.md)."
        )
    if missing:  # development: this machine's own, kept in the instance folder
        generated = load_or_create_secrets(instance_path)
        for name in missing:
            config[name] = generated[name]
    fallbacks = config.get("SECRET_KEY_FALLBACKS")
    if fallbacks and not config.get("WTF_CSRF_SECRET_KEY"):
        # Flask-WTF signs with one key; itsdangerous, given a list, signs with the last and verifies with any
        config["WTF_CSRF_SECRET_KEY"] = [*fallbacks, config["SECRET_KEY"]]


def new_secrets():
    """A fresh, complete set of secrets for a deployment."""
    return {name: make() for name, make in secret_generators().items()}


def as_env_lines(values):
    """``values`` as ``CLINICADMIN_<NAME>=value`` lines, quoted for a shell or a systemd ``EnvironmentFile``."""
    return "".join(
        f"{PREFIX}{name}={shlex.quote(value if isinstance(value, str) else json.dumps(value))}\n"
        for name, value in values.items()
    )


def write_private(path, text):
    """Write ``text`` to the new file ``path`` with mode 0600 (never over an existing file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
