"""The `flask dsr ...` commands."""

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from dsr import audit, queue

dsr_cli = AppGroup("dsr", help="dsr: workers, scheduler, audit.")


@dsr_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
def worker_command(burst: bool) -> None:
    """Run an RQ worker (with its scheduler) on every queue the app uses."""
    queue.run_worker(current_app._get_current_object(), burst=burst)


@dsr_cli.command("cron")
def cron_command() -> None:
    """Enqueue the periodic jobs on their schedule until stopped."""
    queue.run_cron()


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


def init_app(app: Flask) -> None:
    app.cli.add_command(dsr_cli)
