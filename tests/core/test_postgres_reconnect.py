"""A PostgreSQL connection the server closed (a restart, an idle connection killed) must not cost
the next request a 500: the pool checks a connection before handing it out (issue 14)."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, needs_postgres
from voucher import create_app
from voucher.config import TestConfig
from voucher.extensions import db


@needs_postgres
def test_a_request_after_the_server_killed_the_pools_connections_succeeds(app, tmp_path):
    # A separate app: its own pool of real connections (the session's app has the schema ready).
    other = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                        "SQLALCHEMY_DATABASE_URI": PG_URL, "STORAGE_DIR": str(tmp_path / "storage"),
                        "REDIS_URL": None})
    client = other.test_client()
    try:
        assert client.get("/catalogue/").status_code == 200  # leaves a connection in the pool
        killer = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with killer.connect() as conn:
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
        killer.dispose()
        assert killed >= 1

        assert client.get("/catalogue/").status_code == 200
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_request_while_the_database_server_is_down_answers_503(tmp_path):
    # Nothing listens on port 1: what a request meets while PostgreSQL restarts.
    down = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                       "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/voucher_down",
                       "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
                       "STORAGE_DIR": str(tmp_path / "storage"), "REDIS_URL": None})
    try:
        response = down.test_client().get("/catalogue/")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
    finally:
        with down.app_context():
            db.engine.dispose()
