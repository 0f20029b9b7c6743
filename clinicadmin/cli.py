"""The ``clinicadmin`` command: Flask's ``run`` and Flask-Migrate's ``db``, plus the clinic's chores."""

import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from flask_security import hash_password

from .app import create_app
from .deployment_secrets import MissingSecrets
from .extensions import db
from .input_policy import text_problem
from .models.staff import ROLES
from .passwords import password_problem
from .schema import db_group


class ClinicGroup(FlaskGroup):
    """Flask's command group, whose ``db`` is ours: Flask-Migrate's commands with ``upgrade`` to every head."""

    def _load_plugin_commands(self):
        if not self._loaded_plugin_commands:
            super()._load_plugin_commands()
            self.add_command(db_group, "db")


def _app_for_command():
    """``run`` serves the app, so it is built as a server builds it (refused in production until ``HTTPS`` is set);
    the chores (``db upgrade``, ``check``, ``backup`` ...) serve nothing."""
    command = click.get_current_context(silent=True)
    try:
        return create_app(None if command is not None and command.info_name == "run" else {})
    except MissingSecrets as exc:
        raise click.ClickException(str(exc)) from None


@click.group(cls=ClinicGroup, create_app=_app_for_command)
def main():
    """ClinicAdmin: run the admin panel (run), migrate the database (db upgrade) and the clinic's chores."""


@main.command("serve")
@click.option("--bind", default=None, help="Address to listen on (default: CLINICADMIN_BIND, else 127.0.0.1:8000).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: WEB_CONCURRENCY, else 2 per core + 1, at most 8).",
)
@click.argument("gunicorn_args", nargs=-1, type=click.UNPROCESSED)
def serve(bind, workers, gunicorn_args):
    """Serve the clinic with gunicorn and its shipped settings (clinicadmin/gunicorn_conf.py; see
    docs/operations.md). Further arguments after -- go to gunicorn as they are. The process becomes gunicorn's
    master, so a service manager's signals reach it."""
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:clinicadmin.gunicorn_conf"]
    if bind:
        argv += ["--bind", bind]
    if workers:
        argv += ["--workers", str(workers)]
    argv += list(gunicorn_args)
    sys.stdout.flush()
    os.execv(sys.executable, argv)


@main.command("worker")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Jobs run at once (threads).")
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also enqueue the scheduled jobs when they are due; give --no-periodic to every worker but one.",
)
@click.option(
    "--parent-pid",
    type=click.IntRange(min=1),
    default=None,
    help="Stop (gracefully) once process PID, which started this one, has ended: `make run` gives its server's.",
)
@with_appcontext
def worker(workers, periodic, parent_pid):
    """Run the background jobs of the configured queue (JOBS_QUEUE: the instance's SQLite file, or Redis) until
    stopped: SIGINT stops after the running jobs finish, SIGTERM at once (see docs/operations.md)."""
    from .jobs import queue_of
    from .request_log import configure_logging

    queue = queue_of()
    if queue.kind == "immediate":
        raise click.ClickException("JOBS_QUEUE is 'immediate': jobs run where they are enqueued; no worker runs them")
    if not current_app.config.get("LOG_FORMAT"):
        configure_logging("text", current_app.config.get("LOG_LEVEL") or "INFO")
    consumer = queue.huey.create_consumer(workers=workers, periodic=periodic, worker_type="thread")
    if parent_pid:
        _stop_with_parent(parent_pid)
    click.echo(f"Running background jobs from the {queue.kind} queue {queue.location}: {', '.join(queue.jobs)}.")
    consumer.run()


def _stop_with_parent(parent):
    """Send this process SIGINT (the consumer's graceful stop) once ``parent`` is no longer its parent: it ended
    (maybe before this process got this far) and this one was re-parented."""
    import signal
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        # Wait for the consumer's own handler: a process started with `&` ignores SIGINT until then.
        while signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.SIG_DFL, signal.default_int_handler):
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="stop-with-parent", daemon=True).start()


@main.command("create-user")
@click.argument("email")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(sorted(ROLES)),
    help="A role to grant; repeat for several.",
)
@click.option("--name", "full_name", default=None, help="The person's name as shown in the panel.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@with_appcontext
def create_user(email, roles, full_name, password_stdin):
    """Create a staff account. The password is prompted for (or read from stdin), never taken as an argument."""
    from .demo import _role, ensure_roles

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, email=email, full_name=full_name or "")
    if problem:
        raise click.ClickException(f"that password cannot be used: {problem}")
    try:
        from email_validator import EmailNotValidError, validate_email

        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.ClickException(f"not a valid email address: {exc}") from None
    if text_problem(full_name):
        raise click.ClickException(f"--name: {text_problem(full_name)}")
    datastore = current_app.security.datastore
    if datastore.find_user(email=email) is not None:
        raise click.ClickException(f"an account for {email} already exists")
    ensure_roles()
    datastore.create_user(
        email=email, full_name=full_name, password=hash_password(password), roles=[_role(r) for r in roles]
    )
    db.session.commit()
    click.echo(f"Created {email} with role(s) {', '.join(roles)}.")


