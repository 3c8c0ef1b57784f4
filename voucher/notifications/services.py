"""In-app notifications for steps that wait on someone."""
from __future__ import annotations

from sqlalchemy import select, update

from voucher.audit.services import jsonable
from voucher.auth.models import User
from voucher.db import utcnow
from voucher.errors import Forbidden, NotFound
from voucher.extensions import db
from voucher.notifications.models import DEFAULT_PREFERENCE, Notification, NotificationPreference


def preferences_of(user_ids) -> dict[int, dict]:
    """Each user's notification preferences (the defaults for a user who never changed them)."""
    ids = list(set(user_ids))
    found = {p.user_id: p for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id.in_(ids)))} if ids else {}
    return {uid: ({"in_app": found[uid].in_app, "email": found[uid].email, "sms": found[uid].sms,
                   "phone": found[uid].phone} if uid in found else dict(DEFAULT_PREFERENCE)) for uid in ids}


def notify_users(user_ids, message: str, link: str | None = None, **params) -> int:
    """Queue ``message`` (an English template with %(name)s params) for each user id, as each user
    chose: in the application (off: kept, but arrives read), an e-mail copy and an SMS copy, both
    sent after the commit (``voucher.notifications.mail``, ``voucher.notifications.sms``)."""
    from voucher.notifications.mail import mail_after_commit
    from voucher.notifications.sms import sms_after_commit

    prefs = preferences_of(user_ids)
    now = utcnow()
    added = [Notification(user_id=uid, message=message, params=jsonable(params), link=link,
                          read_at=None if prefs[uid]["in_app"] else now) for uid in prefs]
    db.session.add_all(added)
    db.session.flush()
    mail_after_commit([n.id for n in added if prefs[n.user_id]["email"]])  # when mail is on
    sms_after_commit([n.id for n in added if prefs[n.user_id]["sms"] and prefs[n.user_id]["phone"]])
    return len(added)


def notify_organisation(organisation_id: int, message: str, link: str | None = None, **params) -> int:
    """Notify every active user of an organisation (e.g. all staff of an enterprise)."""
    ids = db.session.scalars(select(User.id).where(User.organisation_id == organisation_id, User.active.is_(True)))
    return notify_users(list(ids), message, link, **params)


def notify_role(role: str, message: str, link: str | None = None, **params) -> int:
    ids = db.session.scalars(select(User.id).where(User.role == role, User.active.is_(True)))
    return notify_users(list(ids), message, link, **params)


def mark_read(user_id: int, notification_id: int | None = None) -> None:
    """Mark one (or, with None, all) of the user's notifications read; another's is refused."""
    if notification_id is not None:
        n = db.session.get(Notification, notification_id)
        if n is None:
            raise NotFound("No such notification.")
        if n.user_id != user_id:
            raise Forbidden("This notification is not yours.")
        n.read_at = n.read_at or utcnow()
        return
    db.session.execute(update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
                       .values(read_at=utcnow()))


def save_preferences(user_id: int, *, in_app: bool, email: bool, sms: bool, phone: str | None) -> NotificationPreference:
    """Rule: SMS needs an 11-digit mainland mobile number (1 then 3-9, then nine digits); the number
    is kept as typed without spaces or dashes.  A user changes only their own preferences (the view
    passes the logged-in user)."""
    import re

    from voucher.errors import ValidationFailed
    from voucher.identifiers import normalise_identifier

    number = normalise_identifier(phone).replace("-", "").removeprefix("+86") or None
    if number is not None and not re.fullmatch(r"1[3-9]\d{9}", number):
        raise ValidationFailed("Enter an 11-digit mainland mobile number, e.g. 13800138000.", field="phone")
    if sms and number is None:
        raise ValidationFailed("Enter the mobile number the text messages should go to.", field="phone")
    pref = db.session.get(NotificationPreference, user_id)
    if pref is None:
        pref = NotificationPreference(user_id=user_id)
        db.session.add(pref)
    pref.in_app, pref.email, pref.sms, pref.phone = bool(in_app), bool(email), bool(sms), number
    db.session.flush()
    return pref
