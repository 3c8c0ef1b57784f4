from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from voucher.db import Money, UTCDateTime, utcnow
from voucher.enterprises.models import Organisation
from voucher.extensions import db

SOLUTION_STATES = ("draft", "submitted", "screening", "listed", "rejected", "recommended", "delisted")
# States in which a solution is in the public catalogue (and may be picked for a trial).
PUBLIC_STATES = ("listed", "recommended")
RUBRIC = ("maturity", "references_score", "price_reasonableness", "service_capability", "data_security")


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
        # The public catalogue's sorts (by trial price, by newest) within the public states.
        Index("ix_solution_status_trial_price", "status", "trial_price", "id"),
        # The API's solution lists by cursor: a provider's own, and every solution, most recently changed first.
        Index("ix_solution_provider_updated", "provider_id", "updated_at", "id"),
        Index("ix_solution_updated", "updated_at", "id"),
        Index("ix_solution_status_listed_at", "status", "listed_at"),
        # The screening queue: submitted / in screening, oldest first.
        Index("ix_solution_status_submitted_at", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    # Kept in sync with the ``solution_industry`` rows (see ``_sync_industry_rows``; the rows serve the filter).
    target_industries: Mapped[list] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text)
    list_price: Mapped[Decimal] = mapped_column(Money)
    trial_price: Mapped[Decimal] = mapped_column(Money, index=True)
    trial_period_days: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When the provider last submitted it (the screening queue's order) and when it was last listed.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    provider: Mapped[Organisation] = relationship()
    industries: Mapped[list["SolutionIndustry"]] = relationship(cascade="all, delete-orphan",
                                                                 back_populates="solution")

    @validates("target_industries")
    def _sync_industry_rows(self, key, value):
        """Assigning ``target_industries`` (also in the constructor) keeps the ``solution_industry``
        rows the same set, whoever writes it.  Assign a new list; in-place edits are not seen."""
        codes = list(dict.fromkeys(value or []))
        have = {row.industry: row for row in self.industries}
        for code, row in have.items():
            if code not in codes:
                self.industries.remove(row)
        for code in codes:
            if code not in have:
                self.industries.append(SolutionIndustry(industry=code))
        return codes


class SolutionIndustry(db.Model):
    """One target industry of a solution: the portable form of ``Solution.target_industries``
    for the catalogue's industry filter (a JSON-contains query differs between SQLite and
    PostgreSQL).  Written only through ``Solution.target_industries`` (its validator)."""

    __tablename__ = "solution_industry"
    __table_args__ = (Index("ix_solution_industry_industry", "industry", "solution_id"),)

    solution_id: Mapped[int] = mapped_column(ForeignKey("solution.id", ondelete="CASCADE"), primary_key=True)
    industry: Mapped[str] = mapped_column(String(40), primary_key=True)

    solution: Mapped[Solution] = relationship(back_populates="industries")


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

    evaluator = relationship("User")

    @property
    def mean_score(self) -> Decimal:
        """The unweighted mean of the five rubric scores, to one decimal (for display)."""
        from voucher.calc import round_to

        return round_to(Decimal(sum(getattr(self, c) for c in RUBRIC)) / len(RUBRIC), 1)
