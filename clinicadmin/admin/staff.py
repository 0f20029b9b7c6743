"""Staff accounts, certifications and locations: administered by managers and admins."""

import uuid

from flask import flash
from flask_admin.actions import action
from flask_security import current_user, hash_password
from sqlalchemy import inspect, update
from wtforms import PasswordField, ValidationError
from wtforms.validators import DataRequired, Email, Length, Optional

from ..audit import audit
from ..clock import ZONE_NAMES, is_time_zone
from ..extensions import db
from ..models import Location, Role, User
from ..models.staff import role_label
from ..passwords import password_problem
from ..plugins import registry
from ..two_factor import is_set_up, reset
from .base import SecuredModelView, acting_roles, user_has_role
from .clients import changes_of
from .registered_choices import RegisteredChoiceField
from .validators import date_order

MANAGERS = ("admin", "manager")
PASSWORD_MIN = 12


class UserView(SecuredModelView):
    """Staff accounts. Passwords are set through a write-only field and hashed by Flask-Security."""

    allowed_roles = create_roles = edit_roles = MANAGERS
    can_view_details = False
    column_list = ("email", "full_name", "roles", "location", "active", "two_factor", "last_login_at")
    column_labels = {"two_factor": "Two-factor"}
    column_formatters = {
        "two_factor": lambda v, c, m, n: "on" if is_set_up(m) else "off",
        "roles": lambda v, c, m, n: m.role_labels,
    }
    column_searchable_list = ("email", "full_name")
    column_sortable_list = ("email",)
    column_default_sort = ("email", False)
    column_filters = ("active",)
    form_columns = ("email", "full_name", "roles", "location", "active", "new_password")
    form_extra_fields = {
        "new_password": PasswordField(
            "New password",
            validators=[Optional(), Length(min=PASSWORD_MIN, max=128)],
            description=f"At least {PASSWORD_MIN} characters. Leave empty to keep the current password.",
        )
    }
    form_args = {
        "email": {"validators": [DataRequired(), Length(max=254), Email(message="Enter a valid e-mail address.")]},
        "full_name": {"validators": [Length(max=120)]},
        # A new account can sign in unless the manager unticks it.
        "active": {"default": True, "description": "Untick to keep this person from signing in."},
        "roles": {"get_label": "label"},
    }

    def on_model_change(self, form, model, is_created):
        before, after = check_role_change(model, is_created)
        if form.new_password.data:
            problem = password_problem(form.new_password.data, email=model.email or "", full_name=model.full_name or "")
            if problem:
                raise ValidationError(f"That password cannot be used: {problem}")
            model.password = hash_password(form.new_password.data)
        elif is_created:
            raise ValidationError("A new account needs a password.")
        if not model.fs_uniquifier:
            model.fs_uniquifier = uuid.uuid4().hex
        elif form.new_password.data or before != after:
            # A changed password or role list ends the account's other sessions.
            model.fs_uniquifier = uuid.uuid4().hex
        changes = changes_of(model)
        changes.pop("password", None)
        changes.pop("fs_uniquifier", None)
        audit(
            "user.create" if is_created else "user.update",
            obj=model,
            detail={"changes": changes, "roles": sorted(after), "password_changed": bool(form.new_password.data)},
        )

    def is_action_allowed(self, name):
        return name == "reset_two_factor" and user_has_role(*MANAGERS)

    @action(
        "reset_two_factor",
        "Reset two-factor sign-in (lost phone)",
        "Remove the authenticator and recovery codes of the selected staff and end their sessions?",
    )
    def action_reset_two_factor(self, ids):
        """A lost or replaced phone: the person's authenticator and recovery codes are removed and their sessions end;
        they set up a new one at their next login when the clinic requires it."""
        if not user_has_role(*MANAGERS):
            return
        wanted = [int(i) for i in ids if str(i).isdecimal()]
        users = self.get_query().filter(self.model.id.in_(wanted)).all()
        for user in users:
            if user.id == current_user.id:
                flash("Reset your own two-factor sign-in from Sign-in security; nothing was reset.", "error")
                return
            if "admin" in user.role_names and "admin" not in acting_roles():
                flash(
                    "Only an administrator can reset an administrator's two-factor sign-in; nothing was reset.", "error"
                )
                return
        for user in users:
            reset(user)
            audit("user.two_factor_reset", obj=user)
        db.session.commit()
        flash(f"Two-factor sign-in reset for {', '.join(str(u) for u in users)}.", "success")


