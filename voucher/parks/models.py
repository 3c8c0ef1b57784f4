"""A park (小微企业园) run by an operator organisation, and an enterprise's membership of one.

Membership: ``pending`` when the enterprise names the park, ``confirmed`` or ``declined`` (with the
operator's reason) when the operator decides, ``left`` when the enterprise leaves or changes park.
At most one live membership (pending or confirmed) per enterprise: partial UNIQUE index."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.db import UTCDateTime, utcnow
from voucher.enterprises.models import Organisation
from voucher.extensions import db

MEMBERSHIP_STATES = ("pending", "confirmed", "declined", "left")
LIVE_STATES = ("pending", "confirmed")


class Park(db.Model):
    __tablename__ = "park"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    district: Mapped[str] = mapped_column(String(20), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    operator: Mapped[Organisation] = relationship()


class ParkMembership(db.Model):
    __tablename__ = "park_membership"
    __table_args__ = (
        CheckConstraint("status IN ('pending','confirmed','declined','left')", name="status"),
        CheckConstraint("status <> 'declined' OR decline_reason IS NOT NULL", name="declined_has_reason"),
        Index("uq_park_membership_live", "enterprise_id", unique=True,
              postgresql_where=text("status IN ('pending','confirmed')"),
              sqlite_where=text("status IN ('pending','confirmed')")),
        Index("ix_park_membership_park_status", "park_id", "status", "enterprise_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decline_reason: Mapped[str | None] = mapped_column(String(1000))
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    park: Mapped[Park] = relationship()
    enterprise: Mapped[Organisation] = relationship()
