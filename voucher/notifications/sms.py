"""SMS copies of in-app notifications, through a pluggable backend, after the commit.

A user who chose SMS on their account page (``NotificationPreference.sms`` with a ``phone``) gets
each of their notifications as a text message.  As with e-mail (``voucher.notifications.mail``),
``notify_users`` hands the new notification ids to :func:`sms_after_commit`, which gathers them
with the one after-commit mechanism (``voucher.tasks.collect_after_commit``); at the commit one RQ
job (:func:`send_notification_sms`) is enqueued — a rolled-back request texts nobody and the request
never waits for the provider.  The job writes each text in the recipient's language.

Backends (setting ``SMS_BACKEND``):

* ``"console"`` (the default): writes each message to the log (``voucher.sms``), sends nothing;
* ``"http"``: :class:`HttpSmsBackend`, an adapter for a provider's HTTP API: one JSON POST per
  message to ``SMS_HTTP_URL`` with ``SMS_HTTP_TOKEN`` as a bearer token, ``SMS_SIGN`` (the
  registered signature, e.g. 【温州经信局】) and ``SMS_TEMPLATE_ID`` when the provider wants them,
  ``SMS_TIMEOUT`` seconds (10).  Adapt :meth:`HttpSmsBackend.payload` to the provider's field names;
* ``"package.module:Class"``: any class with ``send(phone, text)`` (:class:`SmsBackend`), built
  with the app's config;
* ``"off"``: no SMS at all.
"""
from __future__ import annotations

import importlib
import json
import logging
import urllib.request
from collections import deque
from typing import Protocol

from flask import current_app, has_app_context
from sqlalchemy import select

from voucher.notifications.models import Notification, NotificationPreference

log = logging.getLogger("voucher.sms")
_PENDING = "voucher.notifications.sms_pending"
SMS_MAX_CHARS = 300  # long texts are cut (providers split at 70 characters and bill per part)


class SmsBackend(Protocol):
    """What a backend does: send one text to one mainland mobile number, or raise."""

    def send(self, phone: str, text: str) -> None: ...


class ConsoleSmsBackend:
    """Logs the message instead of sending it (development, tests, a site without a provider)."""

    def __init__(self, config=None) -> None:
        self.sent: deque[tuple[str, str]] = deque(maxlen=100)  # the latest, for a look in a shell or a test

    def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))
        log.info("SMS to %s: %s", phone, text)


class HttpSmsBackend:
    """An adapter for a provider's HTTP API (JSON POST, bearer token).  Subclass and override
    :meth:`payload` / :meth:`headers` when the provider names its fields otherwise."""

    def __init__(self, config) -> None:
        self.url = config.get("SMS_HTTP_URL")
        if not self.url:
            raise RuntimeError("SMS_BACKEND is 'http' but SMS_HTTP_URL is not set")
        self.token = config.get("SMS_HTTP_TOKEN") or ""
        self.sign = config.get("SMS_SIGN") or ""
        self.template_id = config.get("SMS_TEMPLATE_ID")
        self.timeout = float(config.get("SMS_TIMEOUT", 10))

    def payload(self, phone: str, text: str) -> dict:
        body = {"phone": phone, "sign": self.sign, "text": text}
        if self.template_id:
            body["template_id"] = self.template_id
        return body

    def headers(self) -> dict:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def send(self, phone: str, text: str) -> None:
        request = urllib.request.Request(self.url, data=json.dumps(self.payload(phone, text)).encode("utf-8"),
                                         headers=self.headers(), method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
            if response.status >= 300:
                raise RuntimeError(f"SMS provider answered {response.status}")


def backend() -> SmsBackend | None:
    """The configured backend (None when SMS is off)."""
    name = current_app.config.get("SMS_BACKEND") or "console"
    if name == "off":
        return None
    if name == "console":
        return current_app.extensions.setdefault("voucher_console_sms", ConsoleSmsBackend())
    if name == "http":
        return HttpSmsBackend(current_app.config)
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)(current_app.config)


def sms_enabled() -> bool:
    return has_app_context() and (current_app.config.get("SMS_BACKEND") or "console") != "off"


def sms_after_commit(notification_ids) -> None:
    """Text these (just flushed) notifications to users who chose SMS, once the transaction commits."""
    if not sms_enabled() or not notification_ids:
        return
    from voucher.tasks import collect_after_commit

    collect_after_commit(_PENDING, notification_ids, _enqueue_collected)


def _enqueue_collected(ids: list[int]) -> None:
    if ids and sms_enabled():
        enqueue(sorted(set(ids)))


def enqueue(ids: list[int]) -> None:
    """One SMS job for these notifications on the default queue (best effort, as for mail)."""
    from voucher.tasks import queue

    try:
        queue("voucher-default").enqueue(send_notification_sms, ids, result_ttl=600, failure_ttl=7 * 24 * 3600,
                                         description=f"sms {len(ids)} notification(s)")
    except Exception:  # pragma: no cover - depends on Redis being down
        log.exception("could not enqueue the SMS of notifications %s", ids)


def text_of(notification: Notification, locale: str) -> str:
    from flask_babel import force_locale

    with force_locale(locale):
        body = notification.text()
    return body if len(body) <= SMS_MAX_CHARS else body[:SMS_MAX_CHARS - 1] + "…"


def send_notification_sms(notification_ids: list[int]) -> int:
    """The RQ job: text each notification to its user when they chose SMS and gave a number
    (active users only).  Returns the number sent; a failing send is logged and the others go on."""
    from voucher.auth.models import User
    from voucher.extensions import db

    sender = backend()
    if sender is None:
        return 0
    rows = db.session.execute(
        select(Notification, User, NotificationPreference)
        .join(User, User.id == Notification.user_id)
        .join(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(Notification.id.in_(list(notification_ids)), User.active.is_(True),
               NotificationPreference.sms.is_(True), NotificationPreference.phone.is_not(None))
        .order_by(Notification.id)).all()
    default_locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    sent = 0
    for notification, user, pref in rows:
        locale = user.locale if user.locale in current_app.config["LANGUAGES"] else default_locale
        try:
            sender.send(pref.phone, text_of(notification, locale))
            sent += 1
        except Exception:
            log.exception("SMS of notification %s to user %s failed", notification.id, user.id)
    return sent
