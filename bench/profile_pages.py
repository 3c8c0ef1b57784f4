"""Where a page's time goes (issue 15): for each page of ``bench/pages_bench.py``, on its cached
dataset, one process with the Flask test client: the SQL statements per request, the median time
of ``--n`` requests, the share spent in SQL and in template rendering, and (``--top K``) the K
functions with the most cumulative time under cProfile.

    .venv/bin/python bench/profile_pages.py [--size 100000] [--n 20] [--pages review,SME] [--top 15] [--sql 5]

Needs the dataset ``bench/pages_bench.py`` builds (run it once)."""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.pages_bench import PAGES, PASSWORD, _uri  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100000)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--pages")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--dsn")
    parser.add_argument("--sql", type=int, default=0, help="print the K slowest statements of the last request")
    args = parser.parse_args()
    os.environ["VOUCHER_BENCH_DB"] = _uri(args.dsn, args.size)
    from flask import template_rendered  # noqa: F401
    from sqlalchemy import event

    from bench.bench_app import make_app
    from voucher.extensions import db

    app = make_app()
    sql = {"n": 0, "t": 0.0}
    with app.app_context():
        @event.listens_for(db.engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["t0"] = time.perf_counter()

        @event.listens_for(db.engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            sql["n"] += 1
            took = time.perf_counter() - conn.info.pop("t0", time.perf_counter())
            sql["t"] += took
            sql.setdefault("each", []).append((took * 1000, " ".join(statement.split())[:300]))

    import jinja2
    render = {"t": 0.0}
    original = jinja2.Template.render

    def timed(self, *a, **k):
        start = time.perf_counter()
        try:
            return original(self, *a, **k)
        finally:
            render["t"] += time.perf_counter() - start

    jinja2.Template.render = timed
    clients = {}
    for role in ("officer", "finance", "sme"):
        c = app.test_client()
        r = c.post("/login", data={"email": f"{role}@bench.example", "password": PASSWORD})
        assert r.status_code == 302, role
        clients[role] = (c, {})
    clients[None] = (app.test_client(), {})
    for key, role in (("api", "sme"), ("api_officer", "officer")):
        c = app.test_client()
        token = c.post("/api/v1/auth/token", json={"email": f"{role}@bench.example", "password": PASSWORD}).json["token"]
        clients[key] = (c, {"Authorization": f"Bearer {token}"})
    print(f"{'page':40} {'SQL/req':>7} {'median ms':>9} {'SQL ms':>7} {'render ms':>9}")
    for name, role, path, _target in PAGES:
        if args.pages and name != PAGES[0][0] and not any(w in name for w in args.pages.split(",")):
            continue
        client, headers = clients[role]
        for _ in range(3):
            assert client.get(path, headers=headers).status_code == 200, path
        times, sql_n, sql_t, rend = [], [], [], []
        prof = cProfile.Profile() if args.top else None
        for _ in range(args.n):
            sql.update(n=0, t=0.0, each=[])
            render["t"] = 0.0
            start = time.perf_counter()
            if prof:
                prof.enable()
            client.get(path, headers=headers)
            if prof:
                prof.disable()
            times.append((time.perf_counter() - start) * 1000)
            sql_n.append(sql["n"])
            sql_t.append(sql["t"] * 1000)
            rend.append(render["t"] * 1000)
        print(f"{name:40} {sql_n[-1]:7d} {statistics.median(times):9.1f} {statistics.median(sql_t):7.1f} "
              f"{statistics.median(rend):9.1f}", flush=True)
        if args.sql:
            for took, statement in sorted(sql["each"], reverse=True)[:args.sql]:
                print(f"    {took:7.1f} ms  {statement}")
        if prof:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(args.top)
            print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


if __name__ == "__main__":
    main()
