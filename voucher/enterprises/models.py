from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.db import Money, UTCDateTime, utcnow
from voucher.extensions import db

ORG_KINDS = ("enterprise", "provider", "evaluation", "bureau", "park")
SIZE_CLASS_CODES = ("micro", "small", "medium", "large")


class Organisation(db.Model):
    """Any body users belong to: an enterprise, a provider, the evaluation institution, the bureau, a park's
    operator (园区运营方)."""

    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint("kind IN ('enterprise','provider','evaluation','bureau','park')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Unified social credit code, compact upper-case form; unique where present.
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(String(4000))
    bank_name: Mapped[str | None] = mapped_column(String(200))
    bank_account: Mapped[str | None] = mapped_column(String(64))
    # Bank code (联行号, CNAPS): 12 digits; optional, but the bank file needs it.
    bank_code: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enterprise: Mapped["Enterprise | None"] = relationship(back_populates="organisation", uselist=False)


class Enterprise(db.Model):
    """The SME profile of an enterprise organisation; the size class is derived by ``calc``."""

    __tablename__ = "enterprise"
    __table_args__ = (
        CheckConstraint("employees >= 0", name="employees_non_negative"),
        CheckConstraint("annual_revenue >= 0", name="revenue_non_negative"),
        CheckConstraint("size_class IN ('micro','small','medium','large')", name="size_class"),
    )

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    district: Mapped[str] = mapped_column(String(20), index=True)
    industry: Mapped[str] = mapped_column(String(40), index=True)
    employees: Mapped[int]
    annual_revenue: Mapped[Decimal] = mapped_column(Money)
    size_class: Mapped[str] = mapped_column(String(10))
    industrial_park: Mapped[str | None] = mapped_column(String(200))

    organisation: Mapped[Organisation] = relationship(back_populates="enterprise")

    @property
    def is_sme(self) -> bool:
        return self.size_class != "large"
