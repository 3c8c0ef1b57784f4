"""What a web process does once, before its first request (``gunicorn.conf.py``'s ``post_worker_init``).

Left to the first requests, a fresh gunicorn worker's first login cost about 300 ms of CPU instead of
30 (SQLAlchemy configures every mapper on the first query) and its first start page 90 ms instead of
15 (Jinja compiles each template on first use): after a deploy or a worker restart the first users
waited behind that, and in the deadline rush the logins of its first seconds had a p95 of 450 ms.
Each step is best-effort: a worker whose database is not up yet still starts (``/readyz`` says so).
"""
from __future__ import annotations

import logging
import time

from flask import Flask

log = logging.getLogger(__name__)


def warm_web_process(app: Flask) -> dict[str, float]:
    """Configure the ORM mappers, compile every template, load each language's catalogue and open
    one pooled database connection; returns the milliseconds each step took (for the log)."""
    timings: dict[str, float] = {}

    def step(name: str, fn) -> None:
        start = time.perf_counter()
        try:
            fn()
        except Exception:  # noqa: BLE001 - warming must never stop a worker from serving
            log.warning("warm-up step %s failed; the first request will pay for it", name, exc_info=True)
        timings[name] = round((time.perf_counter() - start) * 1000, 1)

    step("mappers", _configure_mappers)
    step("templates", lambda: _compile_templates(app))
    step("translations", lambda: _load_translations(app))
    step("database", lambda: _connect(app))
    log.info("web process warmed up: %s", timings)
    return timings


def _configure_mappers() -> None:
    from sqlalchemy.orm import configure_mappers

    configure_mappers()


def _compile_templates(app: Flask) -> None:
    env = app.jinja_env
    for name in env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt"))):
        env.get_template(name)


def _load_translations(app: Flask) -> None:
    from flask_babel import force_locale, get_translations

    with app.test_request_context():
        for locale in app.config["LANGUAGES"]:
            with force_locale(locale):
                get_translations()


def _connect(app: Flask) -> None:
    from voucher.extensions import db

    with app.app_context():
        with db.engine.connect():
            pass
