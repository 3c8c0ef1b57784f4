"""Benefits matching benchmark (免申即享, issue 19): the nightly match over the bureau's sources, timed
against one pass that only reads the same rows.

Seeds (bulk inserts, SQLAlchemy Core ``executemany``; not the import services, for speed) a temporary
SQLite database, or the PostgreSQL database given with ``--dsn`` (its tables are dropped and
created): 20,000 enterprises (a tenth of them large, so no candidate), 100,000 banks' loan interest
statement lines (four quarterly lines per contract, rates spread around the ceiling of 80% of the
LPR, so about half the contracts qualify), 50,000 robot purchase invoices (domestic or not, within
the last year) and a blacklist of 1% of the enterprises; one programme open today funding both kinds
and the LPR table.  Then it times

(a) the read pass: every statement line, invoice and enterprise (with its organisation) loaded by the
    ORM and iterated, nothing else;
(b) the real match, ``voucher.benefits.matching.match_candidates`` — the function ``flask voucher
    match`` and the nightly job call — with its commit (the audit chain is sealed at commit),

and prints rows, seconds each, the ratio (b)/(a) and the candidates made.

    .venv/bin/python bench/benefits_match_bench.py [--enterprises 20000] [--lines 100000] [--invoices 50000]
        [--dsn postgresql+psycopg://postgres@127.0.0.1:5432/voucher_bench_benefits] [--profile]

Timing is printed, never asserted.  ``--profile`` prints the match's 25 costliest functions (cProfile).
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from voucher import create_app  # noqa: E402
from voucher.extensions import db  # noqa: E402

LPR = ((date(2024, 10, 21), Decimal("3.10")), (date(2025, 5, 20), Decimal("3.00")))


def seed(n_enterprises: int, n_lines: int, n_invoices: int, today: date) -> dict:
    from voucher.benefits.models import BenefitBlacklist, BenefitInvoice, BenefitLoanLine, BenefitSource
    from voucher.enterprises.models import Enterprise, Organisation
    from voucher.programmes.models import LprRate, Programme
    from voucher.reference import DISTRICTS, INDUSTRIES

    rng = random.Random(20261204)
    now = datetime.now(timezone.utc)
    db.session.add(Programme(name="2026 智能制造专项", year=today.year, budget=Decimal("500000000.00"),
                             opens_on=today - timedelta(days=200), closes_on=today + timedelta(days=100)))
    db.session.add_all(LprRate(effective_from=day, rate_pct=rate) for day, rate in LPR)
    db.session.flush()

    org = Organisation.__table__
    db.session.execute(insert(org), [
        {"kind": "enterprise", "name": f"温州制造企业 {i:05d} 有限公司", "uscc": f"91330300MB{i:08d}",
         "contact_name": "联系人", "contact_phone": f"0577-8{i:07d}", "bank_name": "温州银行",
         "bank_account": f"6222{i:012d}", "created_at": now} for i in range(n_enterprises)])
    ids = list(db.session.execute(select(org.c.id, org.c.uscc).where(org.c.kind == "enterprise")
                                  .order_by(org.c.id)))
    districts, industries = list(DISTRICTS), list(INDUSTRIES)
    db.session.execute(insert(Enterprise.__table__), [
        {"organisation_id": oid, "district": districts[i % len(districts)], "industry": rng.choice(industries),
         "employees": rng.randint(5, 900), "annual_revenue": Decimal(rng.randint(1, 300) * 100000),
         "size_class": "large" if i % 10 == 9 else rng.choice(("micro", "small", "small", "medium"))}
        for i, (oid, _) in enumerate(ids)])
    usccs = [u for _, u in ids]

    sources = {}
    for kind in ("loan_statement", "robot_invoice", "blacklist"):
        sources[kind] = db.session.execute(insert(BenefitSource.__table__).values(
            kind=kind, filename=f"{kind}.csv", sha256=f"{kind:0<64}"[:64], size=0, row_count=0, refused_count=0,
            report=[], imported_at=now)).inserted_primary_key[0]

    # Loan statements: four quarterly lines per contract; enterprises with loans are a third of them.
    lines, n, contract = [], 0, 0
    while n < n_lines:
        uscc = usccs[(contract * 3) % len(usccs)]
        contract_date = today - timedelta(days=rng.randint(200, 500))
        rate = Decimal(rng.randint(200, 320)) / 100  # the ceiling is 2.40 / 2.48: about half qualify
        principal = Decimal(rng.randint(50, 1500) * 10000)
        start = today - timedelta(days=rng.randint(370, 400))
        for _ in range(min(4, n_lines - n)):
            end = start + timedelta(days=91)
            days = (end - start).days
            interest = (principal * rate / 100 * days / 360).quantize(Decimal("0.01"))
            lines.append({"source_id": sources["loan_statement"], "row_number": n + 2, "uscc": uscc,
                          "lender": "温州银行", "contract_no": f"WZ-{contract:07d}", "contract_key": f"WZ{contract:07d}",
                          "contract_date": contract_date, "loan_rate": rate, "outstanding_principal": principal,
                          "period_start": start, "period_end": end, "days": days, "interest_paid": interest})
            start, n = end, n + 1
        contract += 1
    for i in range(0, len(lines), 10000):
        db.session.execute(insert(BenefitLoanLine.__table__), lines[i:i + 10000])

    invoices = []
    for i in range(n_invoices):
        uscc = usccs[(i * 7 + 1) % len(usccs)]
        quantity = rng.randint(1, 4)
        key = f"3300{i:016d}"
        invoices.append({"source_id": sources["robot_invoice"], "row_number": i + 2, "uscc": uscc,
                         "invoice_no": key, "invoice_key": key, "model": f"ER{rng.randint(3, 210)}",
                         "manufacturer": rng.choice(("埃斯顿", "埃夫特", "新松", "ABB", "FANUC")),
                         "domestic": rng.random() < 0.6, "quantity": quantity,
                         "amount_excl_vat": Decimal(rng.randint(40, 400) * 1000 * quantity),
                         "invoice_date": today - timedelta(days=rng.randint(1, 360))})
    for i in range(0, len(invoices), 10000):
        db.session.execute(insert(BenefitInvoice.__table__), invoices[i:i + 10000])

    listed = [{"source_id": sources["blacklist"], "row_number": i + 2, "uscc": usccs[(i * 101) % len(usccs)],
               "listed_from": today - timedelta(days=100), "listed_to": None, "listed_by": "信用中国"}
              for i in range(max(1, n_enterprises // 100))]
    db.session.execute(insert(BenefitBlacklist.__table__), listed)
    db.session.commit()
    return {"contracts": contract, "blacklisted": len(listed)}


def read_pass() -> int:
    """Every statement line, invoice and enterprise (with its organisation), loaded and iterated."""
    from voucher.benefits.models import BenefitBlacklist, BenefitInvoice, BenefitLoanLine
    from voucher.enterprises.models import Enterprise, Organisation

    touched = 0
    for line in db.session.scalars(select(BenefitLoanLine)):
        touched += line.days
    for inv in db.session.scalars(select(BenefitInvoice)):
        touched += inv.quantity
    for org, ent in db.session.execute(select(Organisation, Enterprise)
                                       .join(Enterprise, Enterprise.organisation_id == Organisation.id)):
        touched += len(org.uscc or "") + len(ent.size_class)
    for row in db.session.scalars(select(BenefitBlacklist)):
        touched += len(row.uscc)
    return touched


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=20000)
    parser.add_argument("--lines", type=int, default=100000)
    parser.add_argument("--invoices", type=int, default=50000)
    parser.add_argument("--dsn", help="PostgreSQL SQLAlchemy URI (its tables are dropped and created)")
    parser.add_argument("--profile", action="store_true", help="print the match's costliest functions")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="voucher-benefits-bench-"))
    uri = args.dsn or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "STORAGE_DIR": str(tmp / "storage"),
                      "RATELIMIT_STORAGE_URI": "memory://", "ENV_NAME": "development", "REDIS_URL": None,
                      "SECRET_KEY": "bench-only-secret-not-for-production"})
    from voucher.audit.services import Actor
    from voucher.benefits.matching import match_candidates
    from voucher.benefits.models import BenefitCandidate

    today = date.today()
    with app.app_context():
        if args.dsn:
            db.drop_all()
        db.create_all()
        start = time.perf_counter()
        seeded = seed(args.enterprises, args.lines, args.invoices, today)
        seed_seconds = time.perf_counter() - start
        if not args.dsn:
            db.session.execute(db.text("ANALYZE"))
        else:
            db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.session.remove()

        start = time.perf_counter()
        read_pass()
        db.session.rollback()
        read_seconds = time.perf_counter() - start
        db.session.remove()

        actor = Actor(user_id=None, role="officer", organisation_id=None, label="bench officer")
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        start = time.perf_counter()
        counts = match_candidates(actor, today)
        db.session.commit()
        match_seconds = time.perf_counter() - start
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"voucher|sqlalchemy/orm/session", 45)
        db.session.remove()
        total = db.session.scalar(select(func.count()).select_from(BenefitCandidate))
        amount = db.session.scalar(select(func.sum(BenefitCandidate.amount))
                                   .where(BenefitCandidate.status == "open")) or Decimal("0.00")
        # Idempotent: a second run makes nothing new (and shows the cost of finding nothing).
        start = time.perf_counter()
        again = match_candidates(actor, today)
        db.session.commit()
        again_seconds = time.perf_counter() - start
        db.session.remove()
        db.engine.dispose()

    rows = args.enterprises + args.lines + args.invoices + seeded["blacklisted"]
    print(f"{'PostgreSQL' if args.dsn else 'SQLite'}; seeded {args.enterprises:,} enterprises, {args.lines:,} statement "
          f"lines ({seeded['contracts']:,} contracts), {args.invoices:,} invoices, {seeded['blacklisted']:,} listed "
          f"in {seed_seconds:.1f} s")
    print(f"{'':34} {'rows':>9} {'seconds':>9} {'x read':>8}")
    print(f"{'(a) read pass (ORM, iterate)':34} {rows:9,} {read_seconds:9.2f} {1:8.1f}")
    print(f"{'(b) match_candidates + commit':34} {rows:9,} {match_seconds:9.2f} {match_seconds / read_seconds:8.1f}")
    print(f"{'(c) match again (nothing new)':34} {rows:9,} {again_seconds:9.2f} {again_seconds / read_seconds:8.1f}")
    print(f"candidates made: {counts['robot']:,} robot, {counts['loan']:,} loan, {counts['excluded']:,} excluded "
          f"({total:,} rows, {amount:,} yuan open); second run: {sum(again.values())} new")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
