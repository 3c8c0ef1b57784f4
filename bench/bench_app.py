"""The WSGI app ``bench/pages_bench.py`` serves with gunicorn: the real app plus, only because
``BENCH_PAGES`` is set here, a bare 50-row Jinja + SQLAlchemy page (``/__bench/bare``) that the
pages are compared with.  Production never imports this module, so the bare page never exists there.

Configured from the environment: ``VOUCHER_BENCH_DB`` (SQLAlchemy URI)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

# Appended, not prepended: the bench puts the checkout to serve (``--code``) first on PYTHONPATH.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from flask import Blueprint, render_template_string  # noqa: E402
from sqlalchemy import select  # noqa: E402

from voucher import create_app  # noqa: E402

BARE = """<!doctype html><html><body><table>{% for id, title, price in rows %}
<tr><td>{{ id }}</td><td>{{ title }}</td><td>{{ price }}</td></tr>{% endfor %}</table></body></html>"""


def bench_blueprint() -> Blueprint:
    bp = Blueprint("bench_bare", __name__, url_prefix="/__bench")

    @bp.get("/bare")
    def bare():
        from voucher.catalogue.models import Solution
        from voucher.extensions import db

        rows = db.session.execute(select(Solution.id, Solution.title, Solution.trial_price)
                                  .order_by(Solution.id).limit(50)).all()
        return render_template_string(BARE, rows=rows)

    @bp.get("/where")
    def where():
        import voucher

        return str(Path(voucher.__file__).parent)

    return bp


def config(uri: str, storage: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": uri, "STORAGE_DIR": storage, "RATELIMIT_STORAGE_URI": "memory://",
            "ENV_NAME": "development", "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT": "100000 per minute",
            "SECRET_KEY": "bench-only-secret-not-for-production", "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1, "BENCH_PAGES": True,
            # Production has Redis: the start pages keep their figures there (voucher.figures_cache).
            # VOUCHER_BENCH_REDIS="" measures without it; VOUCHER_START_PAGE_CACHE_SECONDS=0 without the cache.
            "REDIS_URL": os.environ.get("VOUCHER_BENCH_REDIS", "redis://127.0.0.1:6379/3") or None}


def make_app():
    app = create_app(config(os.environ["VOUCHER_BENCH_DB"], os.environ.get("VOUCHER_BENCH_STORAGE", "/tmp")))
    if app.config.get("BENCH_PAGES"):
        app.register_blueprint(bench_blueprint())
    return app


if os.environ.get("VOUCHER_BENCH_DB"):
    app = make_app()
