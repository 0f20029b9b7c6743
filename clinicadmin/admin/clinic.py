"""Clinic settings (registered by plugins, edited by managers) and the audit log viewer."""

import json

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user

from ..audit import audit
from ..clinic_settings import coerce, effective_settings, save_setting
from ..extensions import db
from ..models import AuditEvent
from ..models.staff import role_label
from ..plugins import registry
from .base import SecuredModelView, SecuredView
from .keyset import KeysetPagerMixin


class SettingsView(SecuredView):
    allowed_roles = ("admin", "manager")

    @expose("/", methods=("GET", "POST"))
    def index(self):
        specs = registry().settings
        values = effective_settings()
        errors = {}
        if request.method == "POST":
            new_values = {}
            for key, spec in specs.items():
                if key not in request.form and spec.type is not bool:
                    continue
                try:
                    new_values[key] = coerce(spec, request.form.get(key, ""))
                except ValueError as exc:
                    errors[key] = str(exc)
            if errors:
                flash("Nothing was saved: correct the settings marked below.", "error")
            else:
                changed = 0
                for key, value in new_values.items():
                    if value != values[key]:
                        old = save_setting(key, value, current_user._get_current_object())
                        audit("setting.change", object_type="Setting", object_id=key, detail={"old": old, "new": value})
                        changed += 1
                db.session.commit()
                flash(f"{changed} setting(s) changed.", "success")
                return redirect(url_for(".index"))
            values = {**values, **{k: request.form.get(k, "") for k in errors}}
        return self.render("admin/settings.html", specs=specs, values=values, errors=errors)


def _roles_in_words(codes):
    return ", ".join(role_label(code) for code in (codes or "").split(",") if code)


def _detail_in_words(detail):
    """The stored detail with role codes shown as people call them (a user's roles, before and after an edit)."""
    if not isinstance(detail, dict):
        return detail
    shown = dict(detail)
    if isinstance(shown.get("roles"), list):
        shown["roles"] = [role_label(code) for code in shown["roles"]]
    changes = shown.get("changes")
    if isinstance(changes, dict) and isinstance(changes.get("roles"), list):
        shown["changes"] = {
            **changes,
            "roles": [[role_label(c) for c in side] if isinstance(side, list) else side for side in changes["roles"]],
        }
    return shown


class AuditView(KeysetPagerMixin, SecuredModelView):
    """The audit log, read-only: filter by client, user, action and date. Roles read as people call them; the
    stored row keeps the codes."""

    allowed_roles = ("admin", "manager")
    can_view_details = True
    column_list = ("at", "user", "roles", "action", "object_type", "object_id", "client_id", "remote_addr", "outcome")
    column_filters = ("client_id", "user.email", "action", "at")
    column_sortable_list = ("at",)
    column_default_sort = ("at", True)
    column_formatters = {"roles": lambda v, c, m, n: _roles_in_words(m.roles)}
    column_formatters_detail = {
        "roles": lambda v, c, m, n: _roles_in_words(m.roles),
        "detail": lambda v, c, m, n: json.dumps(_detail_in_words(m.detail), ensure_ascii=False),
    }
    page_size = 50


__all__ = ["SettingsView", "AuditView", "AuditEvent"]
