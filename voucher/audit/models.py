from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from voucher.db import UTCDateTime, utcnow
from voucher.extensions import db


class AuditEvent(db.Model):
    """Append-only, hash-chained record of every state and parameter change.

    An event is inserted when it happens (``chain_seq`` empty) and linked into the chain when its
    transaction commits (``voucher.audit.services``): ``chain_seq`` is its position, ``prev_hash``
    the hash before it, ``hash`` an HMAC-SHA256 under the key ``key_id`` (empty: an event written
    before keys existed, plain SHA-256)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        CheckConstraint("length(hash) = 64", name="hash_len"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(2000))
    ip: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    chain_seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    key_id: Mapped[str | None] = mapped_column(String(40))


class AuditAnchor(db.Model):
    """A published chain head: the chain's length and last hash on a day (one a day).  Copies kept
    outside the system (the export, the programme report) prove that the chain was not rewritten or
    cut short since."""

    __tablename__ = "audit_anchor"
    __table_args__ = (
        CheckConstraint("length(head_hash) = 64", name="head_hash_len"),
        CheckConstraint("chain_length >= 0", name="chain_length_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    anchored_on: Mapped[date] = mapped_column(Date, unique=True)  # the Beijing day
    anchored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    chain_length: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
