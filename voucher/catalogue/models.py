from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.db import Money, UTCDateTime, utcnow
from voucher.enterprises.models import Organisation
from voucher.extensions import db

SOLUTION_STATES = ("draft", "submitted", "screening", "listed", "rejected", "recommended", "delisted")


class Solution(db.Model):
    """A provider's digital solution offered for trials; listed after third-party screening."""

    __tablename__ = "solution"
    __table_args__ = (
        CheckConstraint("list_price >= 0", name="list_price_non_negative"),
        CheckConstraint("trial_price > 0", name="trial_price_positive"),
        CheckConstraint("trial_price <= list_price", name="trial_price_within_list_price"),
        CheckConstraint("trial_period_days > 0", name="trial_period_positive"),
        CheckConstraint("status IN ('draft','submitted','screening','listed','rejected','recommended','delisted')",
                        name="status"),
        Index("ix_solution_status_category", "status", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    target_industries: Mapped[list] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text)
    list_price: Mapped[Decimal] = mapped_column(Money)
    trial_price: Mapped[Decimal] = mapped_column(Money, index=True)
    trial_period_days: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    provider: Mapped[Organisation] = relationship()


class SolutionScreening(db.Model):
    """An evaluator's rubric and decision on a solution (one per screening round)."""

    __tablename__ = "solution_screening"
    __table_args__ = tuple(
        CheckConstraint(f"{c} >= 0 AND {c} <= 100", name=f"{c}_range")
        for c in ("maturity", "references_score", "price_reasonableness", "service_capability", "data_security")
    ) + (CheckConstraint("decision IN ('list','reject')", name="decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solution.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    maturity: Mapped[int]
    references_score: Mapped[int]
    price_reasonableness: Mapped[int]
    service_capability: Mapped[int]
    data_security: Mapped[int]
    decision: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