@main.command("demo-data")
@with_appcontext
def demo_data():
    """Load a believable small demo clinic (idempotent) and print the demo logins."""
    from .demo import load_demo, write_logins

    created = load_demo()
    path = write_logins(current_app.instance_path, created)
    click.echo("Demo clinic ready." + (" New accounts were created." if created else " (Already loaded.)"))
    if path.exists():
        click.echo(f"Demo logins (from {path}):")
        for line in path.read_text().splitlines():
            email, password = line.split("\t")
            click.echo(f"  {email:28} {password}")


@main.command("plugins")
@with_appcontext
def plugins():
    """List the loaded plugins: where each came from and which hooks it implements."""
    registry = current_app.extensions["clinicadmin"]
    for plugin in registry.loaded:
        click.echo(f"{plugin.name}  [{plugin.source}]")
        click.echo(f"    hooks: {', '.join(plugin.hooks) or '(none)'}")
    click.echo(
        "modalities: " + (", ".join(f"{k} ({registry.modality_plugin[k]})" for k in registry.modalities) or "(none)")
    )


@main.command("new-plugin")
@click.argument("name")
@click.option(
    "--path",
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    default=".",
    help="The folder to write the distribution NAME/ in (default: the current folder).",
)
@click.option("--label", default=None, help="The modality's name as users see it (default: from NAME).")
@with_appcontext
def new_plugin(name, folder, label):
    """Write an installable plugin distribution NAME/ (pyproject.toml with the entry point, src/, tests/, README),
    a working modality to build a new one from."""
    from .scaffold import ScaffoldError, write_plugin

    if name in current_app.extensions["clinicadmin"].modalities:
        raise click.ClickException(f"a loaded plugin already provides the modality {name!r}")
    try:
        root = write_plugin(name, folder, label)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Wrote {root}. Install it beside ClinicAdmin with: pip install -e '{root}[test]'\n"
        f"It then loads at the next start; run its tests from its folder with: cd {root} && pytest"
    )


@main.command("check")
@with_appcontext
def check():
    """Verify the stored data: every lot's quantity equals the sum of its ledger rows and none is negative, the
    monthly usage the reports read equals the ledger's consumption, each treatment's consumption equals what it
    recorded (the ledger plus its open stock exceptions), each client's first session is their earliest
    performed one, every audit row carries its keyed digest and every audit seal its MAC over the rows it covers,
    and every photo row has its file and every photo file its row; and count the open stock exceptions and the
    audit rows not sealed yet.

    Exits 1, naming each lot, month, audit row, seal or photo that is wrong, if anything is. Open stock exceptions
    are work for the stock clerk, not broken data: they are listed (``OPEN:``) and do not change the exit status;
    nor do audit rows written after their place was sealed, places sealed as skipped long after the next row was
    written, or a sealer that has not sealed for ``AUDIT_SEAL_STALE_MINUTES`` (``NOTE:``)."""
    from .integrity import run_checks

    result = run_checks()
    problems = result.problems
    for problem in problems:
        click.echo(problem, err=True)
    for note in result.audit_notes + result.audit_warnings:
        click.echo(f"NOTE: {note}")
    owed, count = result.open_lines, result.open_count
    if owed:
        click.echo(f"OPEN: {count} stock exception(s) wait for the stock clerk (Stock > Stock exceptions):")
    for line in owed:
        click.echo(f"OPEN: {line}")
    if problems:
        raise SystemExit(1)
    click.echo(f"OK: {result.lots} lots agree with the stock ledger.")
    click.echo("OK: the monthly usage the reports read agrees with the stock ledger.")
    click.echo("OK: each treatment's recorded consumption agrees with the stock ledger.")
    if not owed:
        click.echo("OK: no open stock exceptions.")
    click.echo("OK: each client's first session agrees with their treatments.")
    oldest = f" (the oldest written {result.oldest_unsealed:%Y-%m-%d %H:%M} UTC)" if result.oldest_unsealed else ""
    click.echo(
        f"OK: the audit chain of {result.audit_rows} rows is unbroken: {result.audit_sealed} sealed in "
        f"{result.audit_seals} seal(s), {result.audit_unsealed} not sealed yet{oldest}."
    )
    click.echo("OK: every photo row has its files, and every photo file its row.")


