"""The one audit-event writer, the chain verifier and the published anchors.

Every state change and every parameter change calls :func:`record_event`.  Each event holds the
hash of the previous one and its own HMAC-SHA256 under a key kept outside the database
(``voucher.audit.keys``), so an edited, re-hashed or deleted row breaks the chain at a place
:func:`verify_chain` names; a daily anchor (chain length and head hash, :func:`publish_anchor`)
kept outside the system catches a chain cut short or rewritten from some point on.

Lock order (docs/DEVELOPING.md): domain rows first, the audit-chain lock last.  ``record_event``
inserts the event unlinked; the chain lock is taken only when the transaction commits
(:func:`seal_pending`, a ``before_commit`` hook), after the last flush of the domain rows, and
held for the few statements that link the new events.  A transaction therefore never waits for a
row while holding the chain lock.
"""
from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voucher.audit import keys as audit_keys
from voucher.audit.models import AuditAnchor, AuditEvent
from voucher.db import utcnow
from voucher.extensions import db

GENESIS = "0" * 64
# Arbitrary constant: the PostgreSQL advisory lock that serialises linking events into the chain.
_CHAIN_LOCK_KEY = 7_270_001
# session.info flag: this transaction inserted events not yet linked into the chain.
_UNSEALED = "voucher_audit_unsealed"

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


def _payload(event) -> dict:
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
    if event.key_id is not None:
        # The position and the key id are signed too: neither can be moved without the key.
        payload["seq"] = event.chain_seq
        payload["key"] = event.key_id
    return payload


