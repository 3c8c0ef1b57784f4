"""Declarative base with a stable constraint naming convention, and the Money type.

The naming convention is set before the first migration so Alembic's constraint names
never change between SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import BigInteger, DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

FEN = Decimal("0.01")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


LIKE_ESCAPE = "\\"


def like_literal(text: str) -> str:
    """``text`` for a LIKE/ILIKE pattern, matched as typed: the wildcards ``%`` and ``_`` and the
    escape character (backslash) itself escaped.  Use with ``escape=LIKE_ESCAPE`` (an explicit
    ``ESCAPE '\\'``: SQLite has no default escape character, PostgreSQL's is the same backslash).
    A search box's text must go through this, or ``%`` and ``_`` match every row."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_text(column, text: str):
    """``column`` contains ``text`` literally, ignoring case (a search box): ILIKE '%text%' escaped."""
    return column.ilike(f"%{like_literal(text)}%", escape=LIKE_ESCAPE)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite drops the tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Money(TypeDecorator):
    """Yuan as ``Decimal`` in Python, integer fen in the database.

    SQLite stores ``Numeric`` as a float, so money is stored as a BigInteger count of fen:
    exact on every backend.  A value with more than two decimals is refused rather than
    silently rounded: rounding is a business rule and happens in ``voucher.calc``.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise ValueError(f"money must not be a float: {value!r}")
        try:
            d = Decimal(value) if not isinstance(value, Decimal) else value
        except (InvalidOperation, TypeError) as exc:
            raise ValueError(f"not a money amount: {value!r}") from exc
        if not d.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        fen = d * 100
        if fen != fen.to_integral_value():
            raise ValueError(f"more than two decimals: {value!r}")
        return int(fen)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(FEN, rounding=ROUND_HALF_UP)


class Percent(Money):
    """A percentage (or score) with at most two decimals, stored as integer hundredths."""

    cache_ok = True


# A transaction that mostly reads and takes long (a document job rendering its PDF) begins with
# ``db.session.connection(execution_options={DEFERRED_BEGIN: True})``: on SQLite it then begins
# DEFERRED and takes the write lock only if it writes, so other workers write meanwhile (see
# ``make_sqlite_transactional``; a write after another connection's commit fails at once with
# "database is locked", so use it only where such a failure is retried); elsewhere it does nothing.
DEFERRED_BEGIN = "voucher_deferred_begin"


def make_sqlite_transactional(engine) -> None:
    """Let SQLAlchemy, not pysqlite, start SQLite transactions.

    pysqlite emits BEGIN lazily before the first DML statement, never before a SAVEPOINT, so a
    ``begin_nested()`` that is the first write of a transaction commits for real when released.
    The documented SQLAlchemy recipe: turn off pysqlite's handling and emit BEGIN ourselves.
    WAL lets readers go on while one writer writes (make run has web and worker processes).

    Every transaction begins IMMEDIATE, taking the write lock at its start: a deferred transaction
    that reads and then writes while another connection has committed meanwhile cannot upgrade its
    read snapshot and fails at once with "database is locked" (the busy timeout does not help it).
    Taking the lock first makes concurrent writers queue for the busy timeout instead.  Read-only
    transactions queue too, but only behind the few milliseconds of a write.  A transaction begun
    with the ``DEFERRED_BEGIN`` execution option begins DEFERRED.
    """
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(DEFERRED_BEGIN) else "BEGIN IMMEDIATE")
