"""``flask voucher ...`` commands."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from voucher.extensions import db

voucher_cli = AppGroup("voucher", help="Voucher programme administration commands.")


@voucher_cli.command("audit-verify")
def audit_verify():
    """Check the whole audit hash chain; name the first broken event."""
    from voucher.audit.services import verify_chain

    report = verify_chain()
    if report.ok:
        click.echo(f"OK: {report.checked} events, chain head {report.head}")
        return
    click.echo(f"BROKEN at event {report.broken_event_id}: {report.problem} "
               f"({report.checked} events before it are intact)")
    sys.exit(1)


@voucher_cli.command("seed-demo")
def seed_demo():
    """Load the demo data (idempotent: a second run changes nothing)."""
    from voucher.demo import seed

    created = seed()
    db.session.commit()
    click.echo("demo data: " + (", ".join(f"{k}={v}" for k, v in created.items()) if created else "already loaded"))


@voucher_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(burst: bool):
    """Run an RQ worker on the application's queues (jobs run inside the app context)."""
    from voucher.tasks import run_worker

    run_worker(burst=burst)


@voucher_cli.command("jobs-recover")
def jobs_recover():
    """Re-queue background jobs lost by Redis (restarted without persistence, flushed) and fail over
    the jobs of dead workers (no heartbeat), once; workers also run this every JOBS_SWEEP_SECONDS.
    Safe to run at any time: nothing is produced twice."""
    from voucher.tasks import recover_jobs

    report = recover_jobs()
    db.session.commit()  # the re-queued jobs are enqueued after this commit
    click.echo(f"dead-worker jobs failed over: {report['dead_worker_jobs']}; document jobs re-queued: "
               f"{report['requeued']}, found done: {report['linked']}, failed (too many attempts): {report['failed']}")


@voucher_cli.command("notify-payable")
def notify_payable():
    """Tell the finance officers about public notices whose period has ended (each notice once).

    Workers already run this on the morning after each notice; a daily cron of this command
    covers a deployment without a worker scheduler."""
    from voucher.payments.services import announce_payable_notices

    announced = announce_payable_notices()
    db.session.commit()
    click.echo(f"{len(announced)} notice(s) announced" + (": " + ", ".join(f"#{n.id}" for n in announced)
                                                          if announced else ""))
