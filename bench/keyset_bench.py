"""Deep pages of the audit trail: OFFSET + COUNT(*) against keyset (cursor) + capped count (issue 15 §2).

Fills ``audit_event`` with ``--rows`` synthetic events (raw INSERTs: the chain is not verified
here) in a fresh database, then times page 1, a middle page and the last page both ways, with and
without an ``object_type`` filter.  Prints figures, asserts nothing.

    .venv/bin/python bench/keyset_bench.py [--rows 100000] [--dsn postgresql+psycopg://postgres@127.0.0.1:5432/voucher_bench_keyset]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--per-page", type=int, default=40)
    parser.add_argument("--dsn", help="PostgreSQL SQLAlchemy URI (its tables are dropped and refilled)")
    args = parser.parse_args()
    uri = args.dsn or f"sqlite:///{Path(tempfile.mkdtemp()) / 'keyset.db'}"
    from voucher import create_app
    from voucher.audit import queries
    from voucher.extensions import db
    from voucher.pagination import encode_cursor

    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "TESTING": True, "SECRET_KEY": "k" * 40})
    with app.app_context(), app.test_request_context():
        db.drop_all()
        db.create_all()
        rows = [{"occurred_at": None, "actor_label": "bench", "actor_role": "system",
                 "action": ("application.submitted", "payment.paid", "user.login")[i % 3],
                 "object_type": ("application", "payment", "user", "robot")[i % 4], "object_id": str(i % 5000),
                 "prev_hash": f"{i:064d}", "hash": f"{i + 1:064d}"} for i in range(args.rows)]
        from voucher.db import utcnow

        now = utcnow()
        for r in rows:
            r["occurred_at"] = now
        from voucher.audit.models import AuditEvent

        for start in range(0, len(rows), 10_000):
            db.session.execute(db.insert(AuditEvent), rows[start:start + 10_000])
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        per = args.per_page
        print(f"{args.rows:,} audit events, {'PostgreSQL' if args.dsn else 'SQLite'}, {per} per page")
        print(f"{'list':22} {'page':>6} {'OFFSET+COUNT ms':>16} {'keyset ms':>10}")
        for label, filters in (("all", {}), ("object_type=payment", {"object_type": "payment"})):
            f = {"object_type": None, "object_id": None, "action": None, **filters}
            total = queries.events_page(**f, page=1, per_page=1).total
            last = max(1, -(-total // per))
            for page in (1, last // 2, last):
                t0 = time.perf_counter()
                offset_page = queries.events_page(**f, page=page, per_page=per)
                t1 = time.perf_counter()
                # The cursor a reader would hold: the row just above this page.
                above = None if page == 1 else queries.events_page(**f, page=(page - 1) * per, per_page=1).items[0].id
                cursor = encode_cursor("audit", "next", [above]) if above else None
                t2 = time.perf_counter()
                seek = queries.events_seek(**f, cursor=cursor, per_page=per)
                t3 = time.perf_counter()
                assert [e.id for e in seek.items] == [e.id for e in offset_page.items]
                print(f"{label:22} {page:6d} {(t1 - t0) * 1000:16.1f} {(t3 - t2) * 1000:10.1f}")
                db.session.rollback()


if __name__ == "__main__":
    main()
