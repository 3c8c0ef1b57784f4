"""Demo data loads idempotently and every demo user can log in; RQ jobs run inside the app."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import do_login
from voucher.audit.services import verify_chain
from voucher.auth.models import User
from voucher.demo import seed
from voucher.extensions import db

ROLES = ("sme", "provider", "evaluator", "officer", "finance", "auditor", "admin", "park_operator")


def test_seed_is_idempotent_and_keeps_the_chain_valid(ctx):
    first = seed()
    assert first["users"] == 10 and first["enterprises"] == 12 and first["programmes"] == 1
    assert first["parks"] == 2  # 龙湾小微企业园 (the demo park operator) and a second park
    users = db.session.scalar(select(func.count()).select_from(User))
    assert seed() == {}
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert verify_chain().ok


@pytest.mark.parametrize("role", ROLES)
def test_each_demo_user_logs_in(client, ctx, role):
    seed()
    response = do_login(client, f"{role}@demo.test", f"demo-{role}-pass")
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def record_marker(label: str) -> int:
    """A job body: proves it runs inside the app context with a working database session."""
    from voucher.audit.services import Actor, record_event

    event = record_event(Actor.system("job"), "test.job_ran", "marker", label)
    return event.id


def test_rq_job_runs_in_the_app_context_and_commits(app, committed_app):
    from rq import SimpleWorker

    from voucher.audit.models import AuditEvent
    from voucher.tasks import AppJob, queue, redis_connection

    with app.app_context():
        conn = redis_connection()
        q = queue("voucher-test", connection=conn)
        q.empty()
        job = q.enqueue(record_marker, "hello")
        SimpleWorker([q], connection=conn, job_class=AppJob).work(burst=True)
        job.refresh()
        assert job.get_status() == "finished", job.latest_result()
        db.session.remove()
        stored = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == "hello"))
        assert stored is not None and stored.id == job.return_value()
