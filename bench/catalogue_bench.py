"""Public catalogue page benchmark.

Builds a temporary SQLite database, seeds listed solutions across providers, categories and
industries, then requests the public catalogue with the Flask test client (first page, a text
search, an industry filter, a sort by trial price) N times each and prints the median and p95
latency in ms and the number of SQL statements per page.  A bare route measured in the same
run is the reference (figures are noisy on a shared machine: compare ratios).

    .venv/bin/python bench/catalogue_bench.py [--n 200] [--solutions 1000]

The target is a median under 100 ms.  Timing is printed, never asserted.
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from voucher import create_app  # noqa: E402
from voucher.extensions import db  # noqa: E402

WORDS = ["智能", "仓储", "质量", "追溯", "MES", "ERP", "云", "能耗", "机器人", "检测", "排产", "设备", "运维",
         "数字化", "车间", "柔性", "设计", "订单", "物料", "看板"]


def seed(count: int, providers: int = 50) -> None:
    from voucher.catalogue.models import Solution
    from voucher.db import utcnow
    from voucher.enterprises.models import Organisation
    from voucher.reference import INDUSTRIES, SOLUTION_CATEGORIES

    rng = random.Random(20261121)
    orgs = [Organisation(kind="provider", name=f"温州数字科技服务商 {i:03d}") for i in range(providers)]
    db.session.add_all(orgs)
    db.session.flush()
    categories, industries = list(SOLUTION_CATEGORIES), list(INDUSTRIES)
    now = utcnow()
    for i in range(count):
        chosen = rng.sample(industries, rng.randint(1, 3))
        list_price = Decimal(rng.randint(20, 800) * 1000)
        trial_price = (list_price * Decimal(rng.randint(10, 60)) / 100).quantize(Decimal("0.01"))
        title = f"{''.join(rng.sample(WORDS, 3))}解决方案 {i:04d}"
        solution = Solution(
            provider_id=orgs[i % providers].id, title=title, category=categories[i % len(categories)],
            target_industries=[c for c in industries if c in chosen],
            description=" ".join(rng.sample(WORDS, 8)) * 4, list_price=list_price, trial_price=trial_price,
            trial_period_days=rng.choice([30, 60, 90, 180]),
            status="recommended" if i % 25 == 0 else "listed", created_at=now, updated_at=now,
            submitted_at=now, listed_at=now)
        db.session.add(solution)
    db.session.commit()


def measure(client, path: str, n: int, counter: list[int]) -> tuple[float, float, int]:
    for _ in range(5):  # warm up (template compilation, caches)
        assert client.get(path).status_code == 200, path
    times = []
    queries = 0
    for _ in range(n):
        counter[0] = 0
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, path
        queries = counter[0]
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--solutions", type=int, default=1000)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="voucher-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}", "STORAGE_DIR": str(tmp / "storage"),
                      "RATELIMIT_STORAGE_URI": "memory://", "ENV_NAME": "development"})

    @app.get("/__bench_ping")
    def ping():
        return "ok"

    from voucher.i18n import compile_catalog

    compile_catalog()
    counter = [0]
    with app.app_context():
        db.create_all()
        seed(args.solutions)

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(conn, cursor, statement, parameters, context, executemany):
            counter[0] += 1

    scenarios = [
        ("bare route (reference)", "/__bench_ping"),
        ("catalogue, first page", "/catalogue/"),
        ("text search 'MES'", "/catalogue/?q=MES"),
        ("industry filter (pumps and valves)", "/catalogue/?industry=pumps_valves"),
        ("sort by trial price, ascending", "/catalogue/?sort=price_asc"),
        ("sort by trial price, descending, page 3", "/catalogue/?sort=price_desc&page=3"),
        ("search + category + industry", "/catalogue/?q=%E4%BA%91&category=mes&industry=clothing"),
    ]
    client = app.test_client()
    print(f"{args.solutions} public solutions, {args.n} requests per page, SQLite at {tmp}")
    print(f"{'page':45} {'median ms':>10} {'p95 ms':>10} {'x ref':>8} {'SQL/page':>9}")
    reference = None
    for name, path in scenarios:
        median, p95, queries = measure(client, path, args.n, counter)
        reference = reference or median
        print(f"{name:45} {median:10.2f} {p95:10.2f} {median / reference:8.1f} {queries:9d}")
    print("target: median under 100 ms per catalogue page")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
