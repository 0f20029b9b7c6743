"""Clinic settings: the registered defaults overlaid with the values a manager has saved."""

from typing import Any

from .clock import now
from .extensions import db
from .input_policy import text_problem
from .models import Setting
from .plugins import registry


def effective_settings():
    """Map every registered setting key to the clinic's value, or the plugin's default when none is saved."""
    specs = registry().settings
    values = {key: spec.default for key, spec in specs.items()}
    for row in db.session.execute(db.select(Setting.key, Setting.value)).all():
        if row.key in specs:
            values[row.key] = row.value
    return values


def coerce(spec: Any, raw: Any) -> Any:
    """Convert form text to the setting's type within its bounds, or raise ValueError with a message for the user."""
    if spec.type is bool:
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    if spec.type is int:
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValueError(f"{spec.label}: enter a whole number") from None
        if spec.minimum is not None and value < spec.minimum:
            raise ValueError(f"{spec.label}: must be at least {spec.minimum}")
        if spec.maximum is not None and value > spec.maximum:
            raise ValueError(f"{spec.label}: must be at most {spec.maximum}")
        return value
    text = str(raw).strip()
    if text_problem(text):
        raise ValueError(f"{spec.label}: {text_problem(text)}")
    if len(text) > 500:
        raise ValueError(f"{spec.label}: at most 500 characters")
    if spec.validate is not None:
        try:
            spec.validate(text)
        except ValueError as exc:
            raise ValueError(f"{spec.label}: {exc}") from None
    return text


def save_setting(key: str, value: Any, user: Any) -> Any:
    """Store a clinic's value for ``key``; returns the previous value. The caller audits and commits."""
    row = db.session.get(Setting, key)
    old = row.value if row else registry().settings[key].default
    if row is None:
        row = Setting(key=key)
        db.session.add(row)
    row.value = value
    row.updated_by = user
    row.updated_at = now()
    return old
