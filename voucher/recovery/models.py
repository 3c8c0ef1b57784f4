"""Recovery of a grant (追回, issue 18 §3): an order to pay back (all or part of) a grant after a
breach of one of its obligations, and the settlements that pay it off.

One order per breach, whatever the grant kind (``source_type`` + ``source_id``, as the fund ledger
names a grant).  The order keeps the obligation as it stood, the breach, the evidence file, the
amount with its working (the calculation's steps) and the deadline.  Each settlement is a repayment
recorded from the bank statement (unique bank reference), or an offset (抵扣) against a later payment
to the debtor (the disbursement named), and the ledger's ``recover`` entry it made.
The CHECKs hold what the services check: an order is never settled beyond its amount.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.db import Money, UTCDateTime, utcnow
from voucher.extensions import db

ORDER_STATES = ("open", "partly_settled", "settled", "cancelled")
SETTLEMENT_KINDS = ("repayment", "offset")
# An offset (抵扣) against a later payment to the debtor: ``pending`` while the disbursement is under
# way (the money is held back from other offsets and repayments), ``settled`` when it is paid (its
# settlement made), ``released`` when it was rejected or failed first; ``carried``: the disbursement
# pays again an item whose earlier payment the bank returned (退汇) and repeats that payment's offset,
# already settled, so nothing is settled twice.
OFFSET_STATES = ("pending", "settled", "released", "carried")
METHODS = ("whole", "pro_rata")
SOURCE_TYPES = ("trial_application", "loan_application", "robot_application")


def _in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


class RecoveryOrder(db.Model):
    __tablename__ = "recovery_order"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(ORDER_STATES)})", name="status"),
        CheckConstraint(f"method IN ({_in(METHODS)})", name="method"),
        CheckConstraint(f"source_type IN ({_in(SOURCE_TYPES)})", name="source_type"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("settled_amount >= 0 AND settled_amount <= amount", name="settled_within_amount"),
        Index("ix_recovery_order_status_id", "status", "id"),
        Index("ix_recovery_order_source", "source_type", "source_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[int] = mapped_column()
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Who pays it back: the organisation the grant was paid to (the provider for a trial voucher).
    debtor_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    application_number: Mapped[str | None] = mapped_column(String(20), index=True)
    obligation: Mapped[str] = mapped_column(String(40))
    obligation_starts_on: Mapped[date | None] = mapped_column(Date)
    obligation_ends_on: Mapped[date | None] = mapped_column(Date)
    breach_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    evidence_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    method: Mapped[str] = mapped_column(String(10))
    recoverable: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    settled_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # The calculation's steps: [{"code", "text", "values"}] (rendered in the reader's language).
    working: Mapped[list] = mapped_column(JSON)
    deadline_working_days: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(2000))

    settlements: Mapped[list["RecoverySettlement"]] = relationship(
        back_populates="order", order_by="RecoverySettlement.id")

    @property
    def reference(self) -> str:
        return f"ZH{self.id:06d}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.settled_amount


class RecoverySettlement(db.Model):
    __tablename__ = "recovery_settlement"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(SETTLEMENT_KINDS)})", name="kind"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("kind <> 'repayment' OR bank_reference IS NOT NULL", name="repayment_has_reference"),
        CheckConstraint("kind <> 'offset' OR disbursement_id IS NOT NULL", name="offset_has_disbursement"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("recovery_order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="repayment")
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_on: Mapped[date] = mapped_column(Date)
    # The bank's reference of the credit: one statement row pays one settlement (a repayment's).
    bank_reference: Mapped[str | None] = mapped_column(String(60), unique=True)
    # An offset's disbursement (the later payment it was netted from) and its reference as shown.
    disbursement_id: Mapped[int | None] = mapped_column(ForeignKey("disbursement.id"), index=True)
    disbursement_reference: Mapped[str | None] = mapped_column(String(30))
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("fund_ledger_entry.id"), unique=True)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[RecoveryOrder] = relationship(back_populates="settlements")


class RecoveryOffset(db.Model):
    """Part of a recovery order netted from one later disbursement to the debtor (抵扣).  The
    disbursement's ``offset_amount`` is the sum of its rows (``pending``, ``settled`` or ``carried``)."""

    __tablename__ = "recovery_offset"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(OFFSET_STATES)})", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("disbursement_id", "order_id", name="uq_recovery_offset_disbursement_order"),
        Index("ix_recovery_offset_order_status", "order_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("recovery_order.id"))
    disbursement_id: Mapped[int] = mapped_column(ForeignKey("disbursement.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("recovery_settlement.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[RecoveryOrder] = relationship()