def _digest(event, keys: dict[str, bytes] | None = None) -> str | None:
    """The event's hash: HMAC-SHA256 under its key id, or (key id empty: an event from before keyed
    chaining) plain SHA-256.  None when its key id is not among ``keys``."""
    canonical = json.dumps(_payload(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if event.key_id is None:
        return hashlib.sha256(canonical).hexdigest()
    secret = (keys if keys is not None else _keyring()[1]).get(event.key_id)
    if secret is None:
        return None
    return hmac.new(secret, canonical, hashlib.sha256).hexdigest()


def _keyring():
    from flask import current_app, has_app_context

    config = current_app.config if has_app_context() else {}
    return audit_keys.keyring(config)


def _lock_chain(session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})


def _sealed_head(session) -> tuple[int, str]:
    row = session.execute(select(AuditEvent.chain_seq, AuditEvent.hash).where(AuditEvent.chain_seq.is_not(None))
                          .order_by(AuditEvent.chain_seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def chain_head() -> str:
    """The hash of the newest event linked into the chain (committed, or sealed in this transaction)."""
    return _sealed_head(db.session)[1]


def record_event(actor: Actor, action: str, object_type: str, object_id: Any, *,
                 before: dict | None = None, after: dict | None = None,
                 reason: str | None = None) -> AuditEvent:
    """Append one event (the only writer of ``audit_event``).

    Rule: the event commits or rolls back with the change it records; it is linked into the chain
    (position, previous hash, keyed hash) when the transaction commits, under the chain lock taken
    after every domain row (:func:`seal_pending`), so the chain never forks and never deadlocks.
    Until then its ``hash`` is a unique placeholder and ``chain_seq`` is empty.
    """
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
        prev_hash="",
        hash=uuid.uuid4().hex + uuid.uuid4().hex,  # unique placeholder until sealed
    )
    db.session.add(event)
    db.session.info[_UNSEALED] = True
    db.session.flush()
    return event


def seal_pending(session: Session | None = None) -> int:
    """Link this transaction's new events into the chain; returns how many.

    Rule (the lock order): flush the domain rows first, then take the chain lock (PostgreSQL
    advisory transaction lock; SQLite has one writer anyway), read the head and sign each new event
    with the newest key, in the order they were written.  Runs before every commit; callers that
    read the chain inside a transaction (``verify_chain``) run it first."""
    session = session if session is not None else db.session()
    if not session.info.pop(_UNSEALED, False):
        return 0
    session.flush()
    _lock_chain(session)
    table = AuditEvent.__table__
    # This transaction's own unlinked events: every committed event is linked.
    # Loaded in one query (the identity map holds its objects weakly: one get() per id read each again).
    events = session.scalars(select(AuditEvent).where(table.c.chain_seq.is_(None)).order_by(table.c.id)).all()
    if not events:
        return 0
    seq, prev = _sealed_head(session)
    (key_id, secret), _ = _keyring()
    for event in events:
        seq += 1
        event.chain_seq, event.prev_hash, event.key_id = seq, prev, key_id
        event.hash = _digest(event, {key_id: secret})
        prev = event.hash
    session.flush()
    return len(events)


@sa_event.listens_for(Session, "before_commit")
def _seal_before_commit(session) -> None:
    seal_pending(session)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_unsealed(session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_UNSEALED, None)


@dataclass(frozen=True)
class Anchor:
    """A published chain head: after ``length`` events the chain's hash was ``head``."""

    length: int
    head: str
    label: str = ""


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_event_id: int | None = None
    problem: str | None = None
    head: str = GENESIS
    anchors_checked: int = 0
    legacy: int = 0  # events from before keyed chaining (plain SHA-256)
    keys_used: tuple = field(default_factory=tuple)


def verify_chain(batch: int = 2000, anchors: list[Anchor] | None = None, *,
                 stored_anchors: bool = True) -> ChainReport:
    """Recompute every hash in chain order; name the first event whose position, link or hash is
    wrong, and check the chain against published heads.

    Rule: positions run 1, 2, 3 ... with no gap; each event links to the previous hash; a keyed
    event's HMAC matches under its key id; unkeyed (legacy, plain SHA-256) events may only precede
    the first keyed one; every anchor (the stored daily ones and ``anchors`` given from outside)
    names a position the chain reaches, whose hash is the published head.  Anything else: broken.
    """
    seal_pending()
    _, keys = _keyring()
    wanted: dict[int, list[Anchor]] = {}
    for anchor in [*(anchors or ()), *(_stored_anchors() if stored_anchors else ())]:
        if anchor.length == 0:  # published before the first event: nothing to compare
            continue
        wanted.setdefault(anchor.length, []).append(anchor)
    expected_prev = GENESIS
    checked = legacy = anchors_checked = 0
    last_seq = 0
    last_id = None
    seen_keyed = False
    used: set[str] = set()
    table = AuditEvent.__table__
    unlinked = db.session.execute(select(table.c.id).where(table.c.chain_seq.is_(None))
                                  .order_by(table.c.id).limit(1)).scalar()
    while True:
        # Core rows, not ORM objects: a long chain does not fill the session's identity map.
        rows = db.session.execute(
            select(table).where(table.c.chain_seq > last_seq).order_by(table.c.chain_seq).limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.chain_seq != checked + 1:
                return ChainReport(False, checked, event.id,
                                   f"position {checked + 1} is missing (an event was deleted)")
            if event.prev_hash != expected_prev:
                return ChainReport(False, checked, event.id,
                                   "previous-hash link broken (an earlier event was deleted or altered)")
            if event.key_id is None:
                if seen_keyed:
                    return ChainReport(False, checked, event.id,
                                       "unkeyed event after keyed ones (edited and re-hashed without the key)")
                legacy += 1
            else:
                seen_keyed = True
                used.add(event.key_id)
            digest = _digest(event, keys)
            if digest is None:
                return ChainReport(False, checked, event.id,
                                   f"signed with the unknown key id {event.key_id!r} (not in AUDIT_KEYS)")
            if digest != event.hash:
                return ChainReport(False, checked, event.id, "content does not match its hash (event edited)")
            expected_prev = event.hash
            checked += 1
            last_seq, last_id = event.chain_seq, event.id
            for anchor in wanted.pop(checked, ()):
                if anchor.head != event.hash:
                    return ChainReport(False, checked - 1, event.id,
                                       f"event {checked} does not match the published head {anchor.label} "
                                       f"(the chain was rewritten)")
                anchors_checked += 1
    if wanted:
        anchor = wanted[max(wanted)][0]
        return ChainReport(False, checked, last_id,
                           f"the chain has {checked} events, fewer than the {anchor.length} of the published head "
                           f"{anchor.label} (newest events deleted)")
    if unlinked is not None:
        return ChainReport(False, checked, unlinked, "event not linked into the chain (written outside the application)")
    return ChainReport(True, checked, head=expected_prev, anchors_checked=anchors_checked, legacy=legacy,
                       keys_used=tuple(sorted(used)))


# --- anchors ----------------------------------------------------------------------------------------

def _stored_anchors() -> list[Anchor]:
    return [Anchor(a.chain_length, a.head_hash, a.anchored_on.isoformat())
            for a in db.session.scalars(select(AuditAnchor).order_by(AuditAnchor.id))]


def anchors(limit: int | None = None) -> list[AuditAnchor]:
    """The published anchors, newest first."""
    stmt = select(AuditAnchor).order_by(AuditAnchor.anchored_on.desc())
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def latest_anchor() -> AuditAnchor | None:
    return db.session.scalar(select(AuditAnchor).order_by(AuditAnchor.anchored_on.desc()).limit(1))


class ChainBroken(Exception):
    def __init__(self, report: ChainReport):
        super().__init__(report.problem)
        self.report = report


def publish_anchor(day: date | None = None) -> AuditAnchor:
    """Publish today's chain head (once a Beijing day; a second call returns the day's anchor).

    Rule: an anchor is only published for a chain that verifies (``ChainBroken`` otherwise: a
    rewritten chain must not be blessed); it records the chain length and head hash at that time."""
    from voucher.deadlines import local_today

    day = day or local_today()
    existing = db.session.scalar(select(AuditAnchor).where(AuditAnchor.anchored_on == day))
    if existing is not None:
        return existing
    report = verify_chain()
    if not report.ok:
        raise ChainBroken(report)
    anchor = AuditAnchor(anchored_on=day, anchored_at=utcnow(), chain_length=report.checked, head_hash=report.head)
    try:
        with db.session.begin_nested():
            db.session.add(anchor)
    except IntegrityError:  # another process published the day's anchor meanwhile
        return db.session.scalar(select(AuditAnchor).where(AuditAnchor.anchored_on == day))
    return anchor


def ensure_daily_anchor() -> AuditAnchor | None:
    """Today's anchor, published now if not yet (pages and reports show it); None on a broken chain."""
    try:
        return publish_anchor()
    except ChainBroken:
        return latest_anchor()


def anchor_from_text(value: str, label: str = "") -> Anchor:
    """``LENGTH:HASH`` → an Anchor (what an auditor copies from the page or the report)."""
    length, sep, head = value.strip().partition(":")
    if not sep or not length.strip().isdigit() or len(head.strip()) != 64:
        raise ValueError(f"an anchor is written LENGTH:HEAD-HASH (64 hex digits), not {value!r}")
    return Anchor(int(length), head.strip().lower(), label or value.strip()[:20])


def anchors_from_file(content: str) -> list[Anchor]:
    """The anchors of an export (JSON or CSV, as the auditor's page gives them) or of a text file
    with one ``LENGTH:HASH`` a line."""
    import csv
    import io

    text_ = content.lstrip("\ufeff").strip()
    found: list[Anchor] = []
    if text_.startswith("[") or text_.startswith("{"):
        data = json.loads(text_)
        rows = data.get("anchors", [data]) if isinstance(data, dict) else data
        for row in rows:
            found.append(Anchor(int(row["chain_length"]), str(row["head_hash"]).lower(), str(row.get("day", ""))))
        return found
    first = text_.splitlines()[0] if text_ else ""
    if "chain_length" in first:
        for row in csv.DictReader(io.StringIO(text_)):
            found.append(Anchor(int(row["chain_length"]), row["head_hash"].strip().lower(), row.get("day", "")))
        return found
    return [anchor_from_text(line) for line in text_.splitlines() if line.strip()]
