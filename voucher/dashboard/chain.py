"""The audit chain's status for the auditor's dashboard, cheap enough to show on every visit.

A full :func:`voucher.audit.services.verify_chain` reads every event.  The dashboard keeps the
last full result per database for ``FULL_CHECK_SECONDS``; in between it re-checks only what is
new: the event the last check ended on must still match its hash (the same one), and every event
appended since must link to it and match its own hash.  An edit to an *older* event is caught by the next
full check (at most ``FULL_CHECK_SECONDS`` later) and at once by the audit trail's own
"Verify the hash chain" page, which always checks everything; the dashboard says when the last
full check ran.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from sqlalchemy import select

from voucher.audit.models import AuditEvent
from voucher.audit.services import GENESIS, ChainReport, _digest, seal_pending, verify_chain
from voucher.extensions import db

FULL_CHECK_SECONDS = 300


@dataclass(frozen=True)
class ChainStatus:
    report: ChainReport
    last_id: int  # the chain position (``chain_seq``) the last check ended on
    full_checked_at: datetime
    full_check: bool  # this answer came from a full check (not the incremental one)


_cache: dict[str, tuple[float, ChainStatus]] = {}
_lock = threading.Lock()


def _key() -> str:
    bind = db.session.get_bind()
    engine = getattr(bind, "engine", bind)
    return str(engine.url)


def _full() -> ChainStatus:
    report = verify_chain()
    last_id = db.session.scalar(select(AuditEvent.chain_seq).order_by(AuditEvent.chain_seq.desc()).limit(1)) or 0
    if not report.ok:
        last_id = 0
    return ChainStatus(report, last_id, datetime.now(timezone.utc), True)


def _incremental(cached: ChainStatus) -> ChainStatus | None:
    """The cached result extended by the events appended since, or None when a full check is needed."""
    table = AuditEvent.__table__
    if cached.last_id:
        anchor = db.session.execute(select(table).where(table.c.chain_seq == cached.last_id)).first()
        if anchor is None or anchor.hash != cached.report.head or _digest(anchor) != anchor.hash:
            return None  # the event the last check ended on was changed or deleted
    expected = cached.report.head if cached.last_id else GENESIS
    rows = db.session.execute(select(table).where(table.c.chain_seq > cached.last_id)
                              .order_by(table.c.chain_seq)).all()
    checked, last_id = cached.report.checked, cached.last_id
    for event in rows:
        if event.chain_seq != checked + 1 or event.prev_hash != expected or _digest(event) != event.hash:
            return None  # let the full check name the broken event
        expected, last_id, checked = event.hash, event.chain_seq, checked + 1
    return replace(cached, report=ChainReport(True, checked, head=expected), last_id=last_id, full_check=False)


def chain_status(max_age: float = FULL_CHECK_SECONDS) -> ChainStatus:
    """The chain's status: a full check when none is cached (or it is older than ``max_age``
    seconds or was broken), otherwise the cached one extended by the new events."""
    seal_pending()  # this transaction's own new events count as appended
    key = _key()
    now = time.monotonic()
    with _lock:
        entry = _cache.get(key)
    if entry is not None:
        at, cached = entry
        if now - at < max_age and cached.report.ok:
            status = _incremental(cached)
            if status is not None:
                with _lock:
                    _cache[key] = (at, status)
                return status
    status = _full()
    with _lock:
        _cache[key] = (now, status)
    return status


def forget() -> None:
    """Drop the cached results (tests)."""
    with _lock:
        _cache.clear()
