"""Fixtures for the document machinery: test builders registered for the duration of a test, a
burst RQ worker that drains the documents queue (running due retries too), and documents made
directly for the page tests."""
from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from voucher.documents import builders as registry
from voucher.documents.pdf import PaymentOrderData, payment_order_pdf
from voucher.extensions import db

ISSUED = datetime(2026, 3, 1, 2, 30, tzinfo=timezone.utc)

# The "disbursements" the test builder knows: subject id → (payee, amount).
ORDERS = {
    1: ("温州智造科技有限公司", Decimal("100000.00")),
    2: ("瓯海泵阀数字服务有限公司", Decimal("40000.00")),
    3: ("鹿城鞋革云科技有限公司", Decimal("123.45")),
}


def order_data(subject_id: int, code: str = "TESTCODE23", url: str = "http://127.0.0.1:5000/verify/TESTCODE23",
               lang: str = "zh", issued_at: datetime = ISSUED) -> PaymentOrderData:
    payee, amount = ORDERS.get(subject_id, (f"测试收款单位 {subject_id}", Decimal("1000.00") + subject_id))
    return PaymentOrderData(
        reference=f"DSB-2026-{subject_id:06d}", programme_name="2026年温州市中小企业数字化转型试点",
        payee_name=payee, bank_name="温州银行鹿城支行", bank_account=f"62220000{subject_id:08d}", amount=amount,
        purpose="试用券 — 30% 预拨款（企业已确认启动）" if lang == "zh" else "Trial voucher — 30% advance",
        issued_at=issued_at, verification_code=code, verification_url=url,
        working=["核定试用金额 ¥333,333.33 × 30% = ¥100,000.00", "按分四舍五入"],
        approvals=[("经办（财务）", "张三", ISSUED), ("审批（财务）", "李四", ISSUED)], lang=lang)


def payment_order_builder(subject_id: int, lang: str, issue):
    data = order_data(subject_id, issue.verification_code, issue.verification_url, lang, issue.issued_at)
    return (f"payment-order-{subject_id}.pdf", payment_order_pdf(data), "application/pdf",
            f"DSB-2026-{subject_id:06d}")


@pytest.fixture()
def test_builders():
    """Register the test payment-order builder; restore the registries afterwards."""
    saved = (dict(registry._builders), dict(registry.KINDS), dict(registry._download_rules))
    registry.register_builder("payment_order", payment_order_builder)
    yield registry
    registry._builders.clear()
    registry._builders.update(saved[0])
    registry.KINDS.clear()
    registry.KINDS.update(saved[1])
    registry._download_rules.clear()
    registry._download_rules.update(saved[2])


class CommittedUser:
    """A committed user's plain facts (survive the session being removed between worker runs)."""

    def __init__(self, id: int, email: str, password: str | None, actor):
        self.id, self.email, self.password, self._actor = id, email, password, actor

    def actor(self):
        return self._actor


class JobsEnv:
    """Real commits (committed_app), a real RQ queue and a burst SimpleWorker."""

    def __init__(self, app):
        from voucher.documents.jobs import DOCUMENT_QUEUE
        from voucher.tasks import queue, redis_connection

        self.app = app
        self.conn = redis_connection()
        self.queue = queue(DOCUMENT_QUEUE, connection=self.conn)
        self.token = secrets.token_hex(8)

    def counter(self, name: str) -> int:
        """A counter kept in Redis (survives a job's rollback), unique to this test run."""
        key = f"voucher-test:{self.token}:{name}"
        value = int(self.conn.incr(key))
        self.conn.expire(key, 600)
        return value

    def clear_queue(self) -> None:
        self.queue.empty()
        for registry_ in (self.queue.scheduled_job_registry, self.queue.failed_job_registry,
                          self.queue.finished_job_registry):
            for job_id in registry_.get_job_ids():
                registry_.remove(job_id, delete_job=True)
        started = self.queue.started_job_registry  # entries are job:execution pairs; no remove()
        for job_id in started.get_job_ids(cleanup=False):
            self.conn.delete(f"rq:job:{job_id}")
        self.conn.delete(started.key)

    def queued_count(self) -> int:
        return self.queue.count

    def work(self, max_jobs: int | None = None) -> None:
        """One burst of a SimpleWorker (with the scheduler, so due retries are enqueued first)."""
        from rq import SimpleWorker

        from voucher.tasks import AppJob

        db.session.remove()
        worker = SimpleWorker([self.queue], connection=self.conn, job_class=AppJob)
        worker.work(burst=True, with_scheduler=True, max_jobs=max_jobs, logging_level="WARNING")
        db.session.remove()

    def drain(self, timeout: float = 60) -> None:
        """Work until nothing is queued or scheduled (waiting for delayed retries to fall due)."""
        deadline = time.monotonic() + timeout
        while True:
            self.work()
            if self.queue.count == 0 and self.queue.scheduled_job_registry.count == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError("the documents queue did not drain in time")
            time.sleep(0.25)

    def user(self, role: str, password: str | None = None) -> "CommittedUser":
        from tests.factories import build_user

        user = build_user(role, password=password)
        db.session.commit()
        return CommittedUser(user.id, user.email, password, user.actor())

    def fresh(self, model, ident):
        db.session.remove()
        return db.session.get(model, ident)


@pytest.fixture()
def jobs_env(committed_app, test_builders):
    with committed_app.app_context():
        env = JobsEnv(committed_app)
        env.clear_queue()
        try:
            yield env
        finally:
            env.clear_queue()
            db.session.remove()


def make_document(kind: str = "payment_order", subject_type: str = "disbursement", subject_id: int = 1,
                  data: bytes | None = None, status: str = "valid", version: int = 1, subject_label: str = ""):
    """A stored document made directly (no job), for page tests."""
    from voucher.audit.services import Actor
    from voucher.documents.jobs import new_verification_code
    from voucher.documents.models import Document
    from voucher.storage import save_generated

    data = data or b"%PDF-1.4 test document " + str(subject_id).encode()
    stored = save_generated(Actor.system("test"), data, f"{kind}-{subject_id}.pdf", "application/pdf",
                            owner_type="document", owner_id=None, purpose=kind)
    document = Document(kind=kind, subject_type=subject_type, subject_id=subject_id, version=version,
                        stored_file_id=stored.id, sha256=stored.sha256, verification_code=new_verification_code(),
                        status=status, lang="zh", subject_label=subject_label)
    db.session.add(document)
    db.session.flush()
    stored.owner_id = document.id
    db.session.flush()
    return document
