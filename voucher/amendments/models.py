"""An SME's request to change an approved grant (变更申请) and the officer's decision.

One row per request, whatever the grant kind (``source_type`` + ``source_id``, as the fund ledger and
payments name a grant).  ``changes`` holds each changed field with its value before and after, as
strings (money as ``"150000.00"``, dates ISO): the original decision stays readable beside the amended
one.  At most one open (``requested``) amendment per grant: a partial unique index, so two requests
at the same instant cannot both be open.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from voucher.db import Money, UTCDateTime, utcnow
from voucher.extensions import db

AMENDMENT_STATES = ("requested", "approved", "refused", "withdrawn")
SOURCE_TYPES = ("trial_application", "loan_application", "robot_application")


def _in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


class GrantAmendment(db.Model):
    __tablename__ = "grant_amendment"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(AMENDMENT_STATES)})", name="status"),
        CheckConstraint(f"source_type IN ({_in(SOURCE_TYPES)})", name="source_type"),
        # One open request per grant (the second of two at once fails on the key).
        Index("uq_grant_amendment_open", "source_type", "source_id", unique=True,
              postgresql_where=text("status = 'requested'"), sqlite_where=text("status = 'requested'")),
        # The officer's queue: open requests first, oldest first; the keyset tie-breaker is the id.
        Index("ix_grant_amendment_status_requested", "status", "requested_at", "id"),
        Index("ix_grant_amendment_source", "source_type", "source_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[int] = mapped_column()
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The grant's application number, copied (the queue searches it without joining three tables).
    application_number: Mapped[str | None] = mapped_column(String(20), index=True)
    # {field: {"before": "...", "after": "..."}}
    changes: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="requested")
    requested_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(String(2000))
    # What the approval moved in the fund ledger: + reserved, − released (None until approved).
    ledger_difference: Mapped[Decimal | None] = mapped_column(Money)

    @property
    def open(self) -> bool:
        return self.status == "requested"
