"""A gunicorn worker warms up before its first request (``voucher.warmup`` through
``gunicorn.conf.py``'s ``post_worker_init``): every template compiled, each language's catalogue
loaded, the ORM configured, a database connection pooled; a database that is down does not stop it."""
from __future__ import annotations

import logging
import runpy
import sys
import types
from pathlib import Path

from voucher import create_app
from voucher.config import TestConfig
from voucher.extensions import db
from voucher.warmup import warm_web_process

ROOT = Path(__file__).resolve().parents[2]


def _app(tmp_path, database_url: str | None = None):
    return create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                       "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{tmp_path / 'warm.db'}",
                       "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}} if database_url else {},
                       "STORAGE_DIR": str(tmp_path / "storage"), "REDIS_URL": None})


def _compiled(app) -> set[str]:
    return {key[1] for key in app.jinja_env.cache.keys()}


def test_warm_up_compiles_every_page_template_and_loads_both_catalogues(tmp_path):
    app = _app(tmp_path)
    pages = set(app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html")))
    assert len(pages) > 100 and not pages & _compiled(app)
    try:
        timings = warm_web_process(app)
        assert set(timings) == {"mappers", "templates", "translations", "database"}
        assert pages <= _compiled(app)
        babel_cache = app.extensions["babel"].instance.domain_instance.cache
        assert {locale for locale, _domain in babel_cache} >= {"zh_Hans_CN", "en"}, babel_cache
        # A page served after it renders as usual, in Chinese by default.
        assert "登录" in app.test_client().get("/login").get_data(as_text=True)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_database_that_is_down_does_not_stop_the_warm_up(tmp_path, caplog, monkeypatch):
    app = _app(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:1/voucher_down")
    try:
        # The handler on the module's own logger, enabled: a migration test's alembic fileConfig disables
        # the loggers that exist when it runs, and another test's app may stop "voucher" propagating.
        logger = logging.getLogger("voucher.warmup")
        monkeypatch.setattr(logger, "disabled", False)
        logger.addHandler(caplog.handler)
        try:
            with caplog.at_level(logging.WARNING, logger="voucher.warmup"):
                timings = warm_web_process(app)
        finally:
            logger.removeHandler(caplog.handler)
        assert set(timings) == {"mappers", "templates", "translations", "database"}
        assert any("database" in r.getMessage() for r in caplog.records)
        assert "login.html" in " ".join(_compiled(app))  # the steps before it ran
    finally:
        with app.app_context():
            db.engine.dispose()


def test_gunicorn_settings_warm_the_worker_app_or_the_wsgi_module_app(tmp_path, monkeypatch):
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    warmed = []
    monkeypatch.setattr("voucher.warmup.warm_web_process", warmed.append)
    app = _app(tmp_path)
    settings["post_worker_init"](types.SimpleNamespace(wsgi=app))
    assert warmed == [app]

    # bench/rush_app.py serves a plain function around ``wsgi.app``: the hook finds the app there.
    monkeypatch.setitem(sys.modules, "wsgi", types.SimpleNamespace(app=app))
    settings["post_worker_init"](types.SimpleNamespace(wsgi=lambda environ, start_response: None))
    assert warmed == [app, app]
    with app.app_context():
        db.engine.dispose()
