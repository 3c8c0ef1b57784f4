from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.db import UTCDateTime, utcnow
from voucher.extensions import db

FIRST_YEAR, LAST_YEAR = 2000, 2100


class CalendarYear(db.Model):
    """One year's arrangement as the State Council's notice gives it, entered by an officer.

    Replacing an entry keeps the row (``revision`` counts the versions); the days are replaced,
    and the audit trail holds every earlier version."""

    __tablename__ = "calendar_year"
    __table_args__ = (
        CheckConstraint(f"year BETWEEN {FIRST_YEAR} AND {LAST_YEAR}", name="year_range"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The notice it was taken from (e.g. 国办发明电〔2026〕7号).
    reference: Mapped[str] = mapped_column(String(200))
    entered_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    enterer = relationship("User")
    days: Mapped[list["CalendarDay"]] = relationship(back_populates="calendar_year", cascade="all, delete-orphan",
                                                     order_by="CalendarDay.day")


class CalendarDay(db.Model):
    """A day that differs from the plain week: a day off (``working`` false) or an adjusted working
    Saturday or Sunday (``working`` true)."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_year.year", ondelete="CASCADE"), index=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(60), default="")

    calendar_year: Mapped[CalendarYear] = relationship(back_populates="days")
