"""The one audit-event writer and the chain verifier.

Every state change and every parameter change calls :func:`record_event`.  Each event holds
the SHA-256 of the previous one, so an edited or deleted row breaks the chain at a place
:func:`verify_chain` names.
"""
from __future__ import annotations

import contextvars
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select, text

from voucher.audit.models import AuditEvent
from voucher.db import utcnow
from voucher.extensions import db

GENESIS = "0" * 64
# Arbitrary constant: the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_270_001

# Set by the web layer per request (and left empty in jobs); services stay free of Flask.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_ip", default=None)


@dataclass(frozen=True)
class Actor:
    """Who performs an operation: what services need to know of the caller."""

    user_id: int | None
    role: str
    organisation_id: int | None
    label: str

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(user_id=None, role="system", organisation_id=None, label=label)


def jsonable(value: Any) -> Any:
    """Plain JSON values, so the stored form hashes the same after a round trip."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _digest(event) -> str:
    payload = {
        "prev": event.prev_hash,
        "at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "role": event.actor_role,
        "action": event.action,
        "type": event.object_type,
        "id": event.object_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "ip": event.ip,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})


def chain_head() -> str:
    return db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS


def record_event(actor: Actor, action: str, object_type: str, object_id: Any, *,
                 before: dict | None = None, after: dict | None = None,
                 reason: str | None = None) -> AuditEvent:
    """Append one event to the chain (the only writer of ``audit_event``).

    Rule: every event links to the hash of the one before it; appends are serialised so
    the chain never forks, and the event commits or rolls back with the change it records.
    """
    _lock_chain()
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.user_id,
        actor_label=actor.label[:200],
        actor_role=actor.role,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        reason=reason,
        ip=current_ip.get(),
        prev_hash=chain_head(),
    )
    event.hash = _digest(event)
    db.session.add(event)
    db.session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_event_id: int | None = None
    problem: str | None = None
    head: str = GENESIS


def verify_chain(batch: int = 2000) -> ChainReport:
    """Recompute every hash in order; name the first event whose hash or link is wrong."""
    expected_prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        # Core rows, not ORM objects: a long chain does not fill the session's identity map.
        table = AuditEvent.__table__
        rows = db.session.execute(
            select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.prev_hash != expected_prev:
                return ChainReport(False, checked, event.id,
                                   "previous-hash link broken (an earlier event was deleted or altered)")
            if _digest(event) != event.hash:
                return ChainReport(False, checked, event.id, "content does not match its hash (event edited)")
            expected_prev = event.hash
            checked += 1
            last_id = event.id
    return ChainReport(True, checked, head=expected_prev)
