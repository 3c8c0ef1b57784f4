"""``flask voucher ...`` commands."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from voucher.extensions import db

voucher_cli = AppGroup("voucher", help="Voucher programme administration commands.")


@voucher_cli.command("audit-verify")
@click.option("--anchor", "anchor_files", multiple=True, type=click.File("r", encoding="utf-8"),
              help="A published-anchor export (JSON or CSV from the audit page) kept outside the system.")
@click.option("--head", "heads", multiple=True, metavar="LENGTH:HASH",
              help="A published chain head as printed on the audit page or the programme report.")
def audit_verify(anchor_files, heads):
    """Check the whole audit hash chain (keys, links, positions) and that it still contains every
    published head given (and every stored daily anchor); name the first broken event."""
    from voucher.audit.services import anchor_from_text, anchors_from_file, verify_chain

    try:
        published = [a for f in anchor_files for a in anchors_from_file(f.read())]
        published += [anchor_from_text(h) for h in heads]
    except (ValueError, KeyError) as exc:
        raise click.BadParameter(str(exc)) from exc
    report = verify_chain(anchors=published)
    if report.ok:
        click.echo(f"OK: {report.checked} events, chain head {report.head}; "
                   f"{report.anchors_checked} published head(s) found on the chain"
                   + (f"; {report.legacy} legacy unkeyed event(s) at its start" if report.legacy else ""))
        return
    click.echo(f"BROKEN at event {report.broken_event_id}: {report.problem} "
               f"({report.checked} events before it are intact)")
    sys.exit(1)


@voucher_cli.command("audit-anchor")
def audit_anchor():
    """Publish today's audit-chain head (run daily from cron; once a day, a second run shows it).
    Refuses (exit 1) when the chain does not verify."""
    from voucher.audit.services import ChainBroken, publish_anchor

    try:
        anchor = publish_anchor()
    except ChainBroken as exc:
        click.echo(f"REFUSED: the chain is broken at event {exc.report.broken_event_id}: {exc.report.problem}")
        sys.exit(1)
    db.session.commit()
    click.echo(f"anchor {anchor.anchored_on.isoformat()}: {anchor.chain_length}:{anchor.head_hash}")


@voucher_cli.command("seed-demo")
def seed_demo():
    """Load the demo data (idempotent: a second run changes nothing).  Refused in production
    (``ENV_NAME`` / ``VOUCHER_ENV_NAME`` = production): demo accounts have published passwords."""
    from flask import current_app

    from voucher.demo import seed

    if current_app.config.get("ENV_NAME") == "production":
        click.echo("REFUSED: seed-demo loads accounts with published passwords; this is a production "
                   "deployment (ENV_NAME=production).", err=True)
        sys.exit(1)

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


@voucher_cli.command("identifier-collisions")
def identifier_collisions():
    """List the rows the identifier-normalisation migration found to be one invoice or one loan
    contract under two spellings (the earlier kept its key), for an officer to decide."""
    from sqlalchemy import select

    from voucher.subsidies.models import IdentifierCollision

    rows = db.session.scalars(select(IdentifierCollision).order_by(IdentifierCollision.id)).all()
    for c in rows:
        click.echo(f"{c.kind} {c.key}: {c.kept_type} {c.kept_id} kept; {c.other_type} {c.other_id} to check "
                   f"(found {c.detected_at:%Y-%m-%d %H:%M} UTC)")
    click.echo(f"{len(rows)} collision(s)")


@voucher_cli.command("match")
def match():
    """Match the bureau's imported sources against the registered enterprises (免申即享 candidates;
    a nightly cron or the RQ job ``voucher.benefits.jobs.nightly_match``).  Safe to run at any time:
    an invoice or a loan's days already in a candidate never make a second one."""
    from voucher.benefits.jobs import nightly_match

    counts = nightly_match()
    db.session.commit()
    click.echo(f"{counts['robot']} robot, {counts['loan']} loan candidate(s); {counts['excluded']} excluded")


@voucher_cli.command("risk-scan")
def risk_scan():
    """Compute the risk signals over all applications (the nightly scan; a daily cron).  Safe to run
    at any time: a pattern already found is never stored twice, a dismissed one stays dismissed."""
    from voucher.risk.jobs import nightly_scan

    new = nightly_scan()
    db.session.commit()
    click.echo(f"{new} new risk signal(s)")
