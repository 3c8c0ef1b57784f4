"""The nightly match (免申即享): ``flask voucher match`` from a daily cron, or this function as an RQ
job (``AppJob`` commits at its end).  Idempotent: run twice, the same candidates."""
from __future__ import annotations


def nightly_match() -> dict[str, int]:
    """Match every source row against the registered enterprises; the counts of new candidates."""
    from voucher.benefits import matching

    return matching.match_candidates()
