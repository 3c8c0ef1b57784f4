"""Deadline rush: a locust load test on PostgreSQL (issue 15; ``make bench-rush``).

Sets up its own database (``flask db upgrade``, then a generated data set: one programme, a
catalogue, enterprises with background applications, and one account per simulated user: SMEs,
programme officers, finance officers, auditors; plus a pool of trial advances already announced and
payable, for the finance officers), starts gunicorn (``-k sync -w 2``, as production) and an RQ worker
against PostgreSQL and Redis on loopback, runs locust headless (``bench/rush_locustfile.py``), stops
everything, and prints per request type the count, p50/p95/p99, the median CPU time the gunicorn worker
spent on it (``bench/rush_app.py``'s header: on a shared machine the wall-clock figures include the wait
for a core), 4xx and 5xx; the deadlocks found in
the PostgreSQL log (lines of this database only), the server logs and the 5xx bodies; and a check of
the fund ledger (no programme, enterprise or provider over its limit; running totals equal to the
sums of the entries; reservations equal to the approved applications).

    .venv/bin/python bench/deadline_rush.py                       # 100 users, 3 minutes
    .venv/bin/python bench/deadline_rush.py --users 20 --duration 30s

Production settings are kept (argon2's production profile, CSRF on, the limiter on Redis), except
the per-address login limit, raised with its documented setting for a shared network
(``VOUCHER_LOGIN_ADDRESS_RATE_LIMIT`` / ``VOUCHER_REAUTH_ADDRESS_RATE_LIMIT``: every simulated user
comes from 127.0.0.1, like a park behind one address); per-account limits are unchanged.
Targets: p95 < 300 ms per request type, no 5xx, no deadlock, the ledger consistent.  Printed,
and the exit status is 1 when the ledger is inconsistent or a 5xx or deadlock was seen.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV_BIN = Path(sys.executable).parent
PASSWORD = "rush-bench-password-long-enough"
PG_LOG = Path("/var/log/postgresql/postgresql-15-main.log")
MIX = {"sme": 0.60, "officer": 0.15, "finance": 0.10, "auditor": 0.15}  # share of the simulated users


def role_counts(users: int) -> dict[str, int]:
    counts = {role: max(1, round(users * share)) for role, share in MIX.items()}
    counts["finance"] = max(2, counts["finance"])  # a disbursement is approved by a second finance officer
    counts["sme"] = max(1, users - counts["officer"] - counts["finance"] - counts["auditor"])
    return counts


def parse_duration(text: str) -> int:
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s?)?", text.strip())
    if not m or not any(m.groups()):
        raise argparse.ArgumentTypeError(f"a duration such as 3m, 90s or 1m30s, not {text!r}")
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


# --- the data set ----------------------------------------------------------------------------------

# A one-page PDF, the file every simulated SME uploads for each required material.
MATERIAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
                b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


class _Upload:
    """An uploaded file as the materials service reads it (``stream`` and ``filename``)."""

    def __init__(self, filename: str) -> None:
        import io

        self.filename = filename
        self.stream = io.BytesIO(MATERIAL_PDF)

def seed(counts: dict[str, int], *, enterprises: int, applications: int, payables: int, headroom: Decimal,
         out: Path) -> dict:
    """Background data (``bench/applications_bench.seed``), accounts, the payable pool; writes ``out``."""
    from sqlalchemy import func, select, update

    from bench.applications_bench import seed as seed_background
    from voucher import create_app
    from voucher.applications import services as app_services
    from voucher.applications.models import TrialApplication
    from voucher.applications.services import Content
    from voucher.auth import passwords
    from voucher.auth.models import User
    from voucher.catalogue.models import Solution
    from voucher.db import utcnow
    from voucher.enterprises.models import Organisation
    from voucher.errors import BudgetExhausted, OverCap
    from voucher.extensions import db
    from voucher.materials import checklist_for
    from voucher.payments import services as payments
    from voucher.programmes.models import FundLedgerEntry, Programme
    from voucher.trials import services as trials

    app = create_app()
    with app.app_context(), app.test_request_context():
        from voucher.i18n import compile_catalog
        compile_catalog()
        seed_background(enterprises, applications, n_solutions=300)
        programme = db.session.scalar(select(Programme))
        db.session.execute(update(Organisation).where(Organisation.kind.in_(("provider", "enterprise")))
                           .values(bank_name="温州银行鹿城支行",
                                   bank_account=func.concat("62220203", func.lpad(func.cast(Organisation.id, db.String),
                                                                                  11, "0"))))
        bureau = db.session.scalar(select(Organisation).where(Organisation.kind == "bureau"))
        pw_hash = passwords.hash_password(PASSWORD)  # argon2's production profile; hashed once for every account
        now = utcnow()

        def account(role: str, i: int, org_id: int | None) -> User:
            user = User(email=f"{role}{i:03d}@rush.example", name=f"{role} {i:03d}", password_hash=pw_hash, role=role,
                        organisation_id=org_id, active=True, password_changed_at=now)
            db.session.add(user)
            return user

        ent_ids = list(db.session.scalars(select(Organisation.id).where(Organisation.kind == "enterprise")
                                          .order_by(Organisation.id)))
        # The rush's enterprises: distinct, from the end of the list (they have background applications too).
        sme_orgs = ent_ids[-counts["sme"]:]
        users = {"sme": [account("sme", i, org) for i, org in enumerate(sme_orgs)],
                 "officer": [account("officer", i, bureau.id) for i in range(counts["officer"])],
                 "finance": [account("finance", i, bureau.id) for i in range(counts["finance"])],
                 "auditor": [account("auditor", i, None) for i in range(counts["auditor"])]}
        db.session.flush()

        # The payable pool: trial applications submitted, approved and kicked off through the services,
        # then announced on a notice whose period has ended: each trial's 30% advance can be paid.
        solutions = db.session.execute(select(Solution.id, Solution.provider_id, Solution.trial_price)
                                       .where(Solution.status.in_(("listed", "recommended")))
                                       .order_by(Solution.id)).all()
        providers: dict[int, User] = {}
        officer = users["officer"][0]
        pool_orgs = ent_ids[:payables]
        required = [m.code for m in checklist_for(programme.id, "trial_voucher") if m.required]
        today = app_services.local_today()
        pool = []
        skipped = 0
        for i, org_id in enumerate(pool_orgs):
            sol = solutions[i % len(solutions)]
            if sol.provider_id not in providers:
                providers[sol.provider_id] = account("provider", len(providers), sol.provider_id)
                db.session.flush()
            sme = User(email=f"pool{i:04d}@rush.example", name=f"pool {i}", password_hash=pw_hash, role="sme",
                       organisation_id=org_id, active=True, password_changed_at=now)
            db.session.add(sme)
            db.session.flush()
            amount = min(sol.trial_price, Decimal("10000.00"))
            content = Content(requested_amount=amount, need_statement="排产与质量追溯。",
                              contract_date=today + timedelta(days=1), trial_start_date=today + timedelta(days=2),
                              baselines={"production_efficiency": Decimal("40.00")})
            try:
                with db.session.begin_nested():
                    app_row, _ = app_services.create_application(sme.actor(), token=secrets.token_urlsafe(24),
                                                                 programme_id=programme.id, solution_id=sol.id,
                                                                 content=content)
                    # The required materials, uploaded through the service as the SME's form does.
                    app_services.add_materials(sme.actor(), app_row.id,
                                               {code: [_Upload(f"{code}.pdf")] for code in required},
                                               max_bytes=app.config["UPLOAD_MAX_BYTES"])
                    app_services.submit(sme.actor(), app_row.id)
                    app_services.approve(officer.actor(), app_row.id)
            except (OverCap, BudgetExhausted):  # an enterprise already at its cap in the background data
                skipped += 1
                continue
            trial = trials.trial_for_application(app_row.id)
            trials.report_milestone(providers[sol.provider_id].actor(), trial.id, "kickoff", "已启动。")
            trials.confirm_milestone(sme.actor(), trial.id, "kickoff")
            pool.append({"source_type": "trial_application", "source_id": app_row.id, "milestone": "advance"})
            if i % 50 == 49:
                db.session.commit()
        db.session.commit()
        if skipped:
            print(f"  {skipped} pool enterprises skipped (at their cap in the background data)")
        payments.publish_notice(officer.actor(), programme.id, today=today - timedelta(days=40))
        # The budget: what is committed now plus a headroom the rush can use up (the budget check bites).
        committed = db.session.scalar(select(FundLedgerEntry.reserved_after).where(
            FundLedgerEntry.programme_id == programme.id).order_by(FundLedgerEntry.seq.desc()).limit(1)) or 0
        db.session.execute(update(Programme).where(Programme.id == programme.id)
                           .values(budget=Decimal(committed) + headroom))
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        data = {
            "password": PASSWORD, "programme_id": programme.id, "today": today.isoformat(),
            "users": {role: [u.email for u in us] for role, us in users.items()},
            "user_ids": {u.email: u.id for us in users.values() for u in us},
            "solutions": [{"id": s.id, "trial_price": str(s.trial_price)} for s in solutions],
            "payables": pool,
            # The checklist's required materials: each simulated SME uploads one PDF per code before submitting.
            "required_materials": required,
            "budget": str(Decimal(committed) + headroom),
            "applications": db.session.scalar(select(func.count()).select_from(TrialApplication)),
        }
        db.session.remove()
        db.engine.dispose()
    out.write_text(json.dumps(data))
    return data


# --- the ledger check ------------------------------------------------------------------------------

def check_ledger() -> list[tuple[str, bool, str]]:
    """(check, passed, detail) for the fund ledger after the run."""
    from sqlalchemy import BigInteger, case, func, select, type_coerce

    from voucher import create_app
    from voucher.applications.models import TrialApplication
    from voucher.extensions import db
    from voucher.programmes import services as ledger
    from voucher.programmes.models import FundLedgerEntry, Programme

    results = []
    app = create_app()
    with app.app_context():
        c = FundLedgerEntry.__table__.c
        fen = type_coerce(c.amount, BigInteger)
        signed = case((c.kind == "reserve", fen), (c.kind == "release", -fen), else_=0)
        for programme in db.session.scalars(select(Programme)):
            bal, again = ledger.balances(programme), ledger.recomputed_balances(programme)
            results.append((f"programme {programme.id}: running totals = sums of entries",
                            (bal.reserved, bal.paid) == (again.reserved, again.paid),
                            f"reserved {bal.reserved} / summed {again.reserved}; paid {bal.paid} / summed {again.paid}"))
            results.append((f"programme {programme.id}: reserved + paid <= budget",
                            bal.committed <= programme.budget,
                            f"{bal.committed} of {programme.budget} ({programme.budget - bal.committed} left)"))
            seqs = list(db.session.scalars(select(c.seq).where(c.programme_id == programme.id).order_by(c.seq)))
            results.append((f"programme {programme.id}: ledger sequence 1..n without gaps",
                            seqs == list(range(1, len(seqs) + 1)), f"{len(seqs)} entries"))
            # Per enterprise and per provider: commitment summed from the entries, against the caps and the
            # running totals the ledger keeps.
            for who, column, cap, running in (
                    ("enterprise", c.enterprise_id, programme.trial_cap_per_enterprise, ledger.enterprise_committed),
                    ("provider", c.provider_id, programme.provider_cap, None)):
                rows = db.session.execute(
                    select(column, func.sum(signed)).where(c.programme_id == programme.id,
                                                           c.funding_kind == "trial_voucher", column.is_not(None))
                    .group_by(column)).all()
                over = [(k, ledger._fen(v)) for k, v in rows if ledger._fen(v) > cap]
                results.append((f"programme {programme.id}: no {who} over its cap of {cap}", not over,
                                f"{len(rows)} {who}s; over: {over[:5]}"))
                if running is not None:
                    wrong = [k for k, v in rows
                             if running(programme.id, k, "trial_voucher") != ledger._fen(v)]
                    results.append((f"programme {programme.id}: each {who}'s running total = sum of its entries",
                                    not wrong, f"{len(rows)} checked; differing: {wrong[:5]}"))
                else:
                    wrong = [k for k, v in rows if ledger.provider_committed(programme.id, k) != ledger._fen(v)]
                    results.append((f"programme {programme.id}: each {who}'s running total = sum of its entries",
                                    not wrong, f"{len(rows)} checked; differing: {wrong[:5]}"))
            # Reservations against the applications: an application holding money is approved or later.
            outstanding = dict(db.session.execute(
                select(c.source_id, func.sum(case((c.kind == "reserve", fen), else_=-fen)))
                .where(c.programme_id == programme.id, c.source_type == "trial_application")
                .group_by(c.source_id)).all())
            holding = {"approved", "trial_running", "trial_completed", "evaluated", "closed"}
            states = dict(db.session.execute(select(TrialApplication.id, TrialApplication.status).where(
                TrialApplication.programme_id == programme.id)).all())
            reserved_twice = db.session.scalar(
                select(func.count()).select_from(
                    select(c.source_id).where(c.programme_id == programme.id, c.kind == "reserve",
                                              c.source_type == "trial_application")
                    .group_by(c.source_id).having(func.count() > 1).subquery()))
            bad = [k for k, v in outstanding.items() if v > 0 and states.get(k) not in holding]
            missing = [k for k, s in states.items() if s in holding and k not in outstanding]
            results.append((f"programme {programme.id}: money held only by approved applications, each reserved once",
                            not bad and not missing and not reserved_twice,
                            f"{len(outstanding)} reserved; held by others: {bad[:5]}; approved unreserved: "
                            f"{missing[:5]}; reserved twice: {reserved_twice}"))
        db.session.remove()
        db.engine.dispose()
    return results


# --- processes -------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(dsn: str) -> None:
    import psycopg

    base, name = dsn.replace("postgresql+psycopg", "postgresql").rsplit("/", 1)
    if not name.startswith("voucher_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the rush's database name must start with voucher_bench")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_up(base: str, proc: subprocess.Popen) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited at start (see its log)")
        try:
            urllib.request.urlopen(base + "/login", timeout=2)
            return
        except Exception:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer")


def pg_deadlocks(offset: int, dbname: str) -> list[str]:
    """Lines of the PostgreSQL log written since ``offset`` about this database that report a deadlock."""
    if not PG_LOG.exists():
        return [f"(PostgreSQL log {PG_LOG} not found: not checked)"]
    with PG_LOG.open("rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    return [line for line in text.splitlines() if f"@{dbname} " in line and "deadlock" in line.lower()]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(q / 100 * len(values) + 0.5)) - 1))
    return values[k]


def report(samples: dict, seconds: int, counts: dict, load: str, target_ms: float) -> tuple[str, int, int]:
    """The per-request-type table (markdown), total 5xx, and how many types miss the p95 target."""
    lines = ["| request | n | p50 ms | p95 ms | p99 ms | CPU ms p50 | 4xx | 5xx |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    total_5xx = over = 0
    everything = []
    for name in sorted(samples):
        rows = samples[name]
        times = [r[0] for r in rows]
        everything += times
        n4 = sum(1 for r in rows if 400 <= r[1] < 500)
        n5 = sum(1 for r in rows if r[1] >= 500 or r[1] == 0)
        total_5xx += n5
        p95 = percentile(times, 95)
        over += p95 >= target_ms
        mark = " ✗" if p95 >= target_ms else ""
        cpu = [r[2] for r in rows if len(r) > 2 and r[2] is not None]
        lines.append(f"| {name} | {len(rows)} | {percentile(times, 50):.0f} | {p95:.0f}{mark} | "
                     f"{percentile(times, 99):.0f} | {percentile(cpu, 50):.0f} | {n4} | {n5} |")
    cpu_total = sum(r[2] for rows in samples.values() for r in rows if len(r) > 2 and r[2] is not None) / 1000
    lines.append(f"| **all** ({len(everything) / max(seconds, 1):.1f} req/s; server CPU {cpu_total:.0f} s in "
                 f"{seconds} s) | {len(everything)} | "
                 f"{percentile(everything, 50):.0f} | {percentile(everything, 95):.0f} | "
                 f"{percentile(everything, 99):.0f} | | | {total_5xx} |")
    return "\n".join(lines), total_5xx, over


def show_profiles(folder: Path, top: int = 12) -> None:
    """CPU ms per request by request type, and each type's costliest functions (cumulative)."""
    import pstats
    from collections import defaultdict

    groups: dict[str, list[Path]] = defaultdict(list)
    for f in folder.glob("*.prof"):
        groups[f.name.rsplit(".", 2)[0]].append(f)
    samples = {}
    if (folder.parent / "samples.json").exists():
        samples = {re.sub(r"[^A-Za-z0-9_.-]+", "_", k.split(" (")[0]).strip("_"): len(v)
                   for k, v in json.loads((folder.parent / "samples.json").read_text()).items()}
    for name, files in sorted(groups.items()):
        stats = pstats.Stats(*map(str, files))
        calls = stats.total_calls
        n = samples.get(name)
        per = f", {stats.total_tt * 1000 / n:.1f} ms CPU per request over {n}" if n else ""
        print(f"\n=== {name}: {stats.total_tt:.2f} s CPU{per} ({calls} calls)")
        stats.sort_stats("cumulative").print_stats(top)


