"""Rate limits on everything that checks a password: login (page and API token), and the
re-authentications (password change, a disbursement decision with the password re-entered).

Each is limited twice: per account (``LOGIN_RATE_LIMIT`` / ``REAUTH_RATE_LIMIT``: password guessing
against one account) and per address (``LOGIN_ADDRESS_RATE_LIMIT`` / ``REAUTH_ADDRESS_RATE_LIMIT``,
sized for a park or an office whose enterprises share one address).  The counters live in the
limiter's storage, shared by every process: ``RATELIMIT_STORAGE_URI``, or else the app's Redis
(:func:`storage_uri`).
"""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from voucher.extensions import limiter


def storage_uri(config) -> str:
    """The limiter's storage: the configured URI, else the app's Redis (every process shares the
    counters: ``make run`` as in production), else (no Redis at all) per-process memory."""
    configured = config.get("RATELIMIT_STORAGE_URI")
    if configured:
        return configured
    redis_url = config.get("REDIS_URL")
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):  # the embedded Redis of make run: limits spells it redis+unix
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


def account_key() -> str:
    """The account a request acts for: the signed-in user, else the e-mail it posts."""
    if current_user and getattr(current_user, "is_authenticated", False):
        return f"account:{current_user.id}"
    email = request.form.get("email")
    if email is None:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return "account:" + str(email or "").strip().casefold()[:320]


def address_key() -> str:
    return "address:" + (get_remote_address() or "")


def _limited(account_setting: str, address_setting: str, methods: list[str] | None) -> Callable:
    def decorate(view):
        view = limiter.limit(lambda: current_app.config[account_setting], key_func=account_key, methods=methods)(view)
        return limiter.limit(lambda: current_app.config[address_setting], key_func=address_key, methods=methods)(view)
    return decorate


def login_limits(methods: list[str] | None = None) -> Callable:
    """Login: per account and per address."""
    return _limited("LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT", methods)


def reauth_limits(methods: list[str] | None = None) -> Callable:
    """A password re-entered while signed in: per account and per address."""
    return _limited("REAUTH_RATE_LIMIT", "REAUTH_ADDRESS_RATE_LIMIT", methods)
