"""E-mail copies of in-app notifications, through SMTP, when a mail server is configured.

Off by default (``MAIL_SERVER = None``).  When set, every :class:`Notification` written in a
transaction is mailed to its user **after the transaction commits**: ``notify_users`` hands the
new ids to :func:`mail_after_commit`, which gathers them with the one after-commit mechanism
(``voucher.tasks.collect_after_commit``); at the commit one RQ job
(:func:`send_notification_mails`) is enqueued on the default queue — a rolled-back request mails nothing and
the request never waits for the mail server.  The job writes each message in the recipient's
language (their account's locale, Simplified Chinese by default).

Settings (``VOUCHER_<NAME>`` environment variables): ``MAIL_SERVER``, ``MAIL_PORT`` (25),
``MAIL_USE_TLS`` (STARTTLS, off), ``MAIL_USE_SSL`` (SMTPS, off), ``MAIL_USERNAME``,
``MAIL_PASSWORD``, ``MAIL_SENDER`` (the From address), ``MAIL_TIMEOUT`` (seconds, 10) and
``PUBLIC_BASE_URL`` (for the link in the message).
"""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app, has_app_context
from sqlalchemy import or_, select

from voucher.config import public_url
from voucher.notifications.models import Notification, NotificationPreference

log = logging.getLogger(__name__)
_PENDING = "voucher.notifications.mail_pending"
SITE_NAME = "SME Digital Vouchers"


def mail_enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("MAIL_SERVER"))


def mail_after_commit(notification_ids) -> None:
    """Mail these (just flushed) notifications once the transaction commits, when mail is on."""
    if not mail_enabled():
        return
    from voucher.tasks import collect_after_commit

    collect_after_commit(_PENDING, notification_ids, _enqueue_collected)


def _enqueue_collected(ids: list[int]) -> None:
    if ids and mail_enabled():
        enqueue(sorted(set(ids)))


def enqueue(ids: list[int]) -> None:
    """Put one mail job for these notifications on the default queue (best effort: a queue that
    cannot be reached is logged; the notifications stay in the application)."""
    from voucher.tasks import queue

    try:
        queue("voucher-default").enqueue(send_notification_mails, ids, result_ttl=600, failure_ttl=7 * 24 * 3600,
                                         description=f"mail {len(ids)} notification(s)")
    except Exception:  # pragma: no cover - depends on Redis being down
        log.exception("could not enqueue the e-mails of notifications %s", ids)


def _text(notification: Notification, locale: str) -> tuple[str, str]:
    from flask_babel import force_locale, gettext

    with force_locale(locale):
        body = notification.text()
        subject = gettext("[%(site)s] %(message)s", site=gettext(SITE_NAME),
                          message=body if len(body) <= 60 else body[:58] + "…")
        lines = [body, ""]
        if notification.link:
            lines.append(gettext("Open: %(url)s", url=public_url(notification.link)))
        lines += ["", gettext("This message is a copy of a notification in the SME digital voucher system; "
                              "you do not need to reply.")]
    return subject, "\n".join(lines)


def build_message(notification: Notification, to_address: str, to_name: str, locale: str) -> EmailMessage:
    subject, body = _text(notification, locale)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = current_app.config.get("MAIL_SENDER") or "noreply@localhost"
    msg["To"] = formataddr((to_name, to_address))
    msg["Message-ID"] = make_msgid(domain="voucher")
    msg.set_content(body)
    return msg


def _connect() -> smtplib.SMTP:
    cfg = current_app.config
    host, timeout = cfg["MAIL_SERVER"], float(cfg.get("MAIL_TIMEOUT", 10))
    if cfg.get("MAIL_USE_SSL"):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, int(cfg.get("MAIL_PORT") or 465), timeout=timeout)
    else:
        smtp = smtplib.SMTP(host, int(cfg.get("MAIL_PORT") or 25), timeout=timeout)
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
    if cfg.get("MAIL_USERNAME"):
        smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
    return smtp


def send_notification_mails(notification_ids: list[int]) -> int:
    """The RQ job: mail each notification to its user (active users with an address); one SMTP
    connection for the batch.  Returns the number of messages sent.  A refused recipient is
    logged and the others are still sent; a server that cannot be reached fails the job (RQ keeps
    it in the failed registry for a retry)."""
    from voucher.auth.models import User
    from voucher.extensions import db

    if not current_app.config.get("MAIL_SERVER"):
        return 0
    rows = db.session.execute(select(Notification, User).join(User, User.id == Notification.user_id)
                              .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
                              .where(Notification.id.in_(list(notification_ids)), User.active.is_(True),
                                     # the user's choice when the job runs (no row: e-mail on)
                                     or_(NotificationPreference.email.is_(None), NotificationPreference.email.is_(True)))
                              .order_by(Notification.id)).all()
    if not rows:
        return 0
    default_locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    sent = 0
    smtp = _connect()
    try:
        for notification, user in rows:
            if not user.email:
                continue
            locale = user.locale if user.locale in current_app.config["LANGUAGES"] else default_locale
            try:
                smtp.send_message(build_message(notification, user.email, user.name, locale))
                sent += 1
            except smtplib.SMTPRecipientsRefused:
                log.warning("mail server refused %s for notification %s", user.email, notification.id)
    finally:
        try:
            smtp.quit()
        except smtplib.SMTPException:  # pragma: no cover
            pass
    return sent