def machine_cpu_seconds() -> float:
    """CPU time the whole machine spent busy (all cores), from /proc/stat; 0 where it is absent."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:  # pragma: no cover
        return 0.0
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=parse_duration, default=parse_duration("3m"), help="e.g. 3m, 30s")
    parser.add_argument("--spawn-rate", type=float, default=5.0, help="users started (and signed in) per second")
    parser.add_argument("--wait", default="2,6", help="think time between a user's actions, min,max seconds")
    parser.add_argument("--dsn", default="postgresql+psycopg://postgres@127.0.0.1:5432/voucher_bench_rush",
                        help="PostgreSQL SQLAlchemy URI (the database is dropped and created)")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn sync workers (production's README command has 2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="more than 1: gunicorn's gthread workers with this many threads each, instead of sync "
                             "(the CPU column then counts every thread of the worker during the request)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/2", help="Redis URL (its database is flushed)")
    parser.add_argument("--enterprises", type=int, default=2000, help="background enterprises")
    parser.add_argument("--applications", type=int, default=10000, help="background applications")
    parser.add_argument("--payables", type=int, default=200, help="trial advances ready to pay at the start")
    parser.add_argument("--headroom", default="6000000.00", help="budget left for the rush to reserve (yuan)")
    parser.add_argument("--workdir", help="where logs, data and results go (default: a new temporary folder)")
    parser.add_argument("--argon2", choices=("production", "rfc9106"), default="production",
                        help="password hashing: production's profile (OWASP's argon2id recommendation: t=2, 19 MiB, "
                             "p=1) or argon2-cffi's default (RFC 9106 low-memory: t=3, 64 MiB, p=4) through "
                             "VOUCHER_ARGON2_*")
    parser.add_argument("--profile", action="store_true", help="gunicorn's workers write cProfile files to workdir")
    parser.add_argument("--show-profile", metavar="DIR", help="only print the profiles a --profile run wrote")
    args = parser.parse_args()
    if args.show_profile:
        show_profiles(Path(args.show_profile))
        return 0

    counts = role_counts(args.users)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="voucher-rush-"))
    work.mkdir(parents=True, exist_ok=True)
    dbname = args.dsn.rsplit("/", 1)[1]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DATABASE_URL=args.dsn, REDIS_URL=args.redis,
               SECRET_KEY="rush-bench-only-secret-" + "x" * 32, VOUCHER_STORAGE_DIR=str(work / "storage"),
               VOUCHER_PUBLIC_BASE_URL=base, PYTHONPATH=str(ROOT),
               # The documented setting for many users behind one address (a park, an office): every
               # simulated user comes from 127.0.0.1.  Per-account limits stay as in production.
               VOUCHER_LOGIN_ADDRESS_RATE_LIMIT="2000 per minute;20000 per hour",
               VOUCHER_REAUTH_ADDRESS_RATE_LIMIT="2000 per minute;20000 per hour")
    if args.argon2 == "rfc9106":
        env.update(VOUCHER_ARGON2_TIME_COST="3", VOUCHER_ARGON2_MEMORY_COST="65536", VOUCHER_ARGON2_PARALLELISM="4")
    if args.profile:
        env["RUSH_PROFILE_DIR"] = str(work / "profiles")
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
                       or k.startswith("VOUCHER_")})  # the seeder's app too (its password hash)
    sys.path.insert(0, str(ROOT))
    print(f"workdir {work}; users {counts}; {args.duration} s; database {dbname}; Redis {args.redis}", flush=True)

    import redis
    redis.Redis.from_url(args.redis).flushdb()
    # The nightly jobs (the whole-data risk scan, the benefits match) ran last night, as in production:
    # a flushed Redis would have the new worker run them in the middle of the rush.
    from voucher.deadlines import LOCAL_TZ
    from voucher.tasks import NIGHTLY_KEY
    redis.Redis.from_url(args.redis).set(NIGHTLY_KEY + datetime.now(LOCAL_TZ).date().isoformat(), "1", ex=24 * 3600)
    recreate_database(args.dsn)
    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.perf_counter()
    data = seed(counts, enterprises=args.enterprises, applications=args.applications, payables=args.payables,
                headroom=Decimal(args.headroom), out=work / "data.json")
    print(f"seeded in {time.perf_counter() - t0:.0f} s: {data['applications']} applications, "
          f"{len(data['payables'])} payable advances, budget {data['budget']}", flush=True)

    app_module = "bench.rush_app:app"  # wsgi:app plus an X-Rush-Cpu-Ms header (and the profiler with --profile)
    kind = ["-k", "gthread", "--threads", str(args.threads)] if args.threads > 1 else ["-k", "sync"]
    web = start([str(VENV_BIN / "gunicorn"), *kind, "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                 "--timeout", "60", "--log-level", "warning", app_module], env, work / "gunicorn.log")
    worker = start([str(VENV_BIN / "flask"), "--app", "wsgi", "voucher", "worker"], env, work / "worker.log")
    try:
        wait_up(base, web)
        pg_offset = PG_LOG.stat().st_size if PG_LOG.exists() else 0
        load_before = os.getloadavg()
        locust_env = dict(env, RUSH_DATA=str(work / "data.json"), RUSH_OUT=str(work), RUSH_WAIT=args.wait,
                          RUSH_COUNTS=json.dumps(counts))
        started = time.perf_counter()
        machine_before, children_before = machine_cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([str(VENV_BIN / "locust"), "-f", str(HERE / "rush_locustfile.py"), "--headless",
                        "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.duration}s",
                        "--host", base, "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING",
                        "--exit-code-on-error", "0"],
                       cwd=ROOT, env=locust_env, check=False, stdout=(work / "locust.log").open("wb"),
                       stderr=subprocess.STDOUT)
        elapsed = time.perf_counter() - started
        load_after = os.getloadavg()
        machine_used = machine_cpu_seconds() - machine_before
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_cpu = (children_after.ru_utime + children_after.ru_stime
                      - children_before.ru_utime - children_before.ru_stime)
    finally:
        stop(web)
        stop(worker)

    if not (work / "samples.json").exists():
        print((work / "locust.log").read_text("utf-8", "replace")[-3000:])
        raise SystemExit(f"locust wrote no samples (its log above, and {work})")
    samples = {name: rows for name, rows in json.loads((work / "samples.json").read_text()).items()}
    five_xx = json.loads((work / "errors.json").read_text()) if (work / "errors.json").exists() else []
    load = (f"{args.users} users ({', '.join(f'{v} {k}' for k, v in counts.items())}), think time {args.wait} s, "
            f"argon2 {args.argon2}, "
            f"{args.duration} s; load average {load_before[0]:.1f} before, {load_after[0]:.1f} at the end "
            f"(2 cores shared)")
    table, total_5xx, over = report(samples, int(elapsed), counts, load, 300.0)
    server_text = (work / "gunicorn.log").read_text("utf-8", "replace") + (work / "worker.log").read_text(
        "utf-8", "replace")
    deadlocks = pg_deadlocks(pg_offset, dbname)
    server_deadlocks = [line for line in server_text.splitlines() if "deadlock" in line.lower()]
    body_deadlocks = [e for e in five_xx if "deadlock" in e.get("body", "").lower()]
    tracebacks = server_text.count("Traceback (most recent call last)")
    ledger = check_ledger()

    print(f"\nDeadline rush on PostgreSQL: {load}")
    print(f"gunicorn {' '.join(kind)} -w {args.workers} + 1 RQ worker, loopback {base}; {data['applications']} applications at the start\n")
    print(table)
    print(f"\n5xx: {total_5xx}" + "".join(f"\n  {e['status']} {e['name']}: {e['body'][:300]!r}" for e in five_xx[:5]))
    print(f"deadlocks: {len(deadlocks)} in the PostgreSQL log, {len(server_deadlocks)} in the server logs, "
          f"{len(body_deadlocks)} in 5xx bodies" + "".join(f"\n  {line[:300]}" for line in deadlocks[:5]))
    print(f"tracebacks in the server logs: {tracebacks}")
    server_cpu = sum(r[2] for rows in samples.values() for r in rows if len(r) > 2 and r[2] is not None) / 1000
    split = (f"of it the web workers' requests {server_cpu:.0f} s, locust {locust_cpu:.0f} s, the rest (PostgreSQL, "
             f"Redis, the RQ worker, gunicorn itself) {machine_used - server_cpu - locust_cpu:.0f} s"
             if args.threads <= 1 else  # a threaded worker's CPU column counts its other threads too
             f"of it locust {locust_cpu:.0f} s (with threads the requests' CPU overlaps: no split)")
    print(f"CPU in {elapsed:.0f} s of {os.cpu_count()} cores ({elapsed * (os.cpu_count() or 1):.0f} core-seconds): "
          f"machine {machine_used:.0f} s, {split}")
    print("ledger:")
    for name, ok, detail in ledger:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
    print(f"\ntargets: p95 < 300 ms per request type ({over} over), 0 5xx ({total_5xx}), 0 deadlocks "
          f"({len(deadlocks) + len(server_deadlocks) + len(body_deadlocks)}), ledger consistent "
          f"({'yes' if all(ok for _n, ok, _d in ledger) else 'NO'})")
    (work / "results.md").write_text(f"{load}\n\n{table}\n")
    print(f"results and logs in {work}")
    failed = total_5xx or deadlocks or server_deadlocks or body_deadlocks or not all(ok for _n, ok, _d in ledger)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
