from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from voucher.db import UTCDateTime, utcnow
from voucher.extensions import db


class Notification(db.Model):
    """An in-app message for one user about a step that waits on them."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    message: Mapped[str] = mapped_column(String(500))  # English template, translated when shown
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def text(self) -> str:
        """The message in the current language, as every channel shows it (page, e-mail, SMS).
        Rule: a notification about an application (``application_number`` in its params) names it
        by its number (受理编号): a message that does not say the number itself is prefixed with it."""
        from flask_babel import gettext

        params = self.params or {}
        try:
            body = gettext(self.message, **params)
        except (KeyError, TypeError, ValueError):
            body = gettext(self.message)
        number = params.get("application_number")
        if number and number not in body:
            body = gettext("[%(number)s] %(message)s", number=number, message=body)
        return body


class NotificationPreference(db.Model):
    """How a user wants to be told (a user without a row has the defaults): in the application
    (``in_app``; off: the message is kept but arrives read, with no unread badge), by e-mail (a copy
    when the site's mail is on) and by SMS (a copy to ``phone`` through the SMS backend)."""

    __tablename__ = "notification_preference"
    __table_args__ = (CheckConstraint("NOT sms OR phone IS NOT NULL", name="sms_needs_phone"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    sms: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(20))  # mainland mobile number, 11 digits
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


DEFAULT_PREFERENCE = {"in_app": True, "email": True, "sms": False, "phone": None}
