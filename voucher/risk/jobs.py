"""The nightly risk scan: ``flask voucher risk-scan`` from a daily cron, or this function as an RQ
job (``AppJob`` commits at its end).  Idempotent: run twice, the same signals."""
from __future__ import annotations


def nightly_scan() -> int:
    """Scan every application; the number of new signals."""
    from voucher.risk import services

    return len(services.scan())
