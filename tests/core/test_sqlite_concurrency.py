"""The embedded SQLite database under concurrent writers (issue 14): ``make run`` answered 500
"database is locked" when logins, writes and the worker wrote at once.

A request reads, then writes (a login reads the account, then sets ``last_login_at``).  In a
deferred transaction the write must upgrade a read snapshot, and when another connection has
committed meanwhile SQLite refuses at once, whatever the busy timeout; transactions that begin
IMMEDIATE queue for the write lock instead.  Real commits on a real file, so a separate app."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from tests.conftest import ON_POSTGRES
from voucher import create_app
from voucher.config import TestConfig
from voucher.extensions import db

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's own locking")

WRITERS = 12


@pytest.fixture()
def sqlite_app(tmp_path):
    application = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'concurrency.db'}",
                              "STORAGE_DIR": str(tmp_path / "storage"), "REDIS_URL": None})
    with application.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)"))
            conn.execute(text("CREATE TABLE entry (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, seen INTEGER)"))
            conn.execute(text("INSERT INTO counter (id, value) VALUES (1, 0)"))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_embedded_database_is_configured_for_concurrent_use(sqlite_app):
    with sqlite_app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_twelve_writers_that_read_first_all_commit_and_none_is_lost(sqlite_app):
    barrier = threading.Barrier(WRITERS)
    errors: list[str] = []

    def writer(n: int) -> None:
        with sqlite_app.app_context():
            try:
                barrier.wait(timeout=30)
                seen = db.session.execute(text("SELECT value FROM counter WHERE id = 1")).scalar_one()
                time.sleep(0.05)  # the request's work between its read and its write: they overlap
                db.session.execute(text("UPDATE counter SET value = :v WHERE id = 1"), {"v": seen + 1})
                db.session.execute(text("INSERT INTO entry (writer, seen) VALUES (:n, :s)"), {"n": n, "s": seen})
                db.session.commit()
            except Exception as exc:  # noqa: BLE001  (every failure is reported by the assertion)
                errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    with sqlite_app.app_context():
        # Serialised, each writer saw the one before it: no lost update, every insert present.
        assert db.session.execute(text("SELECT value FROM counter")).scalar_one() == WRITERS
        assert sorted(db.session.execute(text("SELECT writer FROM entry")).scalars()) == list(range(WRITERS))
        assert sorted(db.session.execute(text("SELECT seen FROM entry")).scalars()) == list(range(WRITERS))
        db.session.remove()


def test_a_database_locked_beyond_the_busy_timeout_answers_503_not_500(tmp_path):
    path = tmp_path / "busy.db"
    application = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SQLITE_BUSY_TIMEOUT_SECONDS": 0.2,
                              "STORAGE_DIR": str(tmp_path / "storage"), "REDIS_URL": None})
    with application.app_context():
        db.create_all()
        db.session.remove()
    import sqlite3

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing for longer than the timeout
    try:
        client = application.test_client()
        response = client.get("/catalogue/")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert "数据库繁忙或正在重启" in response.get_data(as_text=True)
    finally:
        holder.rollback()
        holder.close()
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
    assert application.test_client().get("/catalogue/").status_code == 200
