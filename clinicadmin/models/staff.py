"""Staff accounts, their roles, and their certifications: for a modality, or a qualification such as injections."""

from flask_security.models import fsqla_v3 as fsqla

from ..extensions import Model, db
from ..roles import ROLE_LABELS, ROLES, role_label  # noqa: F401 (defined in clinicadmin.roles, imported from here too)

fsqla.FsModels.set_db_info(db, user_table_name="user", role_table_name="role")


class Role(Model, fsqla.FsRoleMixin):
    """A role; ``name`` is the stored code that access checks use, ``str()`` its name for people."""

    __tablename__ = "role"

    @property
    def label(self):
        return role_label(self.name)

    def __str__(self):
        return self.label


class User(Model, fsqla.FsUserMixin):
    __tablename__ = "user"
    __table_args__ = (db.Index("ix_user_active", "active"),)

    full_name = db.Column(db.String(120))
    location_id = db.Column(db.Integer, db.ForeignKey("location.id"), index=True)
    location = db.relationship("Location")
    certifications = db.relationship("Certification", back_populates="user", cascade="all, delete-orphan")
    # The time step of the last accepted two-factor code: a code is never accepted twice (see two_factor.OneTimeTotp).
    tf_totp_last_counter = db.Column(db.Integer)

    def __str__(self):
        return self.full_name or self.email

    def check_tf_required(self, tf_setup_methods, tf_fresh):
        """Flask-Security asks after the password is right: a second factor is required from whoever has one set up,
        and from everyone when the clinic requires it (they are sent to set one up)."""
        from ..two_factor import required_for_all

        return bool(tf_setup_methods) or required_for_all(), tf_setup_methods

    def check_tf_required_setup(self):
        """While the clinic requires two-factor sign-in, nobody may turn theirs off."""
        from ..two_factor import required_for_all

        return required_for_all()

    @property
    def role_names(self):
        return {role.name for role in self.roles}

    @property
    def role_labels(self):
        """The person's roles as people call them, in a stable order ("Front desk, Practitioner")."""
        return ", ".join(sorted(role_label(name) for name in self.role_names))


class Certification(Model):
    """A practitioner's licence for one scope (a modality key or a qualification key), valid until a date (None: does
    not expire)."""

    __tablename__ = "certification"
    __table_args__ = (db.Index("ix_certification_user_scope", "user_id", "scope"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    user = db.relationship("User", back_populates="certifications")
    scope = db.Column(db.String(60), nullable=False, index=True)
    licence_number = db.Column(db.String(80))
    valid_from = db.Column(db.Date)
    valid_until = db.Column(db.Date, index=True)

    def valid_on(self, day):
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )

    def __str__(self):
        return f"{self.scope} ({self.licence_number or 'no licence number'})"
