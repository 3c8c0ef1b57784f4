"""Reconciliation with the bank's statement (issue 18 §1): each imported result file and its rows.

A :class:`ReconciliationImport` is one bank result / statement file imported for one payment batch
(its SHA-256, who imported it and when, the column layout it was read with); a file is imported once
per batch (UNIQUE batch + SHA-256).  Each of its rows is a :class:`ReconciliationRow` that ends in
exactly one ``status`` (CHECK), never silently:

- ``matched``: reference and amount (to the fen) are those of a line waiting for the bank; the line
  was recorded paid through ``payments.services.record_result``;
- ``amount_differs``: the reference names a line, the amount does not (``difference`` = bank − approved);
- ``unknown_reference``: no line of the batch waiting for the bank has that reference;
- ``duplicate``: the line was already matched or paid (by this file or an earlier one);
- ``reversal``: the bank reverses (negative amount, or 冲正/退汇 in the type column) an earlier payment.

Every row but a matched one waits for a finance officer's decision (``resolution``: ``pending`` →
``accepted_paid`` / ``marked_failed`` / ``ignored``, with a reason, through the state machine and the
audit writer); a matched row is ``auto``.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.db import Money, UTCDateTime, utcnow
from voucher.extensions import db
from voucher.payments.models import PaymentBatch

ROW_STATUSES = ("matched", "amount_differs", "unknown_reference", "duplicate", "reversal")
RESOLUTIONS = ("auto", "pending", "accepted_paid", "marked_failed", "recorded_returned", "ignored")


def _in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


class ReconciliationImport(db.Model):
    """One bank result / statement file imported for one batch (kept: hash, who, when, layout)."""

    __tablename__ = "reconciliation_import"
    __table_args__ = (
        UniqueConstraint("batch_id", "sha256", name="uq_reconciliation_import_batch_sha256"),
        CheckConstraint("row_count >= 0", name="row_count_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payment_batch.id"), index=True)
    layout: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    batch: Mapped[PaymentBatch] = relationship()
    rows: Mapped[list["ReconciliationRow"]] = relationship(back_populates="import_",
                                                           order_by="ReconciliationRow.row_number")


class ReconciliationRow(db.Model):
    """One row of an imported file, its status, and (for a conflict) the finance officer's decision."""

    __tablename__ = "reconciliation_row"
    __table_args__ = (
        UniqueConstraint("import_id", "row_number", name="uq_reconciliation_row_import_row"),
        CheckConstraint(f"status IN ({_in(ROW_STATUSES)})", name="status"),
        CheckConstraint(f"resolution IN ({_in(RESOLUTIONS)})", name="resolution"),
        CheckConstraint("(status = 'matched') = (resolution = 'auto')", name="only_matched_is_auto"),
        CheckConstraint("status <> 'matched' OR disbursement_id IS NOT NULL", name="matched_has_line"),
        CheckConstraint("status <> 'amount_differs' OR difference IS NOT NULL", name="differs_has_difference"),
        CheckConstraint("resolution IN ('auto','pending') OR (decided_by IS NOT NULL AND decision_reason IS NOT NULL)",
                        name="decision_has_reason"),
        Index("ix_reconciliation_row_disbursement", "disbursement_id"),
        Index("ix_reconciliation_row_resolution", "resolution"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_import.id"))
    row_number: Mapped[int] = mapped_column(Integer)  # the sheet's / file's line number (header = 1)
    reference: Mapped[str | None] = mapped_column(String(40))  # DSB-… found in 用途
    purpose: Mapped[str] = mapped_column(String(500))
    payee_name: Mapped[str | None] = mapped_column(String(200))
    account: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)  # signed: a reversal is negative
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    difference: Mapped[Decimal | None] = mapped_column(Money)  # bank − approved, for amount_differs
    disbursement_id: Mapped[int | None] = mapped_column(ForeignKey("disbursement.id"))
    reversed_row_id: Mapped[int | None] = mapped_column(ForeignKey("reconciliation_row.id"))
    resolution: Mapped[str] = mapped_column(String(20), default="pending")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    import_: Mapped[ReconciliationImport] = relationship(back_populates="rows")
