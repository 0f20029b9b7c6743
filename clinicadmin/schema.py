"""Schema migrations: the core's revisions plus each loaded plugin's own branch, and ``db upgrade`` to all of them.

A plugin with tables returns its revisions folder from ``register_migrations``; Alembic then sees one branch per such
plugin beside the core's (``extensions.migrate`` points it at the folders), so the database has several heads and
``upgrade`` goes to ``heads`` by default.
"""

import click
from flask import g
from flask.cli import with_appcontext
from flask_migrate import cli as migrate_cli
from flask_migrate import upgrade as migrate_upgrade

#: Indexes made by migrations on expressions (``lower(column)`` for search, the month for reports): SQLite cannot
#: reflect them, so Alembic's comparison of models and database leaves them out. A batch migration that rebuilds one
#: of these tables on SQLite must create them again.
EXPRESSION_INDEXES = frozenset(
    {
        "ix_client_lower_last_name",
        "ix_client_lower_first_name",
        "ix_client_lower_email",
        "ix_product_lower_name",
        "ix_product_lower_sku",
        "ix_treatment_performed_month",
    }
)


def compared_by_alembic(obj, name, type_, reflected, compare_to):
    """Alembic's ``include_object``: everything but the expression indexes above."""
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def upgrade_all(revision: str = "heads") -> None:
    """Apply every pending revision of the core and of each loaded plugin (the programmatic ``db upgrade``)."""
    migrate_upgrade(revision=revision)


@click.command("upgrade")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
@click.option("--tag", default=None, help="An arbitrary tag passed to env.py.")
@click.argument("revision", default="heads")
@with_appcontext
def _upgrade_command(sql, tag, revision):
    """Upgrade to a later version; by default the core's and every loaded plugin's newest revision (heads)."""
    migrate_upgrade(g.directory, revision, sql, tag, g.x_arg)


db_group = click.Group(
    "db",
    callback=migrate_cli.db.callback,
    params=list(migrate_cli.db.params),
    commands={**migrate_cli.db.commands, "upgrade": _upgrade_command},
    help=migrate_cli.db.help,
)
