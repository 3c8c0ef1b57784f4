"""Disbursements (maker-checker), payment batches, and the public notice (公示) of grants.

A :class:`Disbursement` pays one payable item: a grant (``source_type``/``source_id``: the
trial-voucher, loan or robot application) and its ``milestone`` (``advance``/``balance`` of a trial
voucher, ``full`` for a loan discount or robot subsidy).  The payee's name and bank details are
**copied** when it is prepared; the approval stores a fingerprint of payee, bank details and amount.

Database guarantees (whatever the code does):

- ``approved_by <> prepared_by`` (and the same for a rejection): the preparer never approves;
- a partial UNIQUE index on ``(source_type, source_id, milestone)`` among disbursements that are not
  ``failed`` or ``rejected``: one live disbursement per payable item (ten concurrent "prepare" clicks
  make one row), and once one is ``paid`` no second one can exist;
- an approved, batched or paid disbursement has an approver and a fingerprint.

A payment the bank returns (退汇: closed account, wrong name) goes from ``paid`` to ``returned``; the
ledger records a ``return`` and the item is payable again, as after a failure.

A failed bank payment stays ``failed`` (the record of what the bank said); the item goes back to the
finance queue and a **new** disbursement is prepared for it (with the payee's bank details as they are
then, and a fresh approval).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.db import Money, UTCDateTime, utcnow
from voucher.enterprises.models import Organisation
from voucher.extensions import db
from voucher.programmes.models import Programme

DISBURSEMENT_STATES = ("prepared", "approved", "rejected", "in_batch", "paid", "failed", "returned")
# States that hold the payable item's unique key (the others free it for a new disbursement; a
# ``returned`` one -- paid, then returned by the bank -- frees it too: the item is paid again).
LIVE_STATES = ("prepared", "approved", "in_batch", "paid")
MILESTONES = ("advance", "balance", "full")
SOURCE_TYPES = ("trial_application", "loan_application", "robot_application")
BATCH_STATES = ("confirmed", "completed", "cancelled")
OBJECTION_STATES = ("open", "upheld", "dismissed")


def _in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


_LIVE = f"status IN ({_in(LIVE_STATES)})"


class PaymentBatch(db.Model):
    """Approved disbursements of one programme grouped for one bank submission."""

    __tablename__ = "payment_batch"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(BATCH_STATES)})", name="status"),
        CheckConstraint("line_count >= 1", name="line_count_positive"),
        CheckConstraint("total > 0", name="total_positive"),
        Index("ix_payment_batch_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="confirmed")
    line_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_reason: Mapped[str | None] = mapped_column(Text)
    # The document-job batch that produced the payment orders of the lines (latest request).
    orders_job_id: Mapped[int | None] = mapped_column(Integer)

    programme: Mapped[Programme] = relationship()

    @property
    def reference(self) -> str:
        return f"PB-{self.created_at.year if self.created_at else ''}-{self.id:05d}"


class Disbursement(db.Model):
    """One payment of one payable item, prepared by a finance officer and approved by another."""

    __tablename__ = "disbursement"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("offset_amount >= 0 AND offset_amount <= amount", name="offset_within_amount"),
        CheckConstraint(f"status IN ({_in(DISBURSEMENT_STATES)})", name="status"),
        CheckConstraint(f"milestone IN ({_in(MILESTONES)})", name="milestone"),
        CheckConstraint(f"source_type IN ({_in(SOURCE_TYPES)})", name="source_type"),
        # Maker-checker, in the database: the preparer can never be the approver (or the rejecter).
        CheckConstraint("approved_by IS NULL OR approved_by <> prepared_by", name="approver_not_preparer"),
        CheckConstraint("rejected_by IS NULL OR rejected_by <> prepared_by", name="rejecter_not_preparer"),
        CheckConstraint("status NOT IN ('approved','in_batch','paid') OR "
                        "(approved_by IS NOT NULL AND approval_fingerprint IS NOT NULL)", name="approved_has_approver"),
        CheckConstraint("status <> 'in_batch' OR batch_id IS NOT NULL", name="batched_has_batch"),
        CheckConstraint("status <> 'paid' OR (bank_reference IS NOT NULL AND ledger_entry_id IS NOT NULL)",
                        name="paid_has_reference"),
        CheckConstraint("status <> 'returned' OR (return_ledger_entry_id IS NOT NULL AND return_reason IS NOT NULL "
                        "AND returned_by IS NOT NULL)", name="returned_has_return"),
        # One live disbursement per payable item (a failed, rejected or returned one frees the item).
        Index("ux_disbursement_live_item", "source_type", "source_id", "milestone", unique=True,
              postgresql_where=text(_LIVE), sqlite_where=text(_LIVE)),
        Index("ix_disbursement_status_programme", "status", "programme_id"),
        # The disbursement list filtered by status, newest first (ORDER BY id DESC LIMIT).
        Index("ix_disbursement_status_id", "status", "id"),
        Index("ix_disbursement_payee_status", "payee_id", "status"),
        Index("ix_disbursement_source", "source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    funding_kind: Mapped[str] = mapped_column(String(20))
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[int]
    milestone: Mapped[str] = mapped_column(String(20))
    # The enterprise the grant is for (the payee too, except for trial vouchers: the provider).
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    payee_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    # Copied from the payee's profile when prepared (changed only by an edit, which voids an approval).
    payee_name: Mapped[str] = mapped_column(String(200))
    bank_name: Mapped[str] = mapped_column(String(200))
    bank_account: Mapped[str] = mapped_column(String(64))
    bank_code: Mapped[str | None] = mapped_column(String(12))  # 联行号 (CNAPS), 12 digits; the bank file needs it
    amount: Mapped[Decimal] = mapped_column(Money)
    # Netted against the payee's open recovery orders (抵扣, voucher.recovery.services.reserve_offsets):
    # the bank transfers ``amount - offset_amount`` (``transfer_amount``).
    offset_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
    # The figures the amount was computed from when prepared (for the payment order's working).
    basis: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="prepared")

    prepared_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    prepared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approval_fingerprint: Mapped[str | None] = mapped_column(String(64))
    rejected_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    batch_id: Mapped[int | None] = mapped_column(ForeignKey("payment_batch.id"), index=True)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    result_reason: Mapped[str | None] = mapped_column(Text)
    result_recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    result_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("fund_ledger_entry.id"))
    # A paid line the bank returned (退汇): why, the bank's reference for the return, who recorded it,
    # and the ledger's ``return`` entry (``ledger_entry_id`` keeps the original payment's).
    return_reason: Mapped[str | None] = mapped_column(Text)
    return_bank_reference: Mapped[str | None] = mapped_column(String(100))
    returned_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("fund_ledger_entry.id"))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    programme: Mapped[Programme] = relationship()
    payee: Mapped[Organisation] = relationship(foreign_keys=[payee_id])
    enterprise: Mapped[Organisation] = relationship(foreign_keys=[enterprise_id])
    batch: Mapped[PaymentBatch | None] = relationship()

    @property
    def reference(self) -> str:
        year = self.prepared_at.year if self.prepared_at else ""
        return f"DSB-{year}-{self.id:06d}"

    @property
    def transfer_amount(self) -> Decimal:
        """What the bank transfers: the amount less the offset (抵扣) against recovery orders."""
        return self.amount - (self.offset_amount or Decimal("0.00"))

    @property
    def payable_since(self) -> date | None:
        """The local day the item became payable (kept in ``basis`` when prepared; a disbursement
        prepared before that was kept counts from its preparation day)."""
        value = (self.basis or {}).get("payable_since")
        if value:
            return date.fromisoformat(value)
        from voucher.deadlines import local_date

        return local_date(self.prepared_at)


class PublicNotice(db.Model):
    """A published list of a programme's approved grants (公示), open for objections until ``ends_on``.

    ``ends_on`` is ``publicity_working_days`` (of the programme's rule version in force that day)
    Chinese working days after the day of publication (that day not counted); objections are accepted up to and including ``ends_on``
    (Asia/Shanghai dates) and the grants become payable from the day after.
    """

    __tablename__ = "public_notice"
    __table_args__ = (
        CheckConstraint("ends_on >= published_on", name="period_order"),
        CheckConstraint("working_days >= 0", name="working_days_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    published_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_on: Mapped[date] = mapped_column(Date)
    working_days: Mapped[int] = mapped_column(Integer)
    ends_on: Mapped[date] = mapped_column(Date)
    # When the finance officers were told that the period ended and which grants became payable.
    payable_announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    programme: Mapped[Programme] = relationship()
    items: Mapped[list["PublicNoticeItem"]] = relationship(back_populates="notice",
                                                           order_by="PublicNoticeItem.id")


class PublicNoticeItem(db.Model):
    """One grant on a notice, as announced (enterprise, kind, amount).  A grant is announced once."""

    __tablename__ = "public_notice_item"
    __table_args__ = (
        UniqueConstraint("source_type", "source_id", name="uq_public_notice_item_source"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("public_notice.id"), index=True)
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[int]
    funding_kind: Mapped[str] = mapped_column(String(20))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    enterprise_name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)

    notice: Mapped[PublicNotice] = relationship(back_populates="items")


class NoticeObjection(db.Model):
    """An objection anyone filed on the public page during the notice period.

    ``item_id`` names the grant objected to; NULL means the whole list.  While ``open`` it holds the
    grant(s); ``upheld`` keeps them from being paid; ``dismissed`` releases them.
    """

    __tablename__ = "notice_objection"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(OBJECTION_STATES)})", name="status"),
        Index("ix_notice_objection_notice_status", "notice_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("public_notice.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("public_notice_item.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)

    notice: Mapped[PublicNotice] = relationship()
    item: Mapped[PublicNoticeItem | None] = relationship()
