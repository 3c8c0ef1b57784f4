"""The nightly risk scan: ``flask voucher risk-scan`` from a daily cron, or this function as an RQ
job (``AppJob`` commits at its end).  Idempotent: run twice, the same signals."""
from __future__ import annotations


def scan_submitted(source_type: str, source_id: int) -> int:
    """After a submission commits: the patterns the application takes part in; the number of new
    signals.  Idempotent (each pattern is stored once); a failure is the job's (retried from the
    jobs page, caught up by the nightly scan), never the submission's."""
    from voucher.risk import services

    return len(services.scan_application(source_type, source_id))


def nightly_scan() -> int:
    """Scan every application; the number of new signals."""
    from voucher.risk import services

    return len(services.scan())
