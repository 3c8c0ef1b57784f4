"""Trial-voucher application pages benchmark.

Builds a temporary SQLite database (``create_app`` with a temporary URI + ``db.create_all()``),
seeds 20,000 enterprises and 100,000 applications with bulk inserts (SQLAlchemy Core
``executemany``), the fund-ledger reservations of the approved ones, then requests with the
Flask test client, logged in as an officer and as an SME:

* the officer's review queue, first page (waiting for review, newest first);
* a filtered queue page (status + district);
* the queue with every status, sorted by amount;
* the SME's home for applications (its list and quota).

It prints the median and p95 latency (ms) over N requests each and the SQL statements per
page (a ``before_cursor_execute`` listener), with a bare route measured in the same run as the
reference (figures are noisy on a shared machine: compare ratios).

    .venv/bin/python bench/applications_bench.py [--n 100] [--enterprises 20000] [--applications 100000]

Target: each page under 150 ms median.  Timing is printed, never asserted.
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert, select  # noqa: E402

from voucher import create_app  # noqa: E402
from voucher.appnumbers import number_missing  # noqa: E402
from voucher.extensions import db  # noqa: E402

STATUS_WEIGHTS = {"submitted": 35, "draft": 12, "returned": 8, "rejected": 12, "withdrawn": 8, "approved": 1,
                  "trial_running": 0, "closed": 0}
PASSWORD = "bench-password-long-enough"
ENTERPRISE_CAP = Decimal("200000.00")  # the programme's default trial-voucher cap per enterprise


def seed(n_enterprises: int, n_applications: int, n_providers: int = 60, n_solutions: int = 300) -> dict:
    from voucher.applications.models import TrialApplication
    from voucher.audit.services import Actor
    from voucher.auth import services as auth_services
    from voucher.catalogue.models import Solution
    from voucher.enterprises.models import Enterprise, Organisation
    from voucher.programmes.models import FundLedgerEntry, Programme
    from voucher.reference import DISTRICTS, INDUSTRIES

    rng = random.Random(20261122)
    now = datetime.now(timezone.utc)
    today = date.today()
    programme = Programme(name="2026 pilot fund", year=today.year, budget=Decimal("50000000.00"),
                          opens_on=today - timedelta(days=300), closes_on=today + timedelta(days=60))
    db.session.add(programme)
    db.session.flush()
    from voucher.programmes.rule_versions import ensure_first_version
    ensure_first_version(programme)  # version 1, as create_programme makes it
    db.session.flush()

    org = Organisation.__table__
    db.session.execute(insert(org), [
        {"kind": "provider", "name": f"温州数字科技服务商 {i:03d}", "uscc": f"91330300SP{i:08d}", "created_at": now}
        for i in range(n_providers)])
    # Each enterprise its own phone, as in a city: one number for all of them would make every pair of
    # enterprises a shared-phone risk signal (see voucher.risk.detect).
    db.session.execute(insert(org), [
        {"kind": "enterprise", "name": f"温州制造企业 {i:05d} 有限公司", "uscc": f"91330300MA{i:08d}",
         "contact_name": "联系人", "contact_phone": f"0577-8{i:07d}", "created_at": now}
        for i in range(n_enterprises)])
    provider_ids = list(db.session.scalars(select(org.c.id).where(org.c.kind == "provider").order_by(org.c.id)))
    enterprise_ids = list(db.session.scalars(select(org.c.id).where(org.c.kind == "enterprise").order_by(org.c.id)))
    districts, industries = list(DISTRICTS), list(INDUSTRIES)
    sizes = ("micro", "small", "small", "medium")
    db.session.execute(insert(Enterprise.__table__), [
        {"organisation_id": oid, "district": districts[i % len(districts)], "industry": rng.choice(industries),
         "employees": rng.randint(5, 900), "annual_revenue": Decimal(rng.randint(1, 300) * 100000),
         "size_class": rng.choice(sizes)} for i, oid in enumerate(enterprise_ids)])

    solutions = []
    for i in range(n_solutions):
        trial_price = Decimal(rng.randint(2, 40) * 5000)
        solutions.append({"provider_id": provider_ids[i % n_providers], "title": f"数字化解决方案 {i:04d}",
                          "category": "mes", "target_industries": [], "description": "x",
                          "list_price": trial_price * 3, "trial_price": trial_price, "trial_period_days": 90,
                          "status": "recommended" if i % 20 == 0 else "listed", "created_at": now, "updated_at": now})
    db.session.execute(insert(Solution.__table__), solutions)
    sol_rows = db.session.execute(select(Solution.id, Solution.provider_id, Solution.trial_price)).all()

    statuses = [s for s, w in STATUS_WEIGHTS.items() for _ in range(w)]
    rows = []
    budget_left = programme.budget
    approved_of: dict[int, Decimal] = {}
    for n in range(n_applications):
        sol = sol_rows[rng.randrange(len(sol_rows))]
        enterprise_id = enterprise_ids[n % n_enterprises]
        status = rng.choice(statuses)
        amount = min(sol.trial_price, Decimal(rng.randint(1, 40) * 5000))
        created = now - timedelta(days=rng.randint(0, 290), minutes=rng.randint(0, 1440))
        submitted = None if status == "draft" or (status == "withdrawn" and n % 2) else created + timedelta(hours=2)
        if status == "approved":  # within the budget and the enterprise's cap, as the ledger would allow
            if amount > budget_left or approved_of.get(enterprise_id, 0) + amount > ENTERPRISE_CAP:
                status = "submitted"
            else:
                budget_left -= amount
                approved_of[enterprise_id] = approved_of.get(enterprise_id, 0) + amount
        rows.append({
            "programme_id": programme.id, "enterprise_id": enterprise_id, "solution_id": sol.id,
            "provider_id": sol.provider_id, "requested_amount": amount,
            "need_statement": "提升车间排产效率，减少订单延误。", "contract_date": created.date() + timedelta(days=5),
            "trial_start_date": created.date() + timedelta(days=10),
            "baseline_production_efficiency": Decimal("42.50"), "baseline_defect_rate": Decimal("3.10"),
            "status": status, "submitted_at": submitted,
            "decided_at": submitted + timedelta(days=3) if submitted and status in ("approved", "rejected") else None,
            "idempotency_token": f"bench-{n:08d}-{rng.getrandbits(40):010x}", "created_at": created,
            "updated_at": created})
    db.session.execute(insert(TrialApplication.__table__), rows)
    number_missing(TrialApplication)  # a Core INSERT bypasses the mapper's numbering

    # The ledger's reservations of the approved applications, with their running totals.
    approved = db.session.execute(select(TrialApplication.id, TrialApplication.enterprise_id,
                                         TrialApplication.provider_id, TrialApplication.requested_amount)
                                  .where(TrialApplication.status == "approved").order_by(TrialApplication.id)).all()
    reserved, per_enterprise, per_provider, entries = Decimal("0.00"), {}, {}, []
    for seq, a in enumerate(approved, start=1):
        reserved += a.requested_amount
        per_enterprise[a.enterprise_id] = per_enterprise.get(a.enterprise_id, Decimal("0.00")) + a.requested_amount
        per_provider[a.provider_id] = per_provider.get(a.provider_id, Decimal("0.00")) + a.requested_amount
        entries.append({"programme_id": programme.id, "seq": seq, "kind": "reserve", "funding_kind": "trial_voucher",
                        "amount": a.requested_amount, "enterprise_id": a.enterprise_id, "provider_id": a.provider_id,
                        "source_type": "trial_application", "source_id": a.id, "created_at": now,
                        "budget_at_entry": programme.budget, "reserved_after": reserved, "paid_after": Decimal("0.00"),
                        "enterprise_committed_after": per_enterprise[a.enterprise_id],
                        "enterprise_cap": None, "provider_committed_after": per_provider[a.provider_id],
                        "provider_cap": None, "source_outstanding_after": a.requested_amount})
    if entries:
        db.session.execute(insert(FundLedgerEntry.__table__), entries)

    officer_org = Organisation(kind="bureau", name="经信局")
    db.session.add(officer_org)
    db.session.flush()
    admin = Actor(user_id=None, role="admin", organisation_id=None, label="bench")
    auth_services.create_user(admin, email="officer@bench.example", name="Officer", password=PASSWORD,
                              role="officer", organisation_id=officer_org.id)
    auth_services.create_user(admin, email="sme@bench.example", name="SME", password=PASSWORD, role="sme",
                              organisation_id=enterprise_ids[7])
    db.session.commit()
    return {"approved": len(approved), "reserved": reserved}


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


def login(client, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--enterprises", type=int, default=20000)
    parser.add_argument("--applications", type=int, default=100000)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="voucher-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}", "STORAGE_DIR": str(tmp / "storage"),
                      "RATELIMIT_STORAGE_URI": "memory://", "ENV_NAME": "development", "WTF_CSRF_ENABLED": False,
                      "LOGIN_RATE_LIMIT": "1000 per minute", "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8,
                      "ARGON2_PARALLELISM": 1})

    @app.get("/__bench_ping")
    def ping():
        return "ok"

    from voucher.i18n import compile_catalog

    compile_catalog()
    counter = [0]
    with app.app_context():
        db.create_all()
        start = time.perf_counter()
        seeded = seed(args.enterprises, args.applications)
        seconds = time.perf_counter() - start
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(conn, cursor, statement, parameters, context, executemany):
            counter[0] += 1

    print(f"seeded {args.enterprises:,} enterprises and {args.applications:,} applications "
          f"({seeded['approved']:,} approved, {seeded['reserved']:,} yuan reserved) in {seconds:.1f} s; "
          f"{args.n} requests per page, SQLite at {tmp}")
    print(f"{'page':52} {'median ms':>10} {'p95 ms':>10} {'x ref':>8} {'SQL/page':>9}")
    officer = app.test_client()
    login(officer, "officer@bench.example")
    sme = app.test_client()
    login(sme, "sme@bench.example")
    scenarios = [
        ("bare route (reference)", officer, "/__bench_ping"),
        ("officer queue, first page (waiting, newest first)", officer, "/applications/review"),
        ("officer queue, status + district", officer, "/applications/review?status=submitted&district=ouhai"),
        ("officer queue, all statuses, by amount, page 50", officer,
         "/applications/review?status=&sort=amount_desc&page=50"),
        ("officer queue, industry + solution", officer,
         "/applications/review?status=&industry=pumps_valves&solution_id=5"),
        ("SME home for applications", sme, "/applications/mine"),
    ]
    reference = None
    for name, client, path in scenarios:
        median, p95, queries = measure(client, path, args.n, counter)
        reference = reference or median
        print(f"{name:52} {median:10.2f} {p95:10.2f} {median / reference:8.1f} {queries:9d}")
    print("target: median under 150 ms per page")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