def check_role_change(model, is_created):
    """Refuse a staff change that would widen access or lock the clinic out; returns the roles (before, after).

    Decided on the acting user's roles as stored (``acting_roles``), never on the record the form filled in, which
    is the acting user's own object when they edit themselves: nobody changes their own roles or deactivates
    themself; only an administrator grants or removes the admin role or changes an administrator's account; the
    last active administrator stays one."""
    acting = acting_roles()
    state = inspect(model)
    roles, active = state.attrs.roles.history, state.attrs.active.history
    before = set() if is_created else {r.name for r in [*roles.unchanged, *roles.deleted]}
    after = {r.name for r in model.roles}
    was_active = not is_created and bool(active.deleted[0] if active.deleted else model.active)
    if not is_created and model.id == current_user.id:
        if before != after:
            raise ValidationError("You cannot change your own roles; ask another manager or an administrator.")
        if not model.active:
            raise ValidationError("You cannot deactivate your own account.")
    if "admin" in before | after and "admin" not in acting:
        raise ValidationError(
            f"Only an administrator can grant the {role_label('admin')} role or change an administrator's account."
        )
    if "admin" in before and was_active and ("admin" not in after or not model.active):
        # Take the admin role's row first, so two administrators demoting each other at once are decided in turn.
        db.session.execute(
            update(Role.__table__)
            .where(Role.__table__.c.name == "admin")
            .values(description=Role.__table__.c.description)
        )
        others = db.session.execute(
            db.select(db.func.count(User.id))
            .join(User.roles)
            .where(Role.name == "admin", User.active.is_(True), User.id != model.id)
        ).scalar_one()
        if not others:
            raise ValidationError(
                f"{model} is the last active administrator; make someone else an administrator first."
            )
    return before, after


def _scope_choices():
    return registry().scope_choices()


class CertificationView(SecuredModelView):
    """Who may perform which modality, and who holds which qualification (injections ...), until when."""

    allowed_roles = create_roles = edit_roles = MANAGERS
    can_view_details = False
    column_list = ("user", "scope", "licence_number", "valid_from", "valid_until")
    column_labels = {"scope": "Certified for"}
    column_filters = ("scope", "valid_until")
    column_sortable_list = ("valid_until",)
    column_default_sort = ("valid_until", False)
    column_formatters = {"scope": lambda v, c, m, n: registry().scope_label(m.scope)}
    form_columns = ("user", "scope", "licence_number", "valid_from", "valid_until")
    form_overrides = {"scope": RegisteredChoiceField}
    form_args = {
        "user": {"validators": [DataRequired()]},
        "scope": {
            "choices": _scope_choices,
            "unknown_label": lambda key: registry().scope_label(key),
            "validators": [DataRequired()],
        },
        "licence_number": {"validators": [Length(max=80)]},
        "valid_until": {"validators": [date_order("valid_from", "valid_until", "Valid until is before valid from.")]},
    }

    def on_model_change(self, form, model, is_created):
        # Scope of practice is granted by someone else: nobody certifies themself (or edits their own certification).
        history = inspect(model).attrs.user.history
        holders = {u.id for u in (*history.unchanged, *history.deleted, *history.added) if u is not None}
        if current_user.id in holders | {model.user_id}:
            raise ValidationError("Your own certifications are recorded by another manager.")
        audit(
            "certification.create" if is_created else "certification.update",
            obj=model,
            detail={"changes": changes_of(model)},
        )


class LocationView(SecuredModelView):
    allowed_roles = create_roles = edit_roles = MANAGERS
    can_view_details = False
    column_list = ("name", "address", "time_zone", "active")
    column_labels = {"time_zone": "Time zone"}
    column_formatters = {"time_zone": lambda v, c, m, n: m.time_zone or "the clinic's"}
    column_sortable_list = ("name",)
    column_default_sort = ("name", False)
    form_columns = ("name", "address", "time_zone", "active")
    form_args = {
        "name": {"validators": [DataRequired(), Length(max=120)]},
        "address": {"validators": [Length(max=255)]},
        "time_zone": {
            "validators": [Optional(), is_time_zone],
            "label": "Time zone",
            "description": "Where the location is: its days, hours and every time shown there "
            "follow this zone. Leave blank for the clinic's time zone (a setting).",
        },
    }
    form_choices = {"time_zone": [("", "The clinic's time zone"), *((z, z) for z in ZONE_NAMES)]}


class RoleView(SecuredModelView):
    """The fixed roles, listed for reference; they are created by the migrations and the CLI, not edited."""

    allowed_roles = MANAGERS
    can_view_details = False
    column_list = ("name", "description")
    column_labels = {"name": "Role", "description": "What it may do"}
    column_formatters = {"name": lambda v, c, m, n: m.label}


__all__ = ["UserView", "CertificationView", "LocationView", "RoleView", "Role", "Location"]
