"""The `flask dsr ...` commands."""

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from connectors.matching import normalise_email
from dsr import audit, password_reset, periodic, queue, retention, staff, suppression
from dsr.extensions import db
from dsr.models import StaffRole, StaffUser
from dsr.models.types import utcnow

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


@dsr_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Say what would go; change nothing.")
def purge_command(dry_run: bool) -> None:
    """Apply the retention periods now (the daily job does it too).

    Deletes the results of requests closed more than RESULTS_RETENTION_DAYS ago
    and anonymises those closed more than REQUESTS_RETENTION_DAYS ago.
    """
    report = retention.purge(dry_run=dry_run)
    if dry_run:
        click.echo(listing("would delete the results of", report.results_deleted))
        click.echo(listing("would anonymise", report.anonymised))
    else:
        click.echo(listing("deleted the results of", report.results_deleted))
        click.echo(listing("anonymised", report.anonymised))


def listing(action: str, refs: list[str]) -> str:
    """One line of the purge's report: what, how many, which references."""
    return f"{action} {len(refs)} request(s)" + (f": {', '.join(refs)}" if refs else "")


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


@user_cli.command("list")
def user_list_command() -> None:
    """Every account: email, role, active, locked until, last sign-in (times in UTC)."""
    now = utcnow()
    rows = [("email", "role", "active", "locked until", "last sign-in")]
    rows += [
        (
            user.email,
            user.role,
            "yes" if user.active else "no",
            moment(user.locked_until) if user.is_locked(now) else "-",
            moment(user.last_login_at),
        )
        for user in staff.all_users()
    ]
    echo_table(rows)


@user_cli.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice([str(role) for role in StaffRole]))
def user_role_command(email: str, role: str) -> None:
    """Give an account another role (never the last active admin's away)."""
    user = existing_user(email)
    try:
        staff.set_role(user, role)
    except staff.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"staff user {user.email} is now {user.role}")


@user_cli.command("deactivate")
@click.argument("email")
def user_deactivate_command(email: str) -> None:
    """Stop an account from signing in and from using its API tokens; end its sessions."""
    user = existing_user(email)
    try:
        staff.set_active(user, False)
    except staff.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"staff user {user.email} deactivated; its sessions are ended")


@user_cli.command("activate")
@click.argument("email")
def user_activate_command(email: str) -> None:
    """Let a deactivated account sign in again (a lockout stays: see `unlock`)."""
    user = existing_user(email)
    was_active = user.active
    staff.set_active(user, True)
    db.session.commit()
    done = "was already active" if was_active else "activated"
    click.echo(f"staff user {user.email} {done}")
    if user.is_locked(utcnow()):
        click.echo(
            f"it is still locked until {user.locked_until:%Y-%m-%d %H:%M} UTC after wrong "
            f"passwords: `dsr user unlock {user.email}` lifts that"
        )


@user_cli.command("unlock")
@click.argument("email")
def user_unlock_command(email: str) -> None:
    """Lift the lockout that wrong passwords put on an account."""
    user = existing_user(email)
    was_locked = user.is_locked(utcnow())
    staff.unlock(user)
    db.session.commit()
    click.echo(f"staff user {user.email} {'unlocked' if was_locked else 'was not locked'}")
    if not user.active:
        click.echo(f"it is inactive: `dsr user activate {user.email}` lets it sign in")


@user_cli.command("password")
@click.argument("email")
@click.option(
    "--password",
    prompt="New password",
    hide_input=True,
    confirmation_prompt=True,
    help=f"At least {staff.MIN_PASSWORD_LENGTH} characters; asked for when not given.",
)
def user_password_command(email: str, password: str) -> None:
    """Give an account a new password; its sessions end."""
    user = existing_user(email)
    try:
        staff.set_password(user, password)
    except staff.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"staff user {user.email}: password changed; its sessions are ended")


@user_cli.command("reset-password")
@click.argument("email")
def user_reset_password_command(email: str) -> None:
    """Email the account a one-time link to choose a new password (a worker sends it)."""
    user = existing_user(email)
    if not user.active:
        raise click.ClickException(f"staff user {user.email} is inactive: activate it first")
    password_reset.link_requested(user, actor="system")
    db.session.commit()
    password_reset.mail_link(user)
    hours = current_app.config["PASSWORD_RESET_LINK_MAX_AGE"] / 3600
    click.echo(f"a password link for {user.email} is queued; it works once, for {hours:g} hours")


token_cli = AppGroup("token", help="Staff API tokens.")
dsr_cli.add_command(token_cli)


@token_cli.command("create")
@click.argument("email")
@click.option(
    "--expires-days",
    type=click.IntRange(min=1),
    default=None,
    help="Refuse the token after this many days (default: valid until revoked).",
)
def token_create_command(email: str, expires_days: int | None) -> None:
    """Print a new API token for a staff account (sent as `Authorization: Bearer <token>`).

    The token is shown once: only its SHA-256 is stored.
    """
    token = staff.create_token(existing_user(email), expires_days)
    db.session.commit()
    click.echo(token)
    click.echo("Keep this token now: it is not stored and cannot be shown again.", err=True)


@token_cli.command("list")
@click.argument("email")
def token_list_command(email: str) -> None:
    """The account's tokens: id, created, last used, expires, revoked (times in UTC)."""
    tokens = staff.tokens_of(existing_user(email))
    if not tokens:
        click.echo("no API tokens")
        return
    rows = [("id", "created", "last used", "expires", "revoked")]
    rows += [
        (
            str(token.id),
            moment(token.created_at),
            moment(token.last_used_at),
            moment(token.expires_at),
            moment(token.revoked_at),
        )
        for token in tokens
    ]
    echo_table(rows)


def echo_table(rows: list[tuple[str, ...]]) -> None:
    """Rows of text in aligned columns, the first row the header."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def moment(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else "-"


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def token_revoke_command(token_id: int) -> None:
    """Refuse a token (its id from `dsr token list`) from now on."""
    try:
        token = staff.revoke_token(token_id)
    except staff.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    when = moment(token.revoked_at)
    click.echo(f"API token {token.id} of {token.user.email} revoked at {when} UTC")


suppression_cli = AppGroup("suppression", help="Suppression records of erased people.")
dsr_cli.add_command(suppression_cli)


@suppression_cli.command("check")
@click.option("--email", default="", help="An email address.")
@click.option("--phone", "phones", multiple=True, help="A phone number (repeatable).")
@click.option("--customer-number", "customer_numbers", multiple=True, help="(repeatable)")
def suppression_check_command(email: str, phones: tuple, customer_numbers: tuple) -> None:
    """Say whether these identifiers belong to a person erased here; exit 1 if so."""
    if not (email or phones or customer_numbers):
        raise click.UsageError("give --email, --phone or --customer-number")
    found = suppression.check(email, phones, customer_numbers)
    if not found:
        click.echo("no suppression record: not erased here")
        return
    for record in found:
        click.echo(
            f"{record.kind}: erased by {record.request_ref} on {moment(record.created_at)} UTC"
        )
    sys.exit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(dsr_cli)
