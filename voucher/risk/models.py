"""A risk signal (风险提示): one pattern found in the data, the rows behind it, open or dismissed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from voucher.db import UTCDateTime, utcnow
from voucher.extensions import db
from voucher.risk.detect import KINDS

SIGNAL_STATES = ("open", "dismissed")
_kinds = ",".join(f"'{k}'" for k in KINDS)


class RiskSignal(db.Model):
    __tablename__ = "risk_signal"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_kinds})", name="kind"),
        CheckConstraint("status IN ('open','dismissed')", name="status"),
        # The dashboard: open signals of a kind, newest first.
        Index("ix_risk_signal_status_kind", "status", "kind", "id"),
        Index("ix_risk_signal_source", "source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # Names the pattern (kind, organisations or applications, a hash of the matched value): found
    # again, it is the same signal.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    # The application it is about (the latest one behind it), if any; its number for the search.
    source_type: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[int | None] = mapped_column(Integer)
    application_number: Mapped[str | None] = mapped_column(String(20), index=True)
    # Every application number behind it, space-separated (the dashboard's search).
    numbers: Mapped[str | None] = mapped_column(String(400))
    org_a_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    org_b_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The rows behind it (bank accounts masked) and every application it names.
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    related: Mapped[list] = mapped_column(JSON, default=list)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismissed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    dismiss_reason: Mapped[str | None] = mapped_column(String(2000))
