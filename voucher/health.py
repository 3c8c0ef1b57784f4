"""Health probes for a load balancer or an orchestrator: ``GET /healthz`` and ``GET /readyz``.

* ``/healthz`` — liveness: the process answers (200); nothing else is touched, not even the database.
* ``/readyz`` — readiness: the database, Redis and the document store each answer (200), else 503
  naming the one(s) that failed, as JSON.

They are answered in front of the Flask application (a WSGI middleware), so a probe never opens a
session or sets its cookie, never loads a user or asks for a login, is never rate limited or
CSRF-checked, and writes nothing.  Failures are logged with their detail; the public answer names only
the dependency and the error's class.
"""
from __future__ import annotations

import json
import logging
import time

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
PROBE_TIMEOUT_SECONDS = 3


def check_database() -> None:
    """``SELECT 1`` through the app's session (a connection from its pool, pre-pinged)."""
    from sqlalchemy import text

    from voucher.extensions import db

    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()


def check_redis(url: str) -> None:
    from redis import Redis

    client = Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT_SECONDS, socket_timeout=PROBE_TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()


def check_storage() -> None:
    from voucher.storage import backend

    backend().check()


def readiness(app) -> tuple[bool, dict]:
    """Each dependency checked in turn: ``{"database": "ok", "redis": "ok", "storage": "ok"}``, or a
    failed one's ``"error: <class>"``.  Redis is ``"not configured"`` where the app runs without one
    (jobs run in the request then)."""
    checks: dict[str, str] = {}
    redis_url = app.config.get("REDIS_URL")
    probes = (("database", check_database),
              ("redis", (lambda: check_redis(redis_url)) if redis_url else None),
              ("storage", check_storage))
    with app.app_context():
        for name, probe in probes:
            if probe is None:
                checks[name] = "not configured"
                continue
            started = time.monotonic()
            try:
                probe()
            except Exception as exc:  # any failure means "not ready": say which, log why
                log.warning("readiness: %s failed after %.1f s: %r", name, time.monotonic() - started, exc)
                checks[name] = f"error: {type(exc).__name__}"
            else:
                checks[name] = "ok"
    ok = all(v in ("ok", "not configured") for v in checks.values())
    return ok, checks


class HealthProbes:
    """WSGI middleware answering the two probe paths; everything else goes to the application."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or ""
        if path not in (HEALTH_PATH, READY_PATH):
            return self.wsgi_app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return self._answer(start_response, "405 Method Not Allowed", {"error": "method not allowed"},
                                method, [("Allow", "GET, HEAD")])
        if path == HEALTH_PATH:
            return self._answer(start_response, "200 OK", {"status": "ok"}, method)
        ok, checks = readiness(self.app)
        if ok:
            return self._answer(start_response, "200 OK", {"status": "ready", "checks": checks}, method)
        failed = [name for name, v in checks.items() if v not in ("ok", "not configured")]
        return self._answer(start_response, "503 Service Unavailable",
                            {"status": "unavailable", "failed": failed, "checks": checks}, method)

    @staticmethod
    def _answer(start_response, status: str, body: dict, method: str, extra=()):
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                                ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"), *extra])
        return [b""] if method == "HEAD" else [data]


def install(app) -> None:
    app.wsgi_app = HealthProbes(app, app.wsgi_app)
