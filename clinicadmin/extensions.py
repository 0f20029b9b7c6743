"""The Flask extensions, created unbound so that models and views can import them before the app exists."""

import os
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints make migrations reproducible on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
if TYPE_CHECKING:
    # Flask-SQLAlchemy builds ``db.Model`` at run time, which a type checker cannot take as a base class; to it the
    # models are untyped.
    Model: Any
else:
    Model = db.Model
migrate = Migrate()


@migrate.configure
def _with_plugin_branches(config):
    """Alembic reads revisions from the core's versions folder and from every loaded plugin's own folder."""
    registry = current_app.extensions.get("clinicadmin")
    core = os.path.join(config.get_main_option("script_location"), "versions")
    folders = [core, *(registry.migrations.values() if registry else ())]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(folders))
    return config


csrf = CSRFProtect()
mail = Mail()
