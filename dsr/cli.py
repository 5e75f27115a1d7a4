"""The `flask dsr ...` commands."""

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from connectors.matching import normalise_email
from dsr import audit, periodic, queue, staff
from dsr.extensions import db
from dsr.models import StaffRole, StaffUser

dsr_cli = AppGroup("dsr", help="dsr: workers, scheduler, audit, staff accounts and tokens.")


@dsr_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
@click.option("--fork", is_flag=True, help="Run each job in a child process (isolation, slower).")
def worker_command(burst: bool, fork: bool) -> None:
    """Run an RQ worker (with its scheduler) on every queue the app uses."""
    queue.run_worker(current_app._get_current_object(), burst=burst, fork=fork)


@dsr_cli.command("cron")
def cron_command() -> None:
    """Enqueue the periodic jobs on their schedule until stopped."""
    queue.run_cron(periodic.PERIODIC_JOBS)


audit_cli = AppGroup("audit", help="The audit chain.")
dsr_cli.add_command(audit_cli)


@audit_cli.command("verify")
def audit_verify_command() -> None:
    """Walk the whole chain; exit 1 naming the first broken event, if any."""
    report = audit.verify_chain()
    if report.ok:
        click.echo(f"audit chain intact: {report.count} events")
        return
    where = f"event {report.broken_id}" if report.broken_id else "chain head"
    click.echo(
        f"audit chain BROKEN at {where}: {report.reason} "
        f"({report.count} events verified before it)",
        err=True,
    )
    sys.exit(1)


user_cli = AppGroup("user", help="Staff accounts.")
dsr_cli.add_command(user_cli)


@user_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    required=True,
    type=click.Choice([str(role) for role in StaffRole]),
    help="What the account may do.",
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help=f"At least {staff.MIN_PASSWORD_LENGTH} characters; asked for when not given.",
)
def user_create_command(email: str, role: str, password: str) -> None:
    """Create a staff account that signs in at /staff/login."""
    try:
        user = staff.create_user(email, role, password)
    except staff.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"staff user {user.email} created ({user.role})")


def existing_user(email: str) -> StaffUser:
    user = staff.find_user(email)
    if user is None:
        raise click.ClickException(f"no staff user {normalise_email(email)}")
    return user


def switch_user(email: str, active: bool) -> None:
    user = existing_user(email)
    staff.set_active(user, active)
    db.session.commit()
    click.echo(f"staff user {user.email} {'activated' if active else 'deactivated'}")


@user_cli.command("deactivate")
@click.argument("email")
def user_deactivate_command(email: str) -> None:
    """Stop an account from signing in and from using its API tokens."""
    switch_user(email, False)


@user_cli.command("activate")
@click.argument("email")
def user_activate_command(email: str) -> None:
    """Let a deactivated account sign in again."""
    switch_user(email, True)


token_cli = AppGroup("token", help="Staff API tokens.")
dsr_cli.add_command(token_cli)


@token_cli.command("create")
@click.argument("email")
def token_create_command(email: str) -> None:
    """Print a new API token for a staff account (sent as `Authorization: Bearer <token>`).

    The token is shown once: only its SHA-256 is stored.
    """
    token = staff.create_token(existing_user(email))
    db.session.commit()
    click.echo(token)
    click.echo("Keep this token now: it is not stored and cannot be shown again.", err=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(dsr_cli)
