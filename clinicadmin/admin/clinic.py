"""Clinic settings (registered by plugins, edited by managers) and the audit log viewer."""
from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user

from ..audit import audit
from ..clinic_settings import coerce, effective_settings, save_setting
from ..extensions import db
from ..models import AuditEvent
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
                        audit("setting.change", object_type="Setting", object_id=key,
                              detail={"old": old, "new": value})
                        changed += 1
                db.session.commit()
                flash(f"{changed} setting(s) changed.", "success")
                return redirect(url_for(".index"))
            values = {**values, **{k: request.form.get(k, "") for k in errors}}
        return self.render("admin/settings.html", specs=specs, values=values, errors=errors)


class AuditView(KeysetPagerMixin, SecuredModelView):
    """The audit log, read-only: filter by client, user, action and date."""

    allowed_roles = ("admin", "manager")
    can_view_details = True
    column_list = ("at", "user", "roles", "action", "object_type", "object_id", "client_id", "remote_addr", "outcome")
    column_filters = ("client_id", "user.email", "action", "at")
    column_sortable_list = ("at",)
    column_default_sort = ("at", True)
    page_size = 50


__all__ = ["SettingsView", "AuditView", "AuditEvent"]