@main.command("audit-seal")
@with_appcontext
def audit_seal():
    """Seal the audit rows written since the last seal (``AUDIT_SEAL_SETTLE_SECONDS``: how long a missing row is
    waited for before its place is sealed as skipped). Run it every few minutes; ``clinicadmin check`` verifies."""
    from .audit_anchor import AuditAnchorError
    from .audit_seal import seal_pending

    try:
        made = seal_pending()
    except AuditAnchorError as exc:
        raise click.ClickException(str(exc)) from None
    for seal in made:
        skipped = f", {len(seal.skipped)} place(s) skipped" if seal.skipped else ""
        legacy = f", {seal.legacy_rows} of the old hash chain" if seal.legacy_rows else ""
        click.echo(
            f"Sealed audit rows {seal.first_seq} to {seal.last_seq} in seal {seal.number}: "
            f"{seal.rows} rows{skipped}{legacy}."
        )
    if not made:
        click.echo("Nothing to seal: no audit row is ready (or another sealer has just sealed it).")


@main.command("audit-anchor")
@click.option("--reset", is_flag=True, help="Anchor the database's latest seal, replacing the anchor recorded.")
@with_appcontext
def audit_anchor_command(reset):
    """Show the latest audit seal recorded outside the database (the anchor) and the database's latest seal. After
    restoring a backup, the anchor names a newer seal than the backup holds and the sealer refuses to seal: ``--reset``
    anchors the restored database's latest seal instead (audited, with the anchor it replaced). Never reset after a
    ``check`` problem you cannot explain by a restore: the anchor is what shows seals were removed."""
    from . import audit_anchor
    from .audit import audit
    from .models import AuditSeal

    try:
        anchored = audit_anchor.read()
    except audit_anchor.AuditAnchorError as exc:
        raise click.ClickException(str(exc)) from None
    last = db.session.execute(db.select(AuditSeal).order_by(AuditSeal.number.desc()).limit(1)).scalar_one_or_none()
    click.echo(f"Anchor ({audit_anchor.describe()}): " + (f"seal {anchored.number}" if anchored else "none"))
    click.echo("Database: " + (f"seal {last.number}" if last else "no seal"))
    if not reset:
        return
    if last is None:
        raise click.ClickException("The database has no seal to anchor; run clinicadmin audit-seal first.")
    audit(
        "audit.anchor_reset",
        object_type="AuditSeal",
        object_id=last.number,
        detail={"replaced": list(anchored) if anchored else None, "anchored": [last.number, last.mac]},
    )
    db.session.commit()
    audit_anchor.replace(last.number, last.mac)
    click.echo(f"Anchored seal {last.number}.")


@main.command("backup")
@click.argument("folder", type=click.Path(file_okay=False))
@with_appcontext
def backup(folder):
    """Write a consistent copy of the database, and the photo files kept in a folder, into FOLDER; the deployment's
    secrets are backed up apart from it (see docs/operations.md)."""
    from .backup import BackupError, make_backup

    try:
        manifest = make_backup(folder)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up the {manifest['backend']} database to {folder}/{manifest['database']}.")
    click.echo(f"Photos: {manifest['photos']}")
    click.echo(
        "The secrets are not in it: keep the deployment's secrets (CLINICADMIN_* environment or "
        "CLINICADMIN_SECRETS_FILE) in a separate backup; a restore needs them (docs/operations.md)."
    )


@main.group("secrets", cls=click.Group)
def secrets_group():
    """The deployment's secrets (secret key, password salt, two-factor keys): see docs/operations.md."""


@secrets_group.command("generate")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "form",
    type=click.Choice(["json", "env"]),
    default=None,
    help="json (the default for FILE) or CLINICADMIN_<NAME>=value lines (the default on standard output).",
)
def generate_secrets(file, form):
    """Make a new, complete set of secrets for a deployment: into FILE (created with mode 0600, never overwritten;
    name it in CLINICADMIN_SECRETS_FILE), or printed as environment lines."""
    import json

    from .deployment_secrets import as_env_lines, new_secrets, write_private

    values = new_secrets()
    form = form or ("json" if file else "env")
    text = json.dumps(values, indent=2) + "\n" if form == "json" else as_env_lines(values)
    if not file:
        click.echo(text, nl=False)
        return
    try:
        write_private(file, text)
    except FileExistsError:
        raise click.ClickException(
            f"{file} exists; secrets are never overwritten (rotate them as docs/operations.md says)."
        ) from None
    click.echo(
        f"Wrote a new set of secrets to {file} (mode 0600). "
        f"Set CLINICADMIN_SECRETS_FILE={file} for every server and command."
    )


@main.group("messages", cls=AppGroup)
def messages_group():
    """Reminders and aftercare to clients (docs/operations.md)."""


@messages_group.command("send-due")
def send_due():
    """Send what is due now: failed messages whose retry time has come, booking reminders and aftercare messages.
    Safe to run from cron and from several workers at once: each message goes out once."""
    from .reminders import send_due_messages

    summary = send_due_messages()
    counts = ", ".join(f"{summary.get(status, 0)} {status}" for status in ("sent", "failed", "bounced", "withdrawn"))
    click.echo(f"Messages: {counts}.")
